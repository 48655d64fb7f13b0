#!/usr/bin/env bash
# `ponder generate` end to end on a tiny model: streamed text equal to the stored and JSON
# text, a seed that reproduces it, --stop, a prompt on stdin, the stream stored as a run that
# `runs`, `export` and the studio (--run, pixels checked) open, Ctrl-C stored as cancelled,
# one-line errors for bad prompts, options and outputs; and `bench-code --model` on problems
# written here.
#   generate.sh PONDER STUDIO|none PNG_CHECK|none WORK
set -uo pipefail
ponder="$1"; studio="$2"; png_check="$3"; work="$4"
rm -rf "$work"; mkdir -p "$work"
source "$(dirname "$0")/expect.sh"

model="$work/model"
expect "make-test-model --ttt" 0 "$ponder" make-test-model "$model" --layers 2 --embd 32 --heads 2 \
  --positions 512 --seed 4 --ttt
prompt="$work/prompt.py"
head -c 300 /usr/lib/python3.11/json/decoder.py >"$prompt"  # fits the 512 positions
common=(--model "$model" --prompt "$prompt" --max-tokens 80 --chunk 64 --threads 1 --quiet
        --no-stop-at-eot)

expect "sampled generation, stored and written as JSON" 0 "$ponder" generate "${common[@]}" \
  --temperature 0.9 --top-p 0.95 --seed 3 --decide-every minibatch --db "$work/runs.sqlite" \
  --json "$work/gen.json"
cp "$work/out" "$work/first.txt"
expect "the same seed again" 0 "$ponder" generate "${common[@]}" --temperature 0.9 --top-p 0.95 \
  --seed 3 --decide-every minibatch
cmp -s "$work/first.txt" "$work/out" && pass "a seed reproduces the text" \
  || fail "the same seed gave another text"
expect "another seed" 0 "$ponder" generate "${common[@]}" --temperature 0.9 --top-p 0.95 --seed 4 \
  --decide-every minibatch
cmp -s "$work/first.txt" "$work/out" && fail "another seed gave the same text" \
  || pass "another seed gives another text"

python3 - "$work/gen.json" "$work/first.txt" <<'PY' && pass "JSON: the eval contract plus the generation" || fail "generation JSON"
import json, sys
data = json.load(open(sys.argv[1]))
streamed = open(sys.argv[2], encoding="utf-8", errors="replace", newline="").read()
g = data["generation"]
assert data["run"]["mode"] == "generate"
assert g["generated_tokens"] == 80 and g["stop_reason"] == "max-tokens", g
assert g["text"] == streamed, (g["text"][:80], streamed[:80])
assert len(g["ids"]) == g["prompt_tokens"] + 80
n = len(g["ids"]) - 1
assert len(g["token_loss_skip"]) == len(g["token_loss_update"]) == len(g["token_path"]) == n
# Segments of one mini-batch (16 tokens); each prediction took its segment's decision.
units = data["units"]
assert len(units) == len(g["decisions"]) == (n + 15) // 16
for t, path in enumerate(g["token_path"]):
    assert path == g["decisions"][t // 16]
assert set(data["policies"]) >= {"skip", "update", "random", "oracle", "recon-ema"}
assert 0 <= g["update_rate"] <= 1
PY

expect "runs lists the stream" 0 "$ponder" runs --db "$work/runs.sqlite"
grep -q "complete	generate" "$work/out" && pass "stored as a complete run of mode generate" \
  || fail "runs: $(cat "$work/out")"
expect "export of the stored stream" 0 "$ponder" export --db "$work/runs.sqlite" --run latest \
  --out "$work/export"
[ -s "$work/export/units.csv" ] && pass "export writes units.csv" || fail "no units.csv"
python3 - "$work/runs.sqlite" <<'PY' && pass "the store holds the stream and the decisions taken" || fail "stored stream"
import sqlite3, sys, json
db = sqlite3.connect(sys.argv[1])
db.text_factory = bytes  # the tiny random model writes bytes that are not always UTF-8
text, ids, starts, tokens = db.execute(
    "SELECT text, token_ids, token_starts, tokens FROM input_file").fetchone()
assert len(ids) == 4 * tokens and len(starts) == 8 * tokens, (len(ids), len(starts), tokens)
assert text.startswith(open(sys.argv[1].replace("runs.sqlite", "prompt.py"), "rb").read()[:40])
names = [r[0].decode() for r in db.execute("SELECT name FROM policy")]
assert "generated" in names, names
settings = json.loads(db.execute("SELECT settings_json FROM run").fetchone()[0])
assert settings["generation"]["generated_tokens"] == 80, settings
PY

expect "--stop ends the text before it" 0 "$ponder" generate "${common[@]}"
stop=$(python3 -c 'import sys; t=open(sys.argv[1], encoding="utf-8", errors="replace").read(); print(t[10:13])' "$work/out")
cp "$work/out" "$work/greedy.txt"
expect "greedy with --stop" 0 "$ponder" generate "${common[@]}" --stop "$stop"
python3 - "$work/greedy.txt" "$work/out" "$stop" <<'PY' && pass "--stop: the text up to the stop" || fail "--stop"
import sys
full = open(sys.argv[1], encoding="utf-8", errors="replace", newline="").read()
cut = open(sys.argv[2], encoding="utf-8", errors="replace", newline="").read()
assert cut == full[:full.index(sys.argv[3])], (cut, full)
PY
expect "prompt on stdin" 0 bash -c "'$ponder' generate --model '$model' --prompt - --max-tokens 5 \
  --quiet --threads 1 < '$prompt'"

# Ctrl-C mid-generation: exit 1, the stream so far stored as cancelled. A model with room for
# a long generation, interrupted once it has written something.
expect "make-test-model with 8192 positions" 0 "$ponder" make-test-model "$work/long" --layers 2 \
  --embd 32 --heads 2 --positions 8192 --seed 4 --ttt
"$ponder" generate --model "$work/long" --prompt "$prompt" --max-tokens 8000 --threads 1 \
  --no-stop-at-eot --db "$work/cancel.sqlite" >"$work/cancel.out" 2>"$work/cancel.err" &
pid=$!
for _ in $(seq 100); do [ -s "$work/cancel.out" ] && break; sleep 0.1; done
sleep 0.5
kill -INT "$pid"
wait "$pid"; status=$?
[ "$status" = 1 ] && grep -q "^error: cancelled" "$work/cancel.err" \
  && pass "Ctrl-C: exit 1, cancelled" || fail "Ctrl-C: exit $status, $(head -c 300 "$work/cancel.err")"
"$ponder" runs --db "$work/cancel.sqlite" 2>&1 | grep -q "cancelled	generate" \
  && pass "Ctrl-C: stored as cancelled" || fail "Ctrl-C: not stored as cancelled"

# Bad input: one error line and one hint line each.
: >"$work/empty.py"
expect "empty prompt" 1 "$ponder" generate --model "$model" --prompt "$work/empty.py"
printf 'def f():\0\n' >"$work/binary.py"
expect "binary prompt" 1 "$ponder" generate --model "$model" --prompt "$work/binary.py"
printf 'x = "\xff"\n' >"$work/latin1.py"
expect "non-UTF-8 prompt" 1 "$ponder" generate --model "$model" --prompt "$work/latin1.py"
expect "empty stdin" 1 bash -c "'$ponder' generate --model '$model' --prompt - < /dev/null"
expect "no --prompt" 2 "$ponder" generate --model "$model"
expect "a policy that needs the whole run" 1 "$ponder" generate --model "$model" --prompt "$prompt" \
  --policy oracle
expect_message "oracle refused with the streamable ones" "cannot gate a generation"
expect "top-p 0" 1 "$ponder" generate --model "$model" --prompt "$prompt" --top-p 0
expect "--decide-every bad" 2 "$ponder" generate --model "$model" --prompt "$prompt" \
  --decide-every token
expect "chunk not whole mini-batches" 1 "$ponder" generate --model "$model" --prompt "$prompt" \
  --chunk 40 --max-tokens 2
expect "unwritable --json" 1 "$ponder" generate --model "$model" --prompt "$prompt" --max-tokens 2 \
  --json /nonexistent/dir/out.json
echo "not a database" >"$work/bad.sqlite"
expect "--db that is not SQLite" 1 "$ponder" generate --model "$model" --prompt "$prompt" \
  --db "$work/bad.sqlite"

# bench-code --model: every policy's samples generated with the same seeds, scored in the
# sandbox, compared in one JSON; Random at the rate Ours realized.
python3 - "$work/problems.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for name, body, test in [("add", "a, b", "assert candidate(1, 2) == 3"),
                             ("neg", "x", "assert candidate(2) == -2")]:
        f.write(json.dumps({"task_id": "t/" + name, "entry_point": name,
                            "prompt": "def %s(%s):\n    \"\"\"%s\"\"\"\n" % (name, body, name),
                            "test": "def check(candidate):\n    %s\n" % test}) + "\n")
PY
expect "bench-code --model, four policies" 0 "$ponder" bench-code --problems "$work/problems.jsonl" \
  --model "$model" --out "$work/bench" --samples 2 --temperature 0.8 --max-tokens 40 --k 1,2 \
  --threads 1 --quiet --no-stop-at-eot --stop "@@" --json "$work/bench.json"
python3 - "$work/bench.json" "$work/bench" <<'PY' && pass "bench-code --model: samples, results and pass@k per policy" || fail "bench-code --model output"
import json, os, sys
data = json.load(open(sys.argv[1]))
policies = data["policies"]
assert list(policies) == ["skip", "update", "recon-ema", "random"], list(policies)
assert policies["skip"]["update_rate"] == 0 and policies["update"]["update_rate"] == 1
assert policies["random"]["target_rate"] == policies["recon-ema"]["update_rate"]
for name, p in policies.items():
    assert 0 <= p["pass_at_k"]["pass@1"] <= p["pass_at_k"]["pass@2"] <= 1, p
    results = [json.loads(l) for l in open(p["results_file"], encoding="utf-8")]
    assert len(results) == 4 and all(r["policy"] == name for r in results)
    assert all(set(r) >= {"task_id", "completion", "result", "passed"} for r in results)
    assert all(r["result"] == "passed" or r["result"].startswith(("failed", "timed out"))
               for r in results)
# Sample s of a problem (seed --seed + s under every policy) is numbered in its line.
skip = [json.loads(l) for l in open(policies["skip"]["samples_file"], encoding="utf-8")]
assert [s["sample"] for s in skip] == [0, 1, 0, 1]
PY
expect "bench-code: --model and --completions together" 2 "$ponder" bench-code \
  --problems "$work/problems.jsonl" --model "$model" --completions "$work/problems.jsonl" --out "$work/b2"
expect "bench-code --model without --out" 2 "$ponder" bench-code --problems "$work/problems.jsonl" \
  --model "$model"
expect "bench-code --policies with oracle" 1 "$ponder" bench-code --problems "$work/problems.jsonl" \
  --model "$model" --out "$work/b3" --policies skip,oracle

# The studio opens the stored stream like an evaluation run.
if [ "$studio" != none ] && command -v xvfb-run >/dev/null && [ -z "${ASAN_OPTIONS:-}" ]; then
  export XDG_DATA_HOME="$work/xdg" XDG_CONFIG_HOME="$work/xdg-config"
  mkdir -p "$XDG_DATA_HOME/ponder-studio"
  cp "$work/runs.sqlite" "$XDG_DATA_HOME/ponder-studio/runs.sqlite"
  timeout 300 xvfb-run -a -s '-screen 0 1280x800x24' "$studio" --model "$model" --run 1 \
    --screenshot "$work/studio.png" --frames 20 >"$work/studio.out" 2>"$work/studio.err"
  status=$?
  if [ "$status" = 0 ] && "$png_check" "$work/studio.png" 1280 800 >"$work/png.out"; then
    pass "the studio opens the stored stream (decision colours in its plots)"
  else
    fail "studio --run: exit $status, $(tail -c 300 "$work/studio.err") $(cat "$work/png.out" 2>/dev/null)"
  fi
else
  echo "skip the studio check (no xvfb-run, no studio, or under the sanitizers)"
fi

echo "$checks checks, $failures failed"
[ "$failures" = 0 ]
