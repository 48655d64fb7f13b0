#!/usr/bin/env bash
# Measures the default model's results table (MODEL_CARD.md): held-out Python in file and
# paper units, and each out-of-distribution language in paper units (the first
# $OOD_UNITS units, as the published evaluation takes the first N batches). Runs go to
# $out/results.sqlite; tables to $out/tables/ (with the advanced-* gates and the model's learned
# gate, MODEL_DIR/gate, beside Ours).  Usage:
#   scripts/evaluate_default_model.sh [MODEL_DIR] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
ponder="${PONDER:-build/app/ponder}"
model="${1:-assets/default-model}"
out="${2:-build/default-model-eval}"
ood_units="${OOD_UNITS:-128}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
[ -d datasets/build/python-stdlib/test ] || bash datasets/build_all.sh
mkdir -p "$out"
db="$out/results.sqlite"
rm -f "$db" "$db-wal" "$db-shm"

run() {  # run LABEL ARGS...: one stored evaluation with recon-ema at rate 0.5, with the
  # static path so the tables split the advantage (advantage_split, table3's last columns)
  local label="$1"; shift
  "$ponder" eval --model "$model" --policy recon-ema --rate 0.5 --db "$db" --label "$label" \
    --static-path --quiet "$@"
}
run python-file datasets/build/python-stdlib/test --mode file
run python-paper datasets/build/python-stdlib/test --mode paper
run go-paper datasets/build/go-std/ood --mode paper --max-units "$ood_units"
run javascript-paper datasets/build/js-three-lodash/ood --mode paper --max-units "$ood_units"
run java-paper datasets/build/java-react-native/ood --mode paper --max-units "$ood_units"
"$ponder" runs --db "$db"
# Ours (recon-ema) beside the authors' inverted gating and the earlier releases' gates
# (docs/gates.md §1-3).
gate=()
[ -f "$model/gate/gate.json" ] && gate=(--policy "gate:$model/gate")
"$ponder" export --db "$db" --run 1 --run 2 --run 3 --run 4 --run 5 --out "$out/tables" \
  --policy recon-ema --policy recon-ema-inverted --policy advanced-threshold \
  --policy advanced-budget --policy advanced-budget-ema "${gate[@]}"
cat "$out/tables/table9_update1.md" "$out/tables/table1_main.md" "$out/tables/table8_random.md" \
  "$out/tables/gates_same_rate.md" "$out/tables/advantage_split.md" "$out/tables/table3_correlation.md"
