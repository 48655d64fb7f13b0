// Private (includes LibTorch): a CPU allocator that keeps freed large blocks for reuse.
#pragma once

#include <cstddef>

namespace ponder::core {

// Makes LibTorch reuse freed blocks of >= 1 MiB (rounded up to 1 MiB, at most `cacheLimit`
// bytes kept). On these VMs a fresh 50 MB tensor costs ~0.15 s of page faults, more than a
// GPT-2 layer's arithmetic, and glibc returns such blocks to the OS on every free.
// Idempotent; call before tensor work.
void installCachingCpuAllocator(std::size_t cacheLimit = std::size_t(2) << 30);

// Bytes currently held in the cache (for tests and `ponder info`).
std::size_t cachedCpuBytes();

}  // namespace ponder::core
