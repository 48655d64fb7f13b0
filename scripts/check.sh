#!/usr/bin/env bash
# Checks while changing the code, on an existing build folder (scripts/setup.sh makes one).
#   scripts/check.sh fast   the Torch-free unit tests (each executable whole, not one process
#                           per case), the layout, docs and clang-format checks: about a minute
#   scripts/check.sh full   the README's test command: every ctest test (about 12 minutes)
# BUILD_DIR picks the build folder (default: build).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-fast}"
build="${BUILD_DIR:-build}"
if [ ! -f "$build/CMakeCache.txt" ]; then
  echo "error: no build folder '$build'" >&2
  echo "hint: run scripts/setup.sh test once (or set BUILD_DIR)" >&2
  exit 2
fi
case "$mode" in
  fast)
    start=$(date +%s)
    cmake --build "$build" -j "$(nproc)" --target torch_free_tests
    failed=0
    while IFS= read -r test; do
      if "$test" --durations no >"$build/check-fast.log" 2>&1; then
        echo "ok   $(basename "$test")"
      else
        echo "FAIL $(basename "$test")"; tail -n 30 "$build/check-fast.log"; failed=1
      fi
    done <"$build/tests/torch_free_tests.txt"
    bash tests/layout/check_layout.sh . || failed=1
    bash tests/docs/check_doc_refs.sh . || failed=1
    bash scripts/check_format.sh . || failed=1
    echo "check.sh fast: $([ "$failed" = 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - start )) s"
    exit "$failed"
    ;;
  full)
    cmake --build "$build" -j "$(nproc)"
    cd "$build" && ctest --output-on-failure -j 2
    ;;
  *)
    echo "error: unknown mode '$mode'" >&2
    echo "hint: scripts/check.sh fast | full" >&2
    exit 2
    ;;
esac
