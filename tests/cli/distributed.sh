#!/usr/bin/env bash
# Past one process, on loopback (docs/scaling-out.md): `eval --nproc 2` stores and writes the
# same run as one process (bit for bit at the same --threads), in file and paper mode; the
# studio opens such a stored run; torchrun-style ranks (RANK, WORLD_SIZE, MASTER_*) that
# disagree on the model or inputs, an unreachable master and a port in use are one-line
# errors; a rank killed mid-run stops the run, which is stored failed with the units that
# reached rank 0; `train-ttt` and `train-base --nproc 2` equal one process within rounding,
# and a run resumed with another --nproc equals an uninterrupted one.
set -uo pipefail
ponder="$1"; studio="$2"; png_check="$3"; diff_tool="$4"; work="$5"
rm -rf "$work"; mkdir -p "$work"
source "$(dirname "$0")/expect.sh"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# JSON without what differs between any two runs (timings, start time, threads).
same_json() {
  python3 - "$1" "$2" <<'PY'
import json, sys
def core(path):
    run = json.load(open(path))
    for unit in run["units"]:
        unit.pop("seconds")
    for key in ("seconds", "started_at", "tokens_per_second"):
        run["run"].pop(key)
    return run
a, b = core(sys.argv[1]), core(sys.argv[2])
assert len(a["units"]) > 4, len(a["units"])
assert a == b, [k for k in a if a[k] != b[k]]
PY
}

model="$work/model"
expect "make-test-model" 0 "$ponder" make-test-model "$model" --layers 2 --embd 32 --heads 2 \
  --ttt --corpus /usr/lib/python3.11/json --vocab 512 --seed 3
folder=/usr/lib/python3.11/json
eval_args=(--model "$model" "$folder" --chunk 64 --threads 1 --quiet)

# --- The same run from 1 and 2 ranks ---
for mode in file paper; do
  expect "eval --mode $mode, one process" 0 "$ponder" eval "${eval_args[@]}" --mode "$mode" \
    --json "$work/one-$mode.json" --db "$work/one.sqlite"
  expect "eval --mode $mode --nproc 2" 0 "$ponder" eval "${eval_args[@]}" --mode "$mode" --nproc 2 \
    --json "$work/two-$mode.json" --db "$work/two.sqlite"
  same_json "$work/one-$mode.json" "$work/two-$mode.json" \
    && pass "$mode mode: 2 ranks give the JSON of 1 rank, every unit bit for bit" \
    || fail "$mode mode: 2 ranks differ from 1 rank"
done
one_units=$(sqlite3 "$work/one.sqlite" "SELECT group_concat(unit || ':' || loss_skip || ':' || loss_update || ':' || recon_step0, ',') FROM (SELECT * FROM unit WHERE run_id = 1 ORDER BY unit)")
two_units=$(sqlite3 "$work/two.sqlite" "SELECT group_concat(unit || ':' || loss_skip || ':' || loss_update || ':' || recon_step0, ',') FROM (SELECT * FROM unit WHERE run_id = 1 ORDER BY unit)")
[ -n "$one_units" ] && [ "$one_units" = "$two_units" ] \
  && pass "the stored units of the 2-rank run equal the 1-rank run's" || fail "stored units differ"
expect "ponder runs on the 2-rank store" 0 "$ponder" runs --db "$work/two.sqlite"
[ "$(grep -c complete "$work/out")" = 2 ] && pass "both 2-rank runs are stored complete" \
  || fail "runs: $(cat "$work/out")"
expect "export the 2-rank run" 0 "$ponder" export --db "$work/two.sqlite" --run 1 --out "$work/export"
"$ponder" export --db "$work/one.sqlite" --run 1 --out "$work/export1" >/dev/null 2>&1
python3 - "$work/export/units.csv" "$work/export1/units.csv" <<'PY' \
  && pass "units.csv of the 2-rank run equals the 1-rank run's but for timings" || fail "units.csv differs"
import csv, sys
a, b = ([{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(open(p))]
        for p in sys.argv[1:3])
assert len(a) > 4 and a == b
PY
expect "--fast with --nproc is refused" 2 "$ponder" eval "${eval_args[@]}" --nproc 2 --fast --signal recon_init
expect_message "the refusal says why" "runs in one process"

# Not under the sanitizers: the studio needs its own LeakSanitizer set-up there, which
# "studio: screenshot under Xvfb" has (tests/sanitizers/sanitizers.cmake); what this checks,
# a store written by 2 ranks, is the same in both builds.
if command -v xvfb-run >/dev/null && [ -x "$studio" ] && [ -z "${ASAN_OPTIONS:-}" ]; then
  export XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data"
  mkdir -p "$XDG_DATA_HOME/ponder-studio"
  cp "$work/two.sqlite" "$XDG_DATA_HOME/ponder-studio/runs.sqlite"
  timeout 300 xvfb-run -a -s '-screen 0 1280x800x24' "$studio" --model "$model" \
    --open "$folder/decoder.py" --compare 1 --screenshot "$work/studio.png" --frames 20 \
    >"$work/studio.out" 2>"$work/studio.err"
  status=$?
  if [ "$status" = 0 ] && ! grep -q "^error:" "$work/studio.err" && "$png_check" "$work/studio.png" 1280 800 >/dev/null; then
    pass "the studio opens a run stored by 2 ranks beside a new one"
  else
    fail "studio on the 2-rank run: exit $status; $(tail -3 "$work/studio.err")"
  fi
  unset XDG_CONFIG_HOME XDG_DATA_HOME
else
  echo "skip the studio check: xvfb-run or the studio is missing, or a sanitizer build"
fi

# --- torchrun's variables: ranks that disagree, a master nobody runs, a port in use ---
as_rank() {  # as_rank RANK PORT LOG ARGS... (in the background)
  local rank="$1" port="$2" log="$3"; shift 3
  RANK="$rank" WORLD_SIZE=2 LOCAL_RANK="$rank" MASTER_ADDR=127.0.0.1 MASTER_PORT="$port" \
    timeout 60 "$ponder" eval "$@" >"$log.out" 2>"$log.err" &
}
expect "make another model of the same shape" 0 "$ponder" make-test-model "$work/other" --layers 2 \
  --embd 32 --heads 2 --ttt --corpus /usr/lib/python3.11/json --vocab 512 --seed 4
# mismatched NAME MESSAGE RANK1_ARGS...: rank 0 runs eval_args, rank 1 the given arguments;
# both exit 1, rank 0 alone says MESSAGE (one error line and its hint).
mismatched() {
  local name="$1" message="$2"; shift 2
  local port; port=$(free_port)
  as_rank 0 "$port" "$work/r0" "${eval_args[@]}" --rank-timeout 20
  local pid0=$!
  as_rank 1 "$port" "$work/r1" "$@" --chunk 64 --threads 1 --quiet --rank-timeout 20
  local pid1=$!
  wait "$pid0"; local status0=$?
  wait "$pid1"; local status1=$?
  if [ "$status0" = 1 ] && [ "$status1" = 1 ] && grep -qx "error: $message" "$work/r0.err" \
     && [ "$(wc -l <"$work/r0.err")" = 2 ] && [ ! -s "$work/r1.err" ]; then
    pass "$name"
  else
    fail "$name: $status0/$status1; $(cat "$work/r0.err" "$work/r1.err" | head -c 400)"
  fi
}
mismatched "ranks with different models both stop; rank 0 alone names rank 1's backbone" \
  "rank 1's backbone SHA-256 differs from rank 0's" --model "$work/other" "$folder"
mismatched "ranks with different inputs both stop; rank 0 says so" \
  "rank 1's input plan differs from rank 0's" --model "$model" "$folder/decoder.py"

port=$(free_port)
RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT="$port" \
  expect "rank 1 with no master" 1 "$ponder" eval "${eval_args[@]}" --rank-timeout 2
expect_message "it names the master it cannot reach" "^error: rank 1 cannot reach the master \(rank 0\) at 127.0.0.1:$port within 2 s"
RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT="$port" \
  expect "rank 0 whose rank 1 never comes" 1 "$ponder" eval "${eval_args[@]}" --rank-timeout 2
expect_message "it says how many joined" "only 1 of 2 ranks joined"
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True); time.sleep(60)' >"$work/busy.port" &
busy=$!
for _ in $(seq 50); do [ -s "$work/busy.port" ] && break; sleep 0.1; done
busy_port=$(cat "$work/busy.port")
RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT="$busy_port" \
  expect "rank 0 on a port in use" 1 "$ponder" eval "${eval_args[@]}" --rank-timeout 2
expect_message "it names the port and --master-port" "cannot listen on port $busy_port"
grep -q "^hint: .*--master-port" "$work/err" && pass "the hint names --master-port" || fail "hint: $(cat "$work/err")"
start=$(date +%s)
timeout 60 "$ponder" eval "${eval_args[@]}" --nproc 2 --master-port "$busy_port" --rank-timeout 2 \
  >"$work/busy.out" 2>"$work/busy.err"
status=$?
took=$(( $(date +%s) - start ))
[ "$status" = 1 ] && grep -q "^error: rank 0 cannot listen on port $busy_port" "$work/busy.err" && [ "$took" -lt 30 ] \
  && pass "--nproc 2 on a port in use stops in ${took} s" \
  || fail "--nproc 2 on a busy port: exit $status after ${took} s; $(head -c 300 "$work/busy.err")"
kill "$busy" 2>/dev/null; wait "$busy" 2>/dev/null

# --- A rank killed mid-run ---
# The bundled-size run is slow enough to kill in the middle: a wider model on more files.
expect "make a slower model" 0 "$ponder" make-test-model "$work/slow" --layers 4 --embd 256 --heads 4 \
  --ttt --corpus /usr/lib/python3.11/json --vocab 512 --seed 5
"$ponder" eval --model "$work/slow" /usr/lib/python3.11/email --chunk 256 --threads 1 --nproc 2 \
  --rank-timeout 3 --db "$work/killed.sqlite" >"$work/killed.out" 2>"$work/killed.err" &
launcher=$!
rank1=""
for _ in $(seq 600); do
  units=$(sqlite3 "$work/killed.sqlite" "SELECT count(*) FROM unit" 2>/dev/null || echo 0)
  [ "${units:-0}" -gt 0 ] && break
  sleep 0.1
done
for child in $(pgrep -P "$launcher"); do
  tr '\0' '\n' <"/proc/$child/environ" 2>/dev/null | grep -qx "RANK=1" && rank1=$child
done
if [ -n "$rank1" ]; then
  start=$(date +%s)
  kill -9 "$rank1"
  wait "$launcher"; status=$?
  took=$(( $(date +%s) - start ))
  stored=$(sqlite3 "$work/killed.sqlite" "SELECT status FROM run")
  kept=$(sqlite3 "$work/killed.sqlite" "SELECT count(*) FROM unit")
  planned=$(sqlite3 "$work/killed.sqlite" "SELECT units FROM run" 2>/dev/null || echo "?")
  if [ "$status" != 0 ] && [ "$took" -le 20 ] && grep -q "rank 1 stopped responding (no heartbeat for 3 s)" "$work/killed.err" \
     && grep -q "rank 1 (pid $rank1) was killed by signal 9" "$work/killed.err" && [ "$stored" = failed ] && [ "$kept" -gt 0 ]; then
    pass "a killed rank 1 stops the run in ${took} s; stored failed with $kept units that reached rank 0"
  else
    fail "killed rank: exit $status after ${took} s, run '$stored' with $kept units; $(head -c 400 "$work/killed.err")"
  fi
  ! pgrep -P "$launcher" >/dev/null && pass "no rank outlives the launcher" || fail "ranks left running"
else
  kill "$launcher" 2>/dev/null; wait "$launcher" 2>/dev/null
  fail "could not find rank 1 of the run to kill: $(head -c 300 "$work/killed.err")"
fi

# --- Data-parallel training ---
corpus=/usr/lib/python3.11/json
ttt_args=(--model "$model" "$corpus" --chunk 64 --batch 4 --no-dropout --threads 1 --quiet --checkpoint-every 1)
expect "train-ttt, one process, 4 steps" 0 "$ponder" train-ttt "${ttt_args[@]}" --steps 4 --out "$work/ttt1"
expect "train-ttt --nproc 2, 4 steps" 0 "$ponder" train-ttt "${ttt_args[@]}" --steps 4 --out "$work/ttt2" --nproc 2
"$diff_tool" "$work/ttt1/ttt.safetensors" "$work/ttt2/ttt.safetensors" 1e-5 >"$work/diff" \
  && pass "train-ttt over 2 ranks equals one process ($(cat "$work/diff"))" || fail "train-ttt 2 ranks: $(cat "$work/diff")"
expect "train-ttt --nproc 2, stopped at 2 steps" 0 "$ponder" train-ttt "${ttt_args[@]}" --steps 2 --out "$work/ttt-resume" --nproc 2
expect "the same run resumed in one process to 4 steps" 0 "$ponder" train-ttt "${ttt_args[@]}" --steps 4 --out "$work/ttt-resume"
"$diff_tool" "$work/ttt1/ttt.safetensors" "$work/ttt-resume/ttt.safetensors" 1e-5 >"$work/diff" \
  && pass "resumed with another --nproc, it equals the uninterrupted run" || fail "resume: $(cat "$work/diff")"
# decoder.py packs into 39 windows of 2 x 64 tokens: batches of 19, 19 and 1, so the last
# batch leaves rank 1 without a row (it adds zeros and takes the same step).
small=(--model "$model" "$corpus/decoder.py" --chunk 64 --batch 19 --steps 6 --no-dropout --threads 1 --quiet)
expect "train-ttt over a last batch of 1 row, one process" 0 "$ponder" train-ttt "${small[@]}" --out "$work/tail1"
expect "train-ttt over a last batch of 1 row, 2 ranks" 0 "$ponder" train-ttt "${small[@]}" --out "$work/tail2" --nproc 2
"$diff_tool" "$work/tail1/ttt.safetensors" "$work/tail2/ttt.safetensors" 1e-5 >"$work/diff" \
  && pass "a batch with fewer rows than ranks trains as one process" || fail "short batch: $(cat "$work/diff")"
expect "train-ttt --nproc 5 for a batch of 4" 1 "$ponder" train-ttt "${ttt_args[@]}" --steps 1 --out "$work/ttt5" --nproc 5
expect_message "more ranks than rows is refused" "leave a rank without work"

base_args=(--tokenizer "$model" "$corpus" --layers 1 --embd 32 --heads 2 --positions 128 --sequence 64 \
  --batch 4 --steps 3 --warmup 1 --dropout 0 --threads 1 --quiet)
expect "train-base, one process" 0 "$ponder" train-base "${base_args[@]}" --out "$work/base1"
expect "train-base --nproc 2" 0 "$ponder" train-base "${base_args[@]}" --out "$work/base2" --nproc 2
"$diff_tool" "$work/base1/model.safetensors" "$work/base2/model.safetensors" 1e-5 >"$work/diff" \
  && pass "train-base over 2 ranks equals one process ($(cat "$work/diff"))" || fail "train-base 2 ranks: $(cat "$work/diff")"

echo "$checks checks, $failures failures"
[ "$failures" = 0 ]
