// Size-bucketed block cache in front of posix_memalign for large LibTorch CPU tensors.
#include "core/runtime/cpu_allocator_impl.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <unordered_map>

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include "core/runtime/torch_compat_impl.h"

namespace ponder::core {

namespace {

constexpr std::size_t kAlignment = 64;  // what c10's own CPU allocator guarantees
constexpr std::size_t kLargeBlock = std::size_t(1) << 20;

class BlockCache {
public:
    void* acquire(std::size_t bytes) {
        const std::size_t size = bytes < kLargeBlock ? bytes : roundUp(bytes);
        if (size >= kLargeBlock) {
            std::lock_guard<std::mutex> lock(m_mutex);
            const auto it = m_free.find(size);
            if (it != m_free.end()) {
                void* block = it->second;
                m_free.erase(it);
                m_cachedBytes -= size;
                m_sizes[block] = size;
                return block;
            }
        }
        void* block = nullptr;
        if (posix_memalign(&block, kAlignment, size == 0 ? kAlignment : size) != 0)
            throw std::bad_alloc();
        if (size >= kLargeBlock) {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_sizes[block] = size;
        }
        return block;
    }

    void release(void* block) {
        if (!block) return;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            const auto it = m_sizes.find(block);
            if (it != m_sizes.end()) {
                const std::size_t size = it->second;
                m_sizes.erase(it);
                if (m_cachedBytes + size <= m_limit) {
                    m_free.emplace(size, block);
                    m_cachedBytes += size;
                    return;
                }
            }
        }
        std::free(block);
    }

    void setLimit(std::size_t limit) {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_limit = limit;
    }
    std::size_t cachedBytes() {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_cachedBytes;
    }

private:
    static std::size_t roundUp(std::size_t bytes) {
        return (bytes + kLargeBlock - 1) / kLargeBlock * kLargeBlock;
    }

    std::mutex m_mutex;
    std::multimap<std::size_t, void*> m_free;         // exact rounded size -> cached blocks
    std::unordered_map<void*, std::size_t> m_sizes;  // live large blocks -> rounded size
    std::size_t m_cachedBytes = 0;
    std::size_t m_limit = 0;
};

// Never destroyed: tensors may be freed during static destruction.
BlockCache& cache() {
    static auto* instance = new BlockCache();
    return *instance;
}

void releaseBlock(void* block) { cache().release(block); }

class CachingCpuAllocator final : public c10::Allocator {
public:
    c10::DataPtr allocate(std::size_t bytes) PONDER_ALLOCATOR_ALLOCATE_CONST override {
        void* block = cache().acquire(bytes);
        return {block, block, &releaseBlock, c10::Device(c10::DeviceType::CPU)};
    }
    c10::DeleterFnPtr raw_deleter() const override { return &releaseBlock; }
#if PONDER_ALLOCATOR_HAS_COPY_DATA
    void copy_data(void* dest, const void* src, std::size_t count) const override {
        default_copy_data(dest, src, count);
    }
#endif
};

}  // namespace

void installCachingCpuAllocator(std::size_t cacheLimit) {
    static CachingCpuAllocator allocator;
    static std::once_flag installed;
    cache().setLimit(cacheLimit);
    std::call_once(installed, [] { c10::SetCPUAllocator(&allocator, /*priority=*/1); });
}

std::size_t cachedCpuBytes() { return cache().cachedBytes(); }

}  // namespace ponder::core
