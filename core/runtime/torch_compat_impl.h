// Private (includes LibTorch): where the LibTorch versions the project builds against differ
// (Debian bookworm's 1.13, the default; trixie's 2.6 and PyTorch's 2.x wheels, checked by
// scripts/check_libtorch2.sh), each difference once, named by what changed.
#pragma once

#include <torch/version.h>

#define PONDER_TORCH_AT_LEAST(major, minor) \
    (TORCH_VERSION_MAJOR > (major) ||       \
     (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// c10::Allocator::allocate lost its const in 2.0.
#if PONDER_TORCH_AT_LEAST(2, 0)
#define PONDER_ALLOCATOR_ALLOCATE_CONST
#else
#define PONDER_ALLOCATOR_ALLOCATE_CONST const
#endif

// c10::Allocator::copy_data, pure virtual since 2.3 (Allocator::default_copy_data does memcpy).
#define PONDER_ALLOCATOR_HAS_COPY_DATA PONDER_TORCH_AT_LEAST(2, 3)

namespace ponder::core {

// bfloat16 autocast on the CPU or CUDA: whether it is on, and turning it on (in bfloat16) or
// off. LibTorch 2.4 made these per-device calls and deprecated the CPU/CUDA-named ones.
bool autocastEnabled(bool cuda);
void setBf16Autocast(bool cuda, bool enabled);

}  // namespace ponder::core
