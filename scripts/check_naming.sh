#!/usr/bin/env bash
# clang-tidy's naming checks (.clang-tidy: types PascalCase, functions camelCase, private members
# m_camelCase) on the .cpp files changed since BASE (default: the last 10 commits, about one
# stop's work), the most recently changed first and at most MAX_FILES of them (default 40:
# ~4 s each, two at a time), with the project headers they include. Every file would take
# ~20 minutes on 2 cores, so CI checks what changed.
#   check_naming.sh [BASE]   (BUILD_DIR: the build folder, default build)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
build="${BUILD_DIR:-build}"
base="${1:-HEAD~10}"
tidy=""
for candidate in clang-tidy-14 clang-tidy; do
  command -v "$candidate" >/dev/null 2>&1 && { tidy="$candidate"; break; }
done
if [ -z "$tidy" ]; then
  echo "skipped: clang-tidy is not installed (apt-get install clang-tidy)"
  exit 0
fi
if [ ! -f "$build/compile_commands.json" ]; then
  echo "error: no $build/compile_commands.json" >&2
  echo "hint: configure the build first (scripts/setup.sh test)" >&2
  exit 2
fi
git rev-parse --verify -q "$base" >/dev/null || base=$(git rev-list --max-parents=0 HEAD | tail -1)
# Most recently committed first (a file never committed counts as newest).
mapfile -t changed < <(git diff --name-only --diff-filter=AM "$base" -- 'app/*.cpp' 'core/*.cpp' 'viz/*.cpp' |
                       while IFS= read -r file; do
                         echo "$(git log -1 --format=%ct HEAD -- "$file" | grep . || date +%s) $file"
                       done | sort -rn | cut -d' ' -f2-)
built=()
for file in "${changed[@]}"; do
  [ ${#built[@]} -ge "${MAX_FILES:-40}" ] && break
  grep -q "\"file\": \"$PWD/$file\"" "$build/compile_commands.json" && built+=("$file")
done
if [ ${#built[@]} -eq 0 ]; then
  echo "ok: no built .cpp file changed since $base"
  exit 0
fi
# The compile database without GCC's precompiled header, which clang cannot read (every file
# includes what it needs; the header only saves parsing time).
mkdir -p "$build/naming"
python3 - "$build/compile_commands.json" "$build/naming/compile_commands.json" <<'PY'
import json, re, sys
entries = json.load(open(sys.argv[1]))
for entry in entries:
    entry["command"] = re.sub(r" -include \S*cmake_pch\.hxx| -Winvalid-pch", "", entry["command"])
json.dump(entries, open(sys.argv[2], "w"), indent=1)
PY
log="$build/check-naming.log"
printf '%s\n' "${built[@]}" |
  xargs -P "$(nproc)" -n 1 "$tidy" -p "$build/naming" --quiet --header-filter="^$PWD/(app|core|viz)/" \
  >"$log" 2>&1
problems=$(grep -c 'warning: invalid case style\|readability-identifier-naming' "$log" || true)
if [ "$problems" -gt 0 ] || grep -q ': error: ' "$log"; then
  grep -E ': (warning|error): ' "$log" | sort -u | head -50
  echo "naming: $problems problem(s) in the ${#built[@]} files changed since $base ($log)"
  exit 1
fi
echo "ok: the ${#built[@]} .cpp files changed since $base follow .clang-tidy's naming"
