// Size-bucketed block cache in front of posix_memalign for large LibTorch CPU tensors.
#include "core/runtime/cpu_allocator_impl.h"

#include <cstdlib>
#include <iterator>
#include <list>
#include <map>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include "core/runtime/torch_compat_impl.h"

namespace ponder::core {

namespace {

constexpr std::size_t kAlignment = 64;  // what c10's own CPU allocator guarantees
constexpr std::size_t kLargeBlock = std::size_t(1) << 20;

// Freed large blocks wait for a same-size request. When keeping one more would pass the limit,
// the least recently freed blocks go back to the OS first: a workload whose sizes change (a
// train-base run, then train-ttt in the same process) must not find the cache full of the
// previous phase's sizes and fault in every block afresh.
class BlockCache {
public:
    void* acquire(std::size_t bytes) {
        const std::size_t size = bytes < kLargeBlock ? bytes : roundUp(bytes);
        if (size >= kLargeBlock) {
            std::lock_guard<std::mutex> lock(m_mutex);
            // The most recently freed block of this size: the likeliest still in the CPU caches.
            auto it = m_free.upper_bound(size);
            if (it != m_free.begin() && (--it)->first == size) {
                void* block = it->second->block;
                m_lru.erase(it->second);
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
        std::vector<void*> evicted;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            const auto it = m_sizes.find(block);
            if (it != m_sizes.end()) {
                const std::size_t size = it->second;
                m_sizes.erase(it);
                if (size <= m_limit) {
                    while (m_cachedBytes + size > m_limit)
                        evicted.push_back(evictOldest());
                    m_lru.push_back({size, block});
                    m_free.emplace(size, std::prev(m_lru.end()));
                    m_cachedBytes += size;
                    block = nullptr;
                }
            }
        }
        for (void* old : evicted)
            std::free(old);
        std::free(block);
    }

    void setLimit(std::size_t limit) {
        std::vector<void*> evicted;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_limit = limit;
            while (m_cachedBytes > m_limit)
                evicted.push_back(evictOldest());
        }
        for (void* old : evicted)
            std::free(old);
    }
    std::size_t cachedBytes() {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_cachedBytes;
    }

private:
    struct Cached {
        std::size_t size;
        void* block;
    };

    static std::size_t roundUp(std::size_t bytes) {
        return (bytes + kLargeBlock - 1) / kLargeBlock * kLargeBlock;
    }

    // Drops the least recently freed block from the cache (the caller frees it, unlocked).
    void* evictOldest() {
        const Cached oldest = m_lru.front();
        auto [first, last] = m_free.equal_range(oldest.size);
        while (first != last && first->second != m_lru.begin())
            ++first;
        m_free.erase(first);
        m_lru.pop_front();
        m_cachedBytes -= oldest.size;
        return oldest.block;
    }

    std::mutex m_mutex;
    std::list<Cached> m_lru;  // cached blocks, least recently freed first
    std::multimap<std::size_t, std::list<Cached>::iterator> m_free;  // rounded size -> block
    std::unordered_map<void*, std::size_t> m_sizes;  // live large blocks -> rounded size
    std::size_t m_cachedBytes = 0;
    std::size_t m_limit = 0;
};

// Never destroyed: tensors may be freed during static destruction.
BlockCache& cache() {
    static auto* instance = new BlockCache();
    return *instance;
}

void releaseBlock(void* block) {
    cache().release(block);
}

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

std::size_t cachedCpuBytes() {
    return cache().cachedBytes();
}

}  // namespace ponder::core
