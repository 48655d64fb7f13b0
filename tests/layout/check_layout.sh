#!/usr/bin/env bash
# The layout's include rules, which the compiler alone would not catch: LibTorch only in core's
# .cpp files and its *_impl.h headers (so the studio and viz/ never compile against Torch), no
# private header or Torch outside core (tests excepted), no core in viz/, no ImGui in core.
#   check_layout.sh REPO_ROOT
set -u
root="${1:?usage: check_layout.sh REPO_ROOT}"
cd "$root" || exit 2
torch='#include <(torch|ATen|c10)/'
problems=0
report() { echo "$1"; problems=$((problems + 1)); }

while IFS= read -r file; do
  case "$file" in *_impl.h) continue ;; esac
  report "$file: a public core header includes LibTorch; name it *_impl.h or move Torch out"
done < <(grep -rlE "$torch" core --include='*.h')
while IFS= read -r hit; do
  report "$hit: outside core, LibTorch and core's *_impl.h headers are off limits"
done < <(grep -rnE "$torch|#include \"core/.*_impl\.h\"" app viz)
while IFS= read -r hit; do report "$hit: viz/ must not depend on core/"; done \
  < <(grep -rn '#include "core/' viz)
while IFS= read -r hit; do report "$hit: core/ must not include ImGui"; done \
  < <(grep -rnE '#include <(imgui|backends/imgui)' core)

if [ "$problems" -gt 0 ]; then
  echo "$problems layout problem(s)"
  exit 1
fi
echo "ok: the $(grep -rlE "$torch" core | wc -l) core files that include LibTorch directly are .cpp or *_impl.h"
