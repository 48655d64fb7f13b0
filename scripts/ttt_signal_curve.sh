#!/usr/bin/env bash
# Trains a TTT layer in stages and measures it after each: SKIP, UPDATE_1, Random (at its
# expectation), Oracle and Ours (recon-ema, rho 0.5) on held-out file units, and Pearson r of
# every signal with the advantage. train-ttt resumes from its checkpoint, so each stage only
# trains the steps it adds. One line per stage goes to OUT/curve.tsv. Usage:
#   scripts/ttt_signal_curve.sh MODEL_DIR OUT_DIR STEPS...   (e.g. ... 300 1000 2000)
# env: TTT_ARGS (extra train-ttt options, e.g. "--eta-decay 0 --batch 2 --bf16"),
#      TRAIN (default the python-stdlib train split), HELD_OUT (default its test split),
#      PONDER, THREADS.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 3 ]; then
  echo "usage: $0 MODEL_DIR OUT_DIR STEPS..." >&2
  exit 2
fi
ponder="${PONDER:-build/app/ponder}"
model="$1" out="$2"
shift 2
train="${TRAIN:-datasets/build/python-stdlib/train}"
held_out="${HELD_OUT:-datasets/build/python-stdlib/test}"
threads="${THREADS:-2}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
mkdir -p "$out"
db="$out/curve.sqlite"
curve="$out/curve.tsv"
[ -f "$curve" ] || printf 'step\tskip\tupdate1\tupdate1_over_skip\trandom\toracle\tours\tours_rate\tgap_captured\tr_recon_step0\tr_recon_init\tr_recon_step1\tr_improvement\tr_entropy\tr_confidence\tr_loss_skip\n' > "$curve"

for steps in "$@"; do
  # shellcheck disable=SC2086  # TTT_ARGS is a list of options on purpose
  "$ponder" train-ttt --model "$model" "$train" --steps "$steps" --threads "$threads" \
    --checkpoint-every 100 --db "$out/train.sqlite" --quiet ${TTT_ARGS:-}
  "$ponder" eval --model "$model" "$held_out" --mode file --policy recon-ema --rate 0.5 \
    --threads "$threads" --db "$db" --label "step-$steps" --quiet > "$out/step-$steps.txt"
  "$ponder" export --db "$db" --run latest --out "$out/step-$steps" > /dev/null
  summary=$(awk '
    $1 == "SKIP" { skip = $2 }
    $1 == "UPDATE_1" { update = $2 }
    $1 == "Random" { random = $3 }
    $1 == "Oracle" { oracle = $2 }
    $1 == "Ours" { ours = $3; rate = $4 }
    END { printf "%s\t%s\t%.4f\t%s\t%s\t%s\t%s\t%.1f%%", skip, update, update / skip, random,
                 oracle, ours, rate, 100 * (random - ours) / (random - oracle) }' "$out/step-$steps.txt")
  # By name, in the header's order (table 3 may list more signals than the curve keeps).
  correlations=$(awk -F, '
    NR > 1 { r[$2] = $3 }
    END {
      n = split("recon_step0 recon_init recon_step1 improvement entropy confidence loss_skip", s, " ")
      for (i = 1; i <= n; ++i) printf "%s%s", (i > 1 ? "\t" : ""), r[s[i]]
    }' "$out/step-$steps/table3_correlation.csv")
  printf '%s\t%s\t%s\n' "$steps" "$summary" "$correlations" | tee -a "$curve"
done
