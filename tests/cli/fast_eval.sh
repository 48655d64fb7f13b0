#!/usr/bin/env bash
# `ponder eval --fast` (the gated fast path, stored): UPDATE values only where the gate updated,
# "not computed" (JSON null) elsewhere and for what needs every unit (Oracle, recovery); Ours
# equal to the same gate on a both-paths run; a gate that needs the update refused before
# anything is stored; export of the stored run.
set -uo pipefail
source "$(dirname "$0")/expect.sh"
setup_work "$@"

model="$work/model"
expect "make-test-model --ttt" 0 "$ponder" make-test-model "$model" --layers 2 --embd 32 --heads 2 --seed 4 --ttt
real=/usr/lib/python3.11/json/decoder.py
common=(--model "$model" "$real" --chunk 64 --signal recon_init --rate 0.4 --quiet)
expect "eval --fast on recon_init" 0 "$ponder" eval "${common[@]}" --fast --db "$work/runs.sqlite" \
  --json "$work/fast.json"
expect "the same gate on both paths" 0 "$ponder" eval "${common[@]}" --json "$work/full.json"
python3 - "$work/fast.json" "$work/full.json" <<'PY' && pass "fast run: null where not computed, Ours as on both paths" || fail "fast run JSON"
import json, sys
fast, full = (json.load(open(p)) for p in sys.argv[1:3])
assert fast["run"]["fast_gate"] == "recon-ema", fast["run"]["fast_gate"]
assert full["run"]["fast_gate"] is None
units, whole = fast["units"], full["units"]
assert len(units) == len(whole) > 8
computed = [u["loss_update"] is not None for u in units]
assert any(computed) and not all(computed), computed
ours, ours_full = fast["policies"]["recon-ema"], full["policies"]["recon-ema"]
for u, w, c, d in zip(units, whole, computed, ours["decisions"]):
    assert c == bool(d), "the gate's UPDATE units are exactly the computed ones"
    assert abs(u["loss_skip"] - w["loss_skip"]) < 1e-9
    if c:
        assert abs(u["loss_update"] - w["loss_update"]) < 1e-9
    else:
        assert u["advantage"] is None and u["recon_step0"] is None
assert ours["decisions"] == ours_full["decisions"]
assert abs(ours["loss"] - ours_full["loss"]) < 1e-9
oracle = fast["policies"]["oracle"]
assert oracle["loss"] is None and ours["recovery"] is None
assert full["policies"]["oracle"]["loss"] is not None
PY

before=$(sqlite3 "$work/runs.sqlite" "SELECT count(*) FROM run")
expect "eval --fast on recon_step0 (known only after the update)" 1 "$ponder" eval --model "$model" \
  "$real" --chunk 64 --fast --db "$work/runs.sqlite" --quiet
expect_message "the refusal names the signal" "recon_step0"
[ "$(sqlite3 "$work/runs.sqlite" "SELECT count(*) FROM run")" = "$before" ] \
  && pass "a refused fast run stores nothing" || fail "a refused fast run left a run row"
[ "$(sqlite3 "$work/runs.sqlite" "SELECT count(*) FROM unit WHERE loss_update IS NULL")" -gt 0 ] \
  && pass "the store keeps not-computed UPDATE losses as NULL" || fail "no NULL loss_update stored"

expect "export the fast run with figures" 0 "$ponder" export --db "$work/runs.sqlite" --run latest \
  --out "$work/export" --figures png
grep -q "n/a" "$work/export/table1_main.md" && pass "table 1 says n/a for the Oracle" \
  || fail "table 1: $(cat "$work/export/table1_main.md")"
[ -s "$work/export/fig_overview.png" ] && pass "figures of a fast run render" || fail "no overview figure"

echo "$checks checks, $failures failures"
[ "$failures" = 0 ]
