#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and a CUDA PyTorch: builds `ponder` and the evaluator's tests
# against the LibTorch inside that PyTorch (headless: no studio, ImGui, GLFW or OpenGL), runs
# the CUDA tests, the GPU benchmarks and one paper-protocol evaluation, and writes all their
# figures to one file, $1 (default build-cuda/gpu-figures.txt). docs/scaling-out.md says more.
#
# The other libraries come from gpu-kit/ when it is there (scripts/make_gpu_kit.sh: Debian
# packages, unpacked into build-cuda/kit), else from the system. Without a CUDA device it runs
# the same steps on the CPU, shorter: that is how the kit is rehearsed on a machine without one.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
build=build-cuda
log="${1:-$build/gpu-figures.txt}"
py() { python3 -c "$1"; }

torch_prefix=$(py 'import torch; print(torch.utils.cmake_prefix_path)')
# LibTorch must share the C++ ABI of the libraries we link (std::string in their APIs).
if [ "$(py 'import torch; print(int(torch.compiled_with_cxx11_abi()))')" != 1 ]; then
  echo "error: this PyTorch's LibTorch uses the pre-C++11 ABI, which SQLiteCpp cannot link" >&2
  echo "hint: use a PyTorch built with the C++11 ABI (the manylinux_2_28 wheels are)" >&2
  exit 1
fi
# Ranks on CUDA all-reduce through NCCL where this PyTorch has it (core/dist/collective_backend.h).
nccl=$(py 'import torch.distributed as d
print("ON" if d.is_available() and d.is_nccl_available() else "OFF")')
device=$(py 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")')

prefix="$torch_prefix"
if [ -d gpu-kit ]; then
  kit="$(pwd)/$build/kit"
  rm -rf "$kit" && mkdir -p "$kit"
  for deb in gpu-kit/*.deb; do
    if command -v dpkg-deb >/dev/null; then dpkg-deb -x "$deb" "$kit"
    else ar p "$deb" data.tar.xz | tar -xJ -C "$kit"; fi
  done
  lib="$kit/usr/lib/x86_64-linux-gnu" base_lib="$kit/lib/x86_64-linux-gnu"  # bookworm uses both
  # Paths as unpacked; private requirements name packages a build does not need.
  sed -i "s|=/usr|=$kit/usr|; s| -\([IL]\)/usr/| -\1$kit/usr/|g; /^Requires.private:/d" \
    "$lib"/pkgconfig/*.pc "$kit"/usr/share/pkgconfig/*.pc 2>/dev/null || true
  ln -sf ../../../lib/x86_64-linux-gnu/libz.so.1 "$lib/libz.so"  # packaged as a link to /lib
  export PKG_CONFIG_PATH="$lib/pkgconfig:$kit/usr/share/pkgconfig"
  export LD_LIBRARY_PATH="$lib:$base_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  # As /usr/include for a system install: headers one package includes from another's
  # (cairo-ft.h includes fontconfig's, whose .pc the build does not ask for).
  export CPATH="$kit/usr/include${CPATH:+:$CPATH}"
  command -v pkg-config >/dev/null || export PKG_CONFIG="$kit/usr/bin/pkgconf"
  prefix="$torch_prefix;$kit/usr"
  rm -f "$build/CMakeCache.txt"  # pkg-config's answers are cached, and the kit is unpacked anew
  echo "gpu check: $(ls gpu-kit/*.deb | wc -l) kit packages unpacked in $kit"
fi

mkdir -p "$build"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
  -DPONDER_BUILD_STUDIO=OFF -DPONDER_IMGUI=OFF -DPONDER_NODE_CONFORMANCE=OFF \
  -DPONDER_NCCL="$nccl" >"$build/configure.log" 2>&1 || { tail -30 "$build/configure.log"; exit 1; }
cmake --build "$build" -j "$(nproc)" --target ponder test_evaluator
built=$SECONDS
mkdir -p "$(dirname "$log")"
ponder="$build/app/ponder"
# Real code to evaluate: this Python's standard library.
corpus=$(py 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
# Sized for 8 minutes on a GPU machine with 16 cores, the build included; the CPU rehearsal
# runs one shape and a few units of each.
if [ "$device" = cuda ]; then shapes=(small medium large xl); seconds=3; units=2000; batches=200
else shapes=(small); seconds=2; units=64; batches=2; fi

{
  echo "== machine"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null ||
    echo "no GPU: the steps run on the CPU ($(nproc) cores)"
  "$ponder" info --no-gemm
  echo "== build: $((built - started)) s"
  echo "== CUDA tests: every path's losses and signals on the GPU equal the CPU's"
  "$build/tests/test_evaluator" '[cuda]'
  echo "== backbone and units at the GPT-2 shapes, float32 and bfloat16"
  for shape in "${shapes[@]}"; do
    "$ponder" bench --device "$device" --shape "$shape" --seconds "$seconds" --unit-batch 16 \
      --dtype f32,bf16
  done
  echo "== the gated fast path"
  "$ponder" bench --gated --device "$device" --model assets/default-model --ext py "$corpus" \
    --calibration profile --max-units "$units" --quiet
  echo "== a paper-protocol evaluation (16 windows of two 512-token chunks a batch)"
  "$ponder" eval --device "$device" --model assets/default-model --mode paper --ext py \
    "$corpus" --max-units "$batches" 2>&1 >/dev/null | grep 'tokens/s' | tail -1
  nvidia-smi --query-gpu=memory.used --format=csv,noheader 2>/dev/null || true
  echo "== gpu check: $((SECONDS - started)) s in all"
} 2>&1 | tee "$log"
