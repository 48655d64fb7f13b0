#!/usr/bin/env bash
# `ponder bench-code` end to end: scores a small HumanEval-format set, checks the results file
# (each sample's fields plus result and passed, in input order), the printed pass@k against
# hand-computed values and --json; the one-line errors for bad input; the unprivileged mode
# (run as uid 65534: it scores, fork bomb contained); a refused sandbox is an error, never an
# unprotected run.
#   bench_code.sh PONDER WORKDIR
set -u
ponder="$1"
work="$2"
. "$(dirname "$0")/expect.sh"
py=/usr/bin/python3
rm -rf "$work" && mkdir -p "$work"

problems="$work/problems.jsonl"
cat >"$problems" <<'EOF'
{"task_id": "T/0", "prompt": "def add(a, b):\n", "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n", "entry_point": "add"}
{"task_id": "T/1", "prompt": "def neg(x):\n", "test": "def check(candidate):\n    assert candidate(4) == -4\n", "entry_point": "neg"}
EOF
samples="$work/samples.jsonl"
cat >"$samples" <<'EOF'
{"task_id": "T/0", "completion": "    return a + b\n", "policy": "skip"}
{"task_id": "T/1", "completion": "    return -x\n", "policy": "skip"}
{"task_id": "T/0", "completion": "    return a - b\n", "policy": "update"}
{"task_id": "T/1", "completion": "    raise ValueError('boom')\n", "policy": "update"}
{"task_id": "T/1", "completion": "    while True:\n        pass\n", "policy": "ours"}
EOF
# T/0: n=2, c=1; T/1: n=3, c=1.
# pass@1 = (1/2 + 1/3) / 2 = 0.4167.
# pass@2 = (1 [n-c=1 < 2] + (1 - C(2,2)/C(3,2) = 1 - 1/3)) / 2 = (1 + 0.6667) / 2 = 0.8333.
expect "bench-code scores the samples" 0 "$ponder" bench-code --problems "$problems" \
  --completions "$samples" --k 1,2,10 --timeout 1 --workers 2 --json "$work/summary.json"
cat "$work/out"
grep -qx "pass@1: 0.4167" "$work/out" && pass "pass@1 is (1/2 + 1/3) / 2" || fail "pass@1 line"
grep -qx "pass@2: 0.8333" "$work/out" && pass "pass@2 is (1 + 2/3) / 2" || fail "pass@2 line"
grep -q "^pass@10: n/a" "$work/out" && pass "pass@10 needs 10 samples a problem" \
  || fail "pass@10 line"
grep -q "^samples: 2 passed, 2 failed, 1 timed out of 5" "$work/out" && pass "counts" \
  || fail "counts line"
results="$samples"_results.jsonl
if "$py" - "$samples" "$results" <<'EOF'; then pass "results file: fields, order, verdicts"; else fail "results file"; fi
import json, sys
samples = [json.loads(l) for l in open(sys.argv[1])]
results = [json.loads(l) for l in open(sys.argv[2])]
assert len(results) == len(samples), len(results)
want = ["passed", "passed", "failed: AssertionError", "failed: boom", "timed out"]
for sample, result, verdict in zip(samples, results, want):
    assert list(result) == list(sample) + ["result", "passed"], list(result)
    assert all(result[k] == v for k, v in sample.items()), result
    assert result["result"] == verdict, (result["result"], verdict)
    assert result["passed"] == (verdict == "passed")
EOF
if "$py" - "$work/summary.json" <<'EOF'; then pass "--json summary"; else fail "--json summary"; fi
import json, sys
s = json.load(open(sys.argv[1]))
assert abs(s["pass_at_k"]["pass@1"] - 5 / 12) < 1e-9, s["pass_at_k"]
assert abs(s["pass_at_k"]["pass@2"] - 5 / 6) < 1e-9, s["pass_at_k"]
assert s["skipped_k"] == [10] and s["samples"] == 5 and s["passed"] == 2, s
assert s["timed_out"] == 1 and s["failed"] == 2 and s["problems_scored"] == 2, s
EOF

# Usage errors (exit 2) and bad input (exit 1), each one error line and one hint line.
expect "no --completions" 2 "$ponder" bench-code --problems "$problems"
expect_message "says --completions is required" "[-]-completions .* is required"
expect "bad --k" 2 "$ponder" bench-code --problems "$problems" --completions "$samples" --k 1,x
expect "bad --workers" 2 "$ponder" bench-code --problems "$problems" --completions "$samples" \
  --workers 0
expect "missing problem file" 1 "$ponder" bench-code --problems "$work/nope.jsonl" \
  --completions "$samples"
expect_message "names the missing file" "nope.jsonl"
{ head -1 "$problems"; echo '{"task_id": "T/1", "prompt": '; } >"$work/badjson.jsonl"
expect "problem file with bad JSON" 1 "$ponder" bench-code --problems "$work/badjson.jsonl" \
  --completions "$samples"
expect_message "names the file and line" "badjson.jsonl line 2 is not JSON"
printf '{"task_id": "T/0", "completion": ""}\n{"task_id": "T/7", "completion": ""}\n' \
  >"$work/unknown.jsonl"
expect "unknown task_id" 1 "$ponder" bench-code --problems "$problems" \
  --completions "$work/unknown.jsonl"
expect_message "names the sample line" "unknown.jsonl line 2: unknown task_id \"T/7\""
[ ! -e "$work/unknown.jsonl_results.jsonl" ] && pass "no results file after an error" \
  || fail "a results file was written after an error"

# Unprivileged: ponder as uid 65534 runs samples in a user namespace. Either it scores them
# (fork bomb contained by RLIMIT_NPROC counted in that namespace) or, where this system refuses
# user namespaces, it refuses with one error line; it never runs them unprotected.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  mkdir -p "$work/user" && chmod 777 "$work/user"
  cp "$problems" "$work/user/problems.jsonl"
  cat >"$work/user/samples.jsonl" <<'EOF'
{"task_id": "T/0", "completion": "    return a + b\n"}
{"task_id": "T/0", "completion": "    import os\n    while True:\n        os.fork()\n"}
{"task_id": "T/0", "completion": "    open('/usr/x', 'w')\n"}
EOF
  chmod 644 "$work/user/"*.jsonl
  user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  "${user[@]}" "$ponder" bench-code --problems "$work/user/problems.jsonl" \
    --completions "$work/user/samples.jsonl" --timeout 1 >"$work/out" 2>"$work/err"
  status=$?
  if [ "$status" = 0 ]; then
    if "$py" - "$work/user/samples.jsonl_results.jsonl" <<'EOF'; then pass "unprivileged: scored and contained"; else fail "unprivileged results"; fi
import json, sys
r = [json.loads(l)["result"] for l in open(sys.argv[1])]
assert r[0] == "passed", r
assert r[1].startswith("failed: [Errno 11]") and "process limit 16" in r[1], r
assert r[2].startswith("failed: [Errno 30]"), r
EOF
  elif [ "$status" = 1 ] && grep -q "^error: .*sandbox" "$work/err"; then
    pass "unprivileged: refused where user namespaces are off ($(head -1 "$work/err"))"
  else
    fail "unprivileged run: exit $status: $(head -c 300 "$work/err")"
  fi
  # Forced refusal: ponder as a non-root user inside a user namespace that allows no further
  # ones (bwrap --disable-userns). It must refuse, with one error line, and write nothing.
  jail=(bwrap --unshare-user --uid 1000 --gid 1000 --disable-userns --dev-bind / /)
  if "${jail[@]}" true 2>/dev/null; then
    expect "refuses when the sandbox cannot be set up" 1 \
      "${jail[@]}" "$ponder" bench-code --problems "$problems" --completions "$work/user/samples.jsonl"
    expect_message "the error is about the sandbox" "^error: the sandbox cannot be set up: bwrap: "
  else  # a chroot, for one: the kernel refuses user namespaces there
    echo "skipped: the forced refusal needs a user namespace, which this machine refuses root too"
  fi
else
  echo "skipped: the unprivileged checks need root and setpriv"
fi

echo "$checks checks, $failures failed"
[ "$failures" = 0 ]
