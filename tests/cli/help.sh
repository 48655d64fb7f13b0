#!/usr/bin/env bash
# `ponder CMD --help` is written from the same declaration the parser reads (app/cli/commands.h):
# every command has a usage line and a help line for each option, an option missing from the
# declaration is refused, and the defaults --help shows are the ones a run records.
#   help.sh PONDER WORK_DIR
set -u
source "$(dirname "$0")/expect.sh"
setup_work "$@"
root="$(cd "$(dirname "$0")/../.." && pwd)"

expect "ponder --help lists the commands" 0 "$ponder" --help
mapfile -t names < <(sed -n 's/^  \([a-z][a-z0-9-]*\)  .*/\1/p' "$work/out")
[ "${#names[@]}" -ge 10 ] && pass "the overview names ${#names[@]} commands" \
  || fail "the overview names only ${#names[@]} commands"

for name in "${names[@]}"; do
  expect "$name --help" 0 "$ponder" "$name" --help
  cp "$work/out" "$work/help-$name.txt"
  head -1 "$work/out" | grep -q "^usage: ponder $name" && pass "$name: a usage line first" \
    || fail "$name: first line is '$(head -1 "$work/out")'"
  # Option rows: "  --name [VALUE]  help", or the help alone on the next line.
  if python3 - "$work/out" <<'PY'; then pass "$name: every option has a help line, once per form"; else fail "$name: an option without help or listed twice (see above)"; fi
import re, sys
lines = open(sys.argv[1]).read().split("\n")
bad, seen = [], set()
for i, line in enumerate(lines):
    if line.startswith("usage: "):
        seen = set()
    m = re.match(r"^  (--[a-z0-9-]+)(?: \S+)?(?:\s{2,}(\S.*))?$", line)
    if not m:
        continue
    option, help_text = m.group(1), m.group(2)
    if help_text is None:  # the help wraps onto the next, indented line
        following = lines[i + 1] if i + 1 < len(lines) else ""
        help_text = following.strip() if following.startswith("      ") else ""
    if not help_text:
        bad.append(option + ": no help")
    if option in seen:
        bad.append(option + ": listed twice")
    seen.add(option)
for b in bad:
    print("   ", b)
sys.exit(1 if bad else 0)
PY
  # A command with subcommands (corpus build) takes its options after the subcommand.
  sub=$(head -1 "$work/help-$name.txt" | awk '{print $4}' | grep -E '^[a-z]+$')
  expect "$name refuses an option it does not declare" 2 "$ponder" "$name" $sub --not-an-option x
  expect_message "$name names the unknown option" "unknown option '--not-an-option'"
done

# The defaults --help shows are the ones train-base records for a run that leaves them out.
# One thread: ctest -j2 runs this beside cli_contract.sh, whose 2-thread calibrate slowed past
# its 120 s limit when both took both cores (OpenMP threads spin while they wait).
corpus=/usr/lib/python3.11/json
expect "train-base with its defaults (one step)" 0 "$ponder" train-base "$corpus" \
  --tokenizer "$root/assets/default-model" --out "$work/base" --steps 1 --threads 1 \
  --db "$work/train.sqlite" --quiet
sqlite3 "$work/train.sqlite" "SELECT settings_json FROM training ORDER BY id DESC LIMIT 1" \
  >"$work/settings.json"
if python3 - "$work/help-train-base.txt" "$work/settings.json" <<'PY'; then pass "train-base records the defaults its --help shows"; else fail "train-base's --help defaults differ from the recorded settings"; fi
import json, re, sys
text = open(sys.argv[1]).read()
settings = json.load(open(sys.argv[2]))
pairs = {"--layers": "n_layer", "--embd": "n_embd", "--heads": "n_head",
         "--positions": "n_positions", "--sequence": "sequence", "--batch": "batch",
         "--warmup": "warmup", "--lr": "lr", "--seed": "seed"}
bad = 0
for option, key in pairs.items():
    m = re.search(r"^  " + re.escape(option) + r" \S+\s.*?\(default: ([^)]+)\)", text, re.M)
    if not m or float(m.group(1)) != float(settings[key]):
        print("   ", option, m.group(1) if m else "no default shown", "recorded", settings[key])
        bad += 1
sys.exit(1 if bad else 0)
PY

echo "$checks checks, $failures failures"
[ "$failures" = 0 ]
