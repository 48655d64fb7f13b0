#!/usr/bin/env bash
# Trains the bundled default model (assets/default-model): a tokenizer and a GPT-2 backbone on
# the broad backbone-mix corpus (documentation and other languages, Python 1.8%), then the TTT
# layer on the Python stdlib train split, then calibration on the held-out split. Every stage
# resumes where it stopped (run the script again); training curves go to $work/train.sqlite.
# The TTT stages are measured on held-out units as they go ($work/ttt-curve/curve.tsv).
#   scripts/train_default_model.sh [WORK_DIR]    (default build/default-model-train)
# env: BASE_STEPS (1000), TTT_STAGES ("600 1200 2000": the last one is what ships, about one
#      pass over the train split, see MODEL_CARD.md), ETA_DECAY (0.3), THREADS.
set -euo pipefail
cd "$(dirname "$0")/.."
ponder="${PONDER:-build/app/ponder}"
work="${1:-build/default-model-train}"
corpus=datasets/build/python-stdlib
mix=datasets/build/backbone-mix
threads="${THREADS:-2}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"  # no spinning when other work shares the cores

[ -d "$corpus/train" ] && [ -d "$mix/train" ] || bash datasets/build_all.sh
mkdir -p "$work"
[ -f "$work/tokenizer/vocab.json" ] ||
  "$ponder" train-tokenizer "$mix/train" --out "$work/tokenizer" --vocab 8192

"$ponder" train-base "$mix/train" --tokenizer "$work/tokenizer" --out "$work/model" \
  --layers 4 --embd 256 --heads 4 --positions 512 --sequence 512 --batch 8 \
  --steps "${BASE_STEPS:-1000}" --warmup 100 --lr 2e-3 --min-lr-ratio 0.1 --seed 42 \
  --checkpoint-every 100 --bf16 --threads "$threads" --db "$work/train.sqlite"

# The TTT layer in stages, each measured on the held-out split (train-ttt resumes).
# shellcheck disable=SC2086  # TTT_STAGES is a list of step counts
TTT_ARGS="--batch 2 --lr 3e-4 --ssl-weight 0.1 --seed 42 --eta-decay ${ETA_DECAY:-0.3} --bf16" \
  THREADS="$threads" scripts/ttt_signal_curve.sh "$work/model" "$work/ttt-curve" ${TTT_STAGES:-600 1200 2000}

# File-mode units: the studio's and `ponder eval`'s default, so `--calibration profile` fits them.
"$ponder" calibrate --model "$work/model" "$corpus/test" --mode file --threads "$threads" --quiet

# The shipped directory: model files only (no training checkpoints).
mkdir -p assets/default-model
for f in config.json model.safetensors vocab.json merges.txt ttt.safetensors ttt.json calibration.json; do
  cp "$work/model/$f" assets/default-model/
done
echo "default model written to assets/default-model"
