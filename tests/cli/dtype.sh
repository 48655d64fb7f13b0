#!/usr/bin/env bash
# `--dtype bf16` on a GPT-2 backbone: the backbone held and computed in bfloat16, the TTT layer,
# losses and signals in float32 (design.md §3). The stored run and its JSON say bfloat16, every
# unit's losses stay within 1% of the float32 run's, and the decisions of a threshold policy
# move only where a signal sits next to its threshold; `ponder bench --dtype f32,bf16` prints
# both rates, their ratio and the differences in one run.
set -uo pipefail
source "$(dirname "$0")/expect.sh"
setup_work "$@"

model="$work/model"
expect "make-test-model --ttt" 0 "$ponder" make-test-model "$model" --layers 2 --embd 64 --heads 4 --seed 9 --ttt
real=/usr/lib/python3.11/json/decoder.py
common=(--model "$model" "$real" --chunk 64 --static-path --quiet)
expect "eval in float32" 0 "$ponder" eval "${common[@]}" --json "$work/f32.json"
expect "eval --dtype bf16, stored" 0 "$ponder" eval "${common[@]}" --dtype bf16 --json "$work/bf16.json" \
  --db "$work/runs.sqlite"
python3 - "$work/f32.json" "$work/bf16.json" <<'PY' && pass "bf16 run: bfloat16, losses within 1% of float32's" || fail "bf16 run JSON"
import json, sys
f32, bf16 = (json.load(open(p)) for p in sys.argv[1:3])
assert f32["run"]["dtype"] == "float32" and bf16["run"]["dtype"] == "bfloat16"
assert len(f32["units"]) == len(bf16["units"]) > 4
largest = 0.0
for a, b in zip(f32["units"], bf16["units"]):
    for key in ("loss_skip", "loss_update", "loss_static", "recon_init", "recon_step0"):
        rel = abs(a[key] - b[key]) / abs(a[key])
        largest = max(largest, rel)
        assert rel < 1e-2, (key, a[key], b[key])
assert largest > 0, "the bf16 run computed exactly as float32: it did not use bfloat16"
print("largest relative difference", largest)
PY
[ "$(sqlite3 "$work/runs.sqlite" "SELECT dtype FROM run")" = bfloat16 ] \
  && pass "the stored run says bfloat16" || fail "stored dtype: $(sqlite3 "$work/runs.sqlite" "SELECT dtype FROM run")"

expect "bench --dtype f32,bf16" 0 "$ponder" bench --seconds 0.3 --shape small --length 64 \
  --unit-length 64 --dtype f32,bf16
grep -q '^unit, f32 .* tokens/s' "$work/out" && grep -q '^unit, bf16 .* tokens/s' "$work/out" \
  && grep -qE 'bf16 / f32 = [0-9.]+x; largest relative difference over 8 random units: losses [0-9.e+-]+, signals' "$work/out" \
  && pass "bench prints both dtypes, the ratio and the differences" \
  || fail "bench --dtype output: $(cat "$work/out")"
expect "bench --dtype with an unknown dtype" 2 "$ponder" bench --seconds 0.1 --dtype f32,f16
expect_message "names the dtype" "f16"

echo "$checks checks, $failures failed"
[ "$failures" = 0 ]
