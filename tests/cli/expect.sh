# Shared by the command-line test scripts: pass/fail counting and `expect`, which checks a
# command's exit status and, for failures, the design.md §9 stderr shape: exactly one
# "error: " line and one "hint: " line. A status of 128 or more (a signal: a crash) or a run
# past EXPECT_TIMEOUT seconds (a hang) always fails.
failures=0
checks=0

# setup_work PONDER WORK: the binary under test ($ponder) and a fresh scratch folder ($work),
# the two arguments of the scripts that take them so.
setup_work() {
  ponder="${1:?usage: SCRIPT PONDER WORK_DIR}"
  work="${2:?usage: SCRIPT PONDER WORK_DIR}"
  rm -rf "$work"
  mkdir -p "$work"
}
pass() { echo "ok   $1"; checks=$((checks + 1)); }
fail() { echo "FAIL $1"; checks=$((checks + 1)); failures=$((failures + 1)); }

# expect NAME STATUS COMMAND...  (the command's stdout/stderr are kept in $work/out, $work/err)
expect() {
  local name="$1" want="$2"; shift 2
  timeout "${EXPECT_TIMEOUT:-120}" "$@" >"$work/out" 2>"$work/err"
  local got=$?
  if [ "$got" = 124 ]; then fail "$name: no answer within ${EXPECT_TIMEOUT:-120} s (a hang)"; return; fi
  if [ "$got" != "$want" ]; then
    fail "$name: exit $got, expected $want; stderr: $(head -c 300 "$work/err")"; return
  fi
  if [ "$want" != 0 ]; then
    if [ "$(grep -c '^error: ' "$work/err")" != 1 ] || [ "$(grep -c '^hint: ' "$work/err")" != 1 ] \
       || [ "$(wc -l <"$work/err")" != 2 ]; then
      fail "$name: stderr is not one error line and one hint line: $(head -c 300 "$work/err")"; return
    fi
  fi
  pass "$name"
}

# expect_message NAME PATTERN: the last command's error line matches PATTERN (grep -E, case-blind).
expect_message() {
  grep -qiE "$2" "$work/err" && pass "$1" || fail "$1: message was: $(head -c 300 "$work/err")"
}
