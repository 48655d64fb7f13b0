#!/usr/bin/env bash
# The layout's include rules (design.md §2), which the compiler alone would not catch: LibTorch
# only in core's .cpp files and its *_impl.h headers (so the studio and viz/ never compile
# against Torch), no private header or Torch outside core (tests excepted), no core in viz/,
# core includes neither viz/ nor app/, no window (ImGui, GLFW, OpenGL) in core, the CLI, the
# studio's state layer or viz/ outside the plot widget, SQLiteCpp only in the store's .cpp, and
# core's messages naming settings as {--flag}, never as one front end's words.
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
while IFS= read -r hit; do report "$hit: core/ must not depend on viz/ or app/"; done \
  < <(grep -rnE '#include "(viz|app)/' core)
window='#include [<"](imgui|backends/imgui|GLFW/|GL/|GLES)'
while IFS= read -r hit; do
  report "$hit: core, the CLI, the studio's state layer and viz/ (but its plot widget) have no window"
done < <(grep -rnE "$window" core app/cli app/common app/studio/state viz \
           | grep -vE '^viz/plot_widget\.(h|cpp):')
while IFS= read -r hit; do report "$hit: SQLiteCpp stays inside core/store/*.cpp"; done \
  < <(grep -rn '#include <SQLiteCpp' core app viz | grep -vE '^core/store/[a-z_]+\.cpp:')
# Core's messages name a setting as {--flag} (core/util/errors.h), so each front end says it
# in its own words; a flag as such appears only inside a `quoted command`. Exempt: the sandbox,
# which builds bwrap's and setpriv's command lines, and gate.json's declared-fixes text.
while IFS= read -r hit; do
  report "$hit: name the setting as {--flag} (errors.h), or quote a whole command in backticks"
done < <(grep -rnE '"[^"`]*(^|[^{a-z0-9-])--[a-z][a-z0-9-]*' core --include='*.cpp' \
           | grep -v '`' | grep -vE '^[^:]+:[0-9]+:\s*//' \
           | grep -vE '^core/codebench/sandbox\.cpp:|published: not detached')

if [ "$problems" -gt 0 ]; then
  echo "$problems layout problem(s)"
  exit 1
fi
echo "ok: the $(grep -rlE "$torch" core | wc -l) core files that include LibTorch directly are .cpp or *_impl.h"
