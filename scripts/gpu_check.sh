#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and a CUDA-enabled PyTorch install: builds the core, the CLI
# and the tests against the LibTorch inside PyTorch (headless: no studio window and no ImGui),
# runs the tests that have a CUDA variant, then the GPU benchmarks, logging to $1 (default
# build-cuda/gpu-figures.txt). The other build dependencies (SQLiteCpp, nlohmann-json,
# utf8proc, Cairo, Catch2) come from the system as on the CPU machines.
set -euo pipefail
cd "$(dirname "$0")/.."
log="${1:-build-cuda/gpu-figures.txt}"
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
# LibTorch must share the C++ ABI of the system libraries we link (std::string in their APIs).
abi=$(python3 -c 'import torch; print(int(torch.compiled_with_cxx11_abi()))')
if [ "$abi" != 1 ]; then
  echo "error: this PyTorch's LibTorch uses the pre-C++11 ABI; the system's SQLiteCpp does not" >&2
  echo "hint: use a PyTorch built with the C++11 ABI (the manylinux_2_28 wheels are)" >&2
  exit 1
fi
# Ranks on CUDA all-reduce through NCCL where this PyTorch has it (core/dist/collective_backend.h).
nccl=$(python3 -c 'import torch.distributed as d
print("ON" if d.is_available() and d.is_nccl_available() else "OFF")')
cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$torch_prefix" \
  -DPONDER_BUILD_STUDIO=OFF -DPONDER_IMGUI=OFF -DPONDER_NODE_CONFORMANCE=OFF -DPONDER_NCCL="$nccl"
cmake --build build-cuda -j "$(nproc)"
mkdir -p "$(dirname "$log")"
ponder=build-cuda/app/ponder
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  "$ponder" info
  (cd build-cuda && ctest -R cuda --output-on-failure)
  for shape in small medium large xl; do
    "$ponder" bench --device cuda --shape "$shape" --seconds 5 --unit-batch 16
  done
  "$ponder" bench --gated --device cuda --model assets/default-model --ext cpp --ext h core app \
    --calibration profile --quiet
  nvidia-smi --query-gpu=memory.used --format=csv,noheader
} 2>&1 | tee "$log"
