#!/usr/bin/env bash
# Faults (issue "Hardening"): kill -9 a real `ponder eval --db` and a real `ponder train-ttt`
# mid-run. Reopening must find every unit that was committed before the kill (nothing lost,
# nothing half-written) and a latest training checkpoint that loads and resumes. SIGINT and
# SIGTERM must stop them cleanly, the run or training marked cancelled.
set -uo pipefail
source "$(dirname "$0")/../cli/expect.sh"
setup_work "$@"
export OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1
model="$work/model"
corpus=/usr/lib/python3.11/email
"$ponder" make-test-model "$model" --layers 2 --embd 32 --heads 2 --seed 7 --ttt >/dev/null \
  || { echo "FAIL cannot make the test model"; exit 1; }
units() { sqlite3 "$work/runs.sqlite" "SELECT COUNT(*) FROM unit WHERE run_id = $1" 2>/dev/null || echo 0; }
# Waits (at most 30 s) until train-ttt process PID has written its first checkpoint to DIR.
wait_for_checkpoint() {
  local pid="$1" dir="$2"
  for _ in $(seq 600); do
    [ -d "$dir/checkpoint-ttt" ] && return
    kill -0 "$pid" 2>/dev/null || return
    sleep 0.05
  done
}

# kill -9 during eval --db, twice: wait until some batches are committed, then kill anywhere.
for round in 1 2; do
  "$ponder" eval --model "$model" "$corpus" --chunk 64 --db "$work/runs.sqlite" --label "round$round" --quiet &
  pid=$!
  for _ in $(seq 600); do
    [ "$(units "$round")" -ge $((40 * round)) ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  committed=$(units "$round")
  kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  after=$(units "$round")
  [ "$committed" -gt 0 ] && [ "$after" -ge "$committed" ] \
    && pass "eval round $round: the $committed units seen before the kill are all there ($after)" \
    || fail "eval round $round: $committed units before the kill, $after after"
  expect "eval round $round: runs lists the killed run" 0 "$ponder" runs --db "$work/runs.sqlite"
  grep -q "round$round" "$work/out" && pass "eval round $round: listed" || fail "runs: $(cat "$work/out")"
  # Units are contiguous from 0: a batch is committed whole or not at all.
  gaps=$(sqlite3 "$work/runs.sqlite" "SELECT COUNT(*) - (MAX(unit) + 1) FROM unit WHERE run_id = $round")
  [ "$gaps" = 0 ] && pass "eval round $round: stored units are 0..n-1 without gaps" \
    || fail "eval round $round: units are not contiguous ($gaps)"
done
# Ctrl-C (SIGINT) during eval --db: a clean cancel, the run marked cancelled with its units.
"$ponder" eval --model "$model" "$corpus" --chunk 64 --db "$work/runs.sqlite" --label interrupted --quiet &
pid=$!
for _ in $(seq 600); do
  [ "$(units 3)" -ge 40 ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
kill -INT "$pid"; wait "$pid"; status=$?
[ "$status" != 0 ] && [ "$status" -lt 128 ] && pass "Ctrl-C ends eval with a non-zero status ($status), not a signal" \
  || fail "Ctrl-C: exit status $status"
[ "$(sqlite3 "$work/runs.sqlite" 'SELECT status FROM run WHERE id = 3')" = cancelled ] \
  && pass "the interrupted run is marked cancelled" || fail "status: $(sqlite3 "$work/runs.sqlite" 'SELECT status FROM run WHERE id = 3')"
[ "$(units 3)" -ge 40 ] && [ "$(sqlite3 "$work/runs.sqlite" 'SELECT COUNT(*) - (MAX(unit) + 1) FROM unit WHERE run_id = 3')" = 0 ] \
  && pass "the cancelled run keeps its $(units 3) units, contiguous" || fail "cancelled run units: $(units 3)"
[ "$(sqlite3 "$work/runs.sqlite" 'PRAGMA integrity_check')" = ok ] && pass "integrity_check ok" || fail "integrity_check"
expect "a new run after two kills" 0 "$ponder" eval --model "$model" /usr/lib/python3.11/json/decoder.py \
  --chunk 64 --db "$work/runs.sqlite" --label after --quiet
expect "the run after the kills exports" 0 "$ponder" export --db "$work/runs.sqlite" --run latest --out "$work/export"

# kill -9 during train-ttt right after a checkpoint, then resume to the end.
out="$work/trained"
train=("$ponder" train-ttt --model "$model" /usr/lib/python3.11/json --out "$out" --chunk 64 --batch 2
       --steps 40 --checkpoint-every 3 --seed 1 --quiet)
"${train[@]}" >/dev/null 2>&1 &
pid=$!
wait_for_checkpoint "$pid" "$out"
sleep 0.3
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
[ -d "$out/checkpoint-ttt" ] && pass "train-ttt left a checkpoint before the kill" || fail "no checkpoint after the kill"
expect "train-ttt resumes after kill -9" 0 "${train[@]}"
grep -qi "resum" "$work/out" "$work/err" && pass "it said it resumed" || fail "no resume message: $(head -c 300 "$work/err")"
expect "the resumed TTT checkpoint evaluates" 0 "$ponder" eval --model "$model" --force-checkpoint \
  /usr/lib/python3.11/json/decoder.py --chunk 64 --quiet

# SIGTERM (`kill`, `timeout`, a job scheduler) during train-ttt --db: a clean stop, as Ctrl-C.
stopped="$work/terminated"
"$ponder" train-ttt --model "$model" /usr/lib/python3.11/json --out "$stopped" --chunk 64 \
  --batch 2 --steps 5000 --checkpoint-every 3 --seed 1 --quiet --db "$work/train.sqlite" \
  >/dev/null 2>&1 &
pid=$!
wait_for_checkpoint "$pid" "$stopped"
kill -TERM "$pid"; wait "$pid"; status=$?
[ "$status" -lt 128 ] && pass "SIGTERM stops train-ttt itself (status $status), not the signal" \
  || fail "SIGTERM: exit status $status"
training=$(sqlite3 "$work/train.sqlite" 'SELECT status FROM training ORDER BY id DESC LIMIT 1')
[ "$training" = cancelled ] && pass "the terminated training is marked cancelled" \
  || fail "terminated training is '$training'"
[ -f "$stopped/ttt.safetensors" ] && pass "the terminated training wrote its TTT layer" \
  || fail "no ttt.safetensors after SIGTERM"

echo
echo "kill during work: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
