#!/usr/bin/env bash
# The whole project under AddressSanitizer + UndefinedBehaviorSanitizer (GCC) in build-asan/,
# then the whole ctest suite there. Sanitizer options and suppressions reach every test through
# CTest (tests/sanitizers/). Usage: scripts/sanitize.sh [ctest args...]
#   PONDER_SANITIZE=address,undefined  which sanitizers (any -fsanitize= list GCC accepts)
#   PONDER_ASAN_DIR=build-asan         the build folder
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${PONDER_ASAN_DIR:-build-asan}"
sanitizers="${PONDER_SANITIZE:-address,undefined}"

bash scripts/setup.sh packages  # GCC's libasan and libubsan come with build-essential
# Spin-waiting OpenMP threads under CPU contention slow LibTorch down 10-50x.
export OMP_WAIT_POLICY=PASSIVE

start=$SECONDS
# -O1 -g1: what ASan's docs recommend, with line tables, so sanitizer reports keep file:line.
# It compiles far faster than RelWithDebInfo's -O2 -g under the sanitizers (eval_json.cpp
# 57 s -> 23 s, ttt_layer.cpp 63 s -> 36 s on the 2-core VM), which is most of CI's time;
# the tests' time is mostly spent inside LibTorch, which is not instrumented.
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" -DPONDER_SANITIZE="$sanitizers"
cmake --build "$build_dir" -j "$(nproc)"
built=$SECONDS
# Tests labelled slow compare numbers between front ends (the Release run has them); memory
# errors on those paths are the other tests' to find.
(cd "$build_dir" && ctest --output-on-failure -j 2 -LE slow "$@")
echo "sanitize: build $((built - start)) s, ctest $((SECONDS - built)) s ($sanitizers)"
