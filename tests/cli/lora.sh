#!/usr/bin/env bash
# LoRA fast weights (algorithm.md §2.7) through the real `ponder` binary: train-ttt
# --fast-weights lora on a frozen test backbone writes a LoRA checkpoint; eval treats it as the
# UPDATE path with the signals it has (entropy, confidence, loss_skip, their UPDATE-path twins)
# and no inner loop (adv_inner 0); export replays it; and what it lacks is refused in one line
# (a reconstruction signal, --fast, --causal-k, generation, LoRA options without lora).
set -uo pipefail
source "$(dirname "$0")/expect.sh"
setup_work "$@"

model="$work/model"
real=/usr/lib/python3.11/json/decoder.py
expect "make-test-model" 0 "$ponder" make-test-model "$model" --layers 2 --embd 32 --heads 2 --seed 4
expect "LoRA options without --fast-weights lora are a usage error" 2 "$ponder" train-ttt \
  --model "$model" "$real" --lora-rank 8 --steps 1
expect "train-ttt --fast-weights lora" 0 "$ponder" train-ttt --model "$model" "$real" \
  --fast-weights lora --lora-rank 8 --steps 3 --batch 2 --chunk 64 --quiet
grep -q '"fast_weights": "lora"' "$model/ttt.json" && grep -q '"lora_rank": 8' "$model/ttt.json" \
  && pass "ttt.json names the LoRA layer and its rank" || fail "ttt.json: $(cat "$model/ttt.json")"

expect "eval on LoRA gates on entropy" 0 "$ponder" eval --model "$model" "$real" --chunk 64 \
  --signal entropy --static-path --db "$work/runs.sqlite" --json "$work/lora.json" --quiet
python3 - "$work/lora.json" <<'PY' && pass "LoRA units: UPDATE path, no reconstruction, no inner loop" || fail "LoRA eval JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["run"]["ttt"]["fast_weights"] == "lora", d["run"]["ttt"]
units = d["units"]
assert len(units) >= 3
for u in units:
    assert u["recon_step0"] is None and u["recon_init"] is None and u["improvement"] is None, u
    assert u["entropy"] is not None and u["entropy_update"] is not None, u
    assert u["loss_update"] != u["loss_skip"], u  # the layer changes the path
    assert u["adv_inner"] == 0.0 and u["adv_static"] == u["advantage"], u
assert len(d["policies"]["recon-ema"]["decisions"]) == len(units)
PY
expect "export of the LoRA run" 0 "$ponder" export --db "$work/runs.sqlite" --run latest \
  --out "$work/export"
python3 - "$work/export/table3_correlation.csv" <<'PY' && pass "export replays it with the signals it has" || fail "table3 of the LoRA run"
import csv, sys
rows = {r["Signal"]: r for r in csv.DictReader(open(sys.argv[1]))}
float(rows["entropy"]["Pearson r (all)"])  # a number
assert rows["recon_step0"]["Pearson r (all)"] == "n/a", rows["recon_step0"]
PY

expect "the default signal recon_step0 is refused" 1 "$ponder" eval --model "$model" "$real" \
  --chunk 64 --quiet
expect_message "it names the missing signal and the ones there are" "recon_step0.*LoRA"
expect "a policy reading improvement is refused" 1 "$ponder" eval --model "$model" "$real" \
  --chunk 64 --signal entropy --policy recon-ema --policy improvement-topk --quiet
expect "the gated fast path is refused" 1 "$ponder" eval --model "$model" "$real" --chunk 64 \
  --signal entropy --fast --quiet
expect "the diagonal ablation is refused" 1 "$ponder" eval --model "$model" "$real" --chunk 64 \
  --signal entropy --causal-k -1 --quiet
head -c 300 "$real" >"$work/prompt.py"
expect "generation is refused" 1 "$ponder" generate --model "$model" --prompt "$work/prompt.py" \
  --max-tokens 4 --quiet
[ "$failures" -eq 0 ] && echo "ok LoRA fast weights ($checks checks)" || { echo "$failures failure(s)"; exit 1; }
