#!/usr/bin/env bash
# libFuzzer targets (tests/fuzz) built with clang into build-fuzz/, each run for SECONDS on a
# copy of its seed corpus (tests/fuzz/corpus/<target>), so the committed corpus stays small.
# Usage: scripts/fuzz.sh [SECONDS=60] [TARGET...]   (targets: safetensors tokenizer
# tokenizer_files configs readers codebench). Exits 1 if any target found a crash; the input
# that caused it is kept in build-fuzz/artifacts/<target>/ (replay: build-fuzz/tests/fuzz/fuzz_<t>
# FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors tokenizer tokenizer_files configs readers codebench)
build_dir="${PONDER_FUZZ_DIR:-build-fuzz}"

# libclang_rt.fuzzer and the sanitizer runtimes are in libclang-rt-14-dev, which clang only
# recommends; llvm-14 brings llvm-symbolizer for readable stack traces.
PONDER_EXTRA_PACKAGES="clang libclang-rt-14-dev llvm-14" bash scripts/setup.sh packages

start=$SECONDS
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" \
  -DPONDER_FUZZ=ON -DPONDER_BUILD_TESTS=OFF -DPONDER_NODE_CONFORMANCE=OFF >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target ponder_fuzz
echo "fuzz: build $((SECONDS - start)) s"

[ -x /usr/bin/llvm-symbolizer-14 ] && export ASAN_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer-14
failed=()
summary=""
for target in "${targets[@]}"; do
  corpus="$build_dir/corpus/$target"
  artifacts="$build_dir/artifacts/$target"
  log="$build_dir/fuzz-$target.log"
  rm -rf "$corpus" "$artifacts"
  mkdir -p "$corpus" "$artifacts"
  cp tests/fuzz/corpus/"$target"/* "$corpus"/
  # Dictionaries (tests/fuzz/dict) hold our JSON keys and format tokens: without them the JSON
  # readers' field checks were hardly reached in a minute.
  case "$target" in
    configs|readers|codebench) dict=tests/fuzz/dict/json.dict ;;
    *) dict=tests/fuzz/dict/$target.dict ;;
  esac
  echo "fuzz: $target for $seconds s"
  # -timeout: one input taking a minute is a hang worth reporting, even on a loaded machine.
  if ! "$build_dir/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=60 \
      -dict="$dict" \
      -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1; then
    failed+=("$target")
    tail -40 "$log"
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  summary+=$(printf '%-16s %10s runs %8s exec/s  corpus %s -> %s files' "$target" "${runs:-?}" \
    "${rate:-?}" "$(ls tests/fuzz/corpus/"$target" | wc -l)" "$(ls "$corpus" | wc -l)")$'\n'
done
printf '%s' "$summary"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED ${failed[*]} (inputs in $build_dir/artifacts/)" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran $seconds s without findings"
