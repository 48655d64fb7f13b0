#!/usr/bin/env bash
# Trains the bundled default model (assets/default-model) from the Python stdlib corpus:
# tokenizer, GPT-2 backbone, TTT layer, calibration. Every stage resumes where it stopped
# (run the script again); training curves go to $work/train.sqlite. Usage:
#   scripts/train_default_model.sh [WORK_DIR]    (default build/default-model-train)
set -euo pipefail
cd "$(dirname "$0")/.."
ponder="${PONDER:-build/app/ponder}"
work="${1:-build/default-model-train}"
corpus=datasets/build/python-stdlib
threads="${THREADS:-2}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"  # no spinning when other work shares the cores

[ -d "$corpus/train" ] || bash datasets/build_all.sh
mkdir -p "$work"
[ -f "$work/tokenizer/vocab.json" ] ||
  "$ponder" train-tokenizer "$corpus/train" --out "$work/tokenizer" --vocab 8192

"$ponder" train-base "$corpus/train" --tokenizer "$work/tokenizer" --out "$work/model" \
  --layers 4 --embd 256 --heads 4 --positions 512 --sequence 256 --batch 8 \
  --steps "${BASE_STEPS:-1200}" --warmup 50 --lr 2e-3 --min-lr-ratio 0.1 --seed 42 \
  --checkpoint-every 50 --threads "$threads" --db "$work/train.sqlite"

"$ponder" train-ttt --model "$work/model" "$corpus/train" --chunk 512 --batch 16 \
  --steps "${TTT_STEPS:-150}" --lr 3e-4 --ssl-weight 0.1 --seed 42 --checkpoint-every 25 \
  --threads "$threads" --db "$work/train.sqlite"

# File-mode units: the studio's and `ponder eval`'s default, so `--calibration profile` fits them.
"$ponder" calibrate --model "$work/model" "$corpus/test" --mode file --threads "$threads" --quiet

# The shipped directory: model files only (no training checkpoints).
mkdir -p assets/default-model
for f in config.json model.safetensors vocab.json merges.txt ttt.safetensors ttt.json calibration.json; do
  cp "$work/model/$f" assets/default-model/
done
echo "default model written to assets/default-model"
