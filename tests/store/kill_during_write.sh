#!/usr/bin/env bash
# Crash safety of the run store: kill -9 a writer mid-run, three times on one database, and
# check that every committed batch survived, no partial batch did, and the file is intact.
set -uo pipefail
writer="$1"
work="$2"
rm -rf "$work"; mkdir -p "$work"
db="$work/runs.sqlite"
batch=25
failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }

last_committed() { grep '^committed ' "$1" 2>/dev/null | tail -n 1 | cut -d' ' -f2; }

declare -A kept  # run id -> units found right after its kill
for round in 1 2 3; do
  marker="$work/marker$round"
  : >"$marker"
  "$writer" write "$db" "$batch" "$marker" 2>"$work/writer$round.err" &
  pid=$!
  # Let it commit a few batches (10 + a round-dependent number), then kill it wherever it is.
  want=$(( (10 + round * 3) * batch ))
  for _ in $(seq 1 600); do
    got=$(last_committed "$marker"); got=${got:-0}
    [ "$got" -ge "$want" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  committed=$(last_committed "$marker"); committed=${committed:-0}
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  run=$(grep '^run ' "$marker" | cut -d' ' -f2)
  if [ -z "$run" ] || [ "$committed" -lt "$want" ]; then
    fail "round $round: the writer did not reach $want units (run '$run', $committed committed): $(head -c 300 "$work/writer$round.err")"
    continue
  fi
  "$writer" check "$db" "$run" "$batch" >"$work/check$round" 2>&1 || { fail "round $round: check failed: $(cat "$work/check$round")"; continue; }
  units=$(awk '$1 == "units" {print $2}' "$work/check$round")
  [ "$units" -ge "$committed" ] && pass "round $round: $units units stored >= $committed reported committed" \
    || fail "round $round: $units units stored < $committed reported committed"
  grep -qx 'whole_batches yes' "$work/check$round" && pass "round $round: only whole batches of $batch" \
    || fail "round $round: a partial batch was stored ($units units)"
  grep -qx 'values ok' "$work/check$round" && pass "round $round: stored units equal what was written" \
    || fail "round $round: stored units differ from what was written"
  grep -qx 'status running' "$work/check$round" && pass "round $round: the killed run stays 'running'" \
    || fail "round $round: unexpected status: $(grep status "$work/check$round")"
  grep -qx 'integrity ok' "$work/check$round" && pass "round $round: PRAGMA integrity_check ok" \
    || fail "round $round: integrity_check: $(grep -A5 integrity "$work/check$round")"
  kept[$run]=$units
  # Earlier runs are untouched by later crashes.
  for old in "${!kept[@]}"; do
    [ "$old" = "$run" ] && continue
    "$writer" check "$db" "$old" "$batch" >"$work/recheck" 2>&1
    [ "$(awk '$1 == "units" {print $2}' "$work/recheck")" = "${kept[$old]}" ] \
      || fail "round $round: run $old changed after a later crash"
  done
done

if [ "$failures" -ne 0 ]; then echo "$failures failure(s)"; exit 1; fi
echo "all crash-safety checks passed"
