#!/usr/bin/env bash
# The code that handles bytes and processes under AddressSanitizer + UndefinedBehaviorSanitizer
# (GCC) in build-asan/: the Catch2 unit tests (label `unit`, each executable whole in one
# process: tests/CMakeLists.txt, ponder_discover_tests) and the scripts labelled `sanitize`
# (hostile inputs, kills, a failed run, figure export). Left to the Release pass: the
# tensor-maths tests (tests/CMakeLists.txt, ponder_add_torch_test: their time is in LibTorch,
# which is not instrumented), the studio's window (its state and UI pieces are unit-tested here)
# and the other scripts, which compare numbers between front ends. Sanitizer options and
# suppressions reach every test through CTest (tests/sanitizers/).
# Usage: scripts/sanitize.sh [ctest args...]
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
# -O0 -g1: line tables keep sanitizer reports at file:line, and -O0 compiles the template-heavy
# engine about twice as fast as -O1 under the sanitizers (gating/run_analysis.cpp 33 s -> 13 s,
# train/train_gate.cpp 46 s -> 30 s on the 2-core VM); the build is most of this pass's time,
# and the tests' time is mostly inside LibTorch, which is not instrumented.
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O0 -g1 -DNDEBUG" -DPONDER_SANITIZE="$sanitizers" \
  -DPONDER_BUILD_STUDIO=OFF -DPONDER_NODE_CONFORMANCE=OFF
cmake --build "$build_dir" -j "$(nproc)"
built=$SECONDS
(cd "$build_dir" && ctest --output-on-failure -j 2 -L 'unit|sanitize' -LE slow "$@")
echo "sanitize: build $((built - start)) s, ctest $((SECONDS - built)) s ($sanitizers)"
