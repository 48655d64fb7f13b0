#!/usr/bin/env bash
# clang-format in check mode over the project's C++ (.clang-format; Debian bookworm's
# clang-format 14, whose output other versions do not match exactly, so with another version
# or none the check says so and passes). Lists the files that differ; `--fix` rewrites them.
#   check_format.sh [--fix] [REPO_ROOT]
set -uo pipefail
fix=0
[ "${1:-}" = --fix ] && { fix=1; shift; }
cd "${1:-$(dirname "$0")/..}" || exit 2
format=""
for candidate in clang-format-14 clang-format; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" --version | grep -q 'version 14\.'; then
    format="$candidate"
    break
  fi
done
if [ -z "$format" ]; then
  echo "skipped: clang-format 14 is not installed (apt-get install clang-format on bookworm)"
  exit 0
fi
mapfile -t files < <(git ls-files '*.cpp' '*.h' 2>/dev/null || find app core viz tests examples include -name '*.cpp' -o -name '*.h')
if [ "$fix" = 1 ]; then
  "$format" -i "${files[@]}"
  echo "formatted ${#files[@]} files"
  exit 0
fi
# One run over every file; each file that differs is named in its "error:" lines.
mapfile -t unformatted < <("$format" --dry-run -Werror "${files[@]}" 2>&1 |
                           sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error: .*/\1/p' | sort -u)
if [ ${#unformatted[@]} -gt 0 ]; then
  printf '%s\n' "${unformatted[@]}"
  echo "${#unformatted[@]} of ${#files[@]} files differ from .clang-format; run scripts/check_format.sh --fix"
  exit 1
fi
echo "ok: ${#files[@]} C++ files match .clang-format"
