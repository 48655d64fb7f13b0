#!/usr/bin/env bash
# A stored run whose evaluation throws ends `failed` in `ponder runs`, with the units evaluated
# before the error, and the command fails with one error line and one hint. The error is real:
# under a 3 GiB address-space limit, a 32,768-token unit's attention mask (4 GiB) cannot be
# allocated, after a small file's unit was evaluated.
#   failed_run.sh PONDER WORKDIR
set -u
ponder="$1"
work="$2"
. "$(dirname "$0")/expect.sh"
if [ -n "${ASAN_OPTIONS:-}" ]; then
  echo "skipped: an address-space limit leaves no room for AddressSanitizer's shadow memory"
  exit 0
fi
rm -rf "$work" && mkdir -p "$work"
"$ponder" make-test-model "$work/model" --layers 1 --embd 32 --heads 2 --positions 32768 --ttt \
  >/dev/null || { echo "FAIL make-test-model"; exit 1; }
python3 -c "print('y = 2\n' * 300, end='')" >"$work/a_small.py"   # 1,800 tokens: one unit
python3 -c "print('x = 1\n' * 7000, end='')" >"$work/b_large.py"  # 42,000 tokens
db="$work/runs.sqlite"

expect "eval that runs out of memory mid-run" 1 bash -c 'ulimit -v 3145728 && exec "$@"' _ \
  "$ponder" eval --model "$work/model" "$work/a_small.py" "$work/b_large.py" --chunk 32768 \
  --db "$db" --quiet --threads 1
expect_message "the error says what ran out" "^error: out of memory"
expect "runs lists the run" 0 "$ponder" runs --db "$db"
# id, started, status, mode, units, ...: the run is failed and kept the first file's unit.
status=$(cut -f3 "$work/out")
units=$(cut -f5 "$work/out")
[ "$status" = failed ] && pass "the run is failed" || fail "the run is '$status', not failed"
[ "$units" = "1 units" ] && pass "the unit before the error is stored" \
  || fail "stored '$units', expected the first file's 1 unit"
expect "a failed run still exports" 0 "$ponder" export --db "$db" --run latest --out "$work/export"

echo "$checks checks, $failures failed"
[ "$failures" = 0 ]
