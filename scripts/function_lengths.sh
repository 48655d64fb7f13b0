#!/usr/bin/env bash
# The functions in core/, app/ and viz/ longer than LIMIT lines (default 60), longest first,
# from Universal Ctags' start and end lines (lambdas count in the function that holds them).
#   function_lengths.sh [LIMIT]
set -euo pipefail
cd "$(dirname "$0")/.."
limit="${1:-60}"
command -v ctags >/dev/null || { echo "error: ctags is not installed" >&2;
                                 echo "hint: apt-get install universal-ctags" >&2; exit 2; }
ctags --fields=+ne --c++-kinds=f --language-force=C++ -R -o - core app viz |
  awk -F'\t' -v limit="$limit" '$1 !~ /^__anon/ {
    start = ""; end = ""
    for (i = 4; i <= NF; i++) {
      if ($i ~ /^line:/) start = substr($i, 6)
      if ($i ~ /^end:/) end = substr($i, 5)
    }
    if (start != "" && end != "" && end - start + 1 > limit)
      printf "%4d %s:%s %s\n", end - start + 1, $2, start, $1
  }' | sort -rn
