#!/usr/bin/env bash
# Trains the learned gates of docs/gates.md (§2 gumbel, §3 ranknet and listnet) for the bundled
# default model and evaluates them beside Reconstruction Gating on the held-out Python split.
# The corpus is evaluated once (every third file of the Python train split, sorted: about a
# third of it, to fit a session on two cores) and the cache is shared by the three kinds.
# Usage: scripts/train_default_gate.sh [WORK_DIR]   env: STEPS (2000), RATE (0.5), THREADS (2)
set -euo pipefail
cd "$(dirname "$0")/.."
ponder="${PONDER:-build/app/ponder}"
work="${1:-build/default-gate-train}"
model=assets/default-model
corpus=datasets/build/python-stdlib
threads="${THREADS:-2}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
[ -d "$corpus/train" ] || bash datasets/build_all.sh
mkdir -p "$work"
mapfile -t files < <(find "$corpus/train" -name '*.py' | LC_ALL=C sort | awk 'NR % 3 == 1')
echo "training corpus: ${#files[@]} files"
first=""
for kind in gumbel ranknet listnet; do
  out="$work/$kind"
  mkdir -p "$out"
  # The same corpus and model give the same cache: evaluate it once.
  if [ -n "$first" ] && [ ! -f "$out/gate-units.json" ]; then cp "$first/gate-units.json" "$out/"; fi
  "$ponder" train-gate --model "$model" --out "$out" --kind "$kind" --rate "${RATE:-0.5}" \
    --steps "${STEPS:-2000}" --threads "$threads" --db "$work/train.sqlite" "${files[@]}"
  first="${first:-$out}"
done
"$ponder" eval --model "$model" "$corpus/test" --mode file --threads "$threads" --quiet \
  --policy recon-ema --policy "gate:$work/gumbel" --policy "gate:$work/ranknet" \
  --policy "gate:$work/listnet" --db "$work/eval.sqlite" --json "$work/eval-python-file.json"
echo "gates in $work; results in $work/eval.sqlite (ponder export --db $work/eval.sqlite --out DIR)"
# The bundled gate: ListNet, the kind that holds its target rate (docs/gates.md §5).
mkdir -p "$model/gate"
cp "$work/listnet/gate.json" "$work/listnet/gate.safetensors" "$model/gate/"
echo "bundled gate written to $model/gate"
