// Inverted dropout with a parallel, counter-based CPU mask (see hashed_dropout_impl.h).
#include "core/model/hashed_dropout_impl.h"

#include <ATen/Parallel.h>

#include <cstdint>
#include <limits>

#include "core/util/splitmix64.h"

namespace ponder::core {
namespace {

// mask[i] = keep ? scale : 0, from the hash of (seed, i / 2): each 64-bit draw gives two
// 32-bit uniforms.
template <typename Scalar>
void fillMask(Scalar* mask, std::int64_t count, std::uint64_t seed, double keep) {
    const auto threshold = std::uint64_t(keep * 4294967296.0);  // keep · 2^32
    const Scalar kept = Scalar(1.0 / keep), dropped = Scalar(0.0);
    const std::int64_t pairs = (count + 1) / 2;
    at::parallel_for(0, pairs, 1 << 14, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t pair = begin; pair < end; ++pair) {
            const std::uint64_t bits = splitmix64(seed, std::uint64_t(pair));
            const std::int64_t i = 2 * pair;
            mask[i] = (bits & 0xFFFFFFFFULL) < threshold ? kept : dropped;
            if (i + 1 < count) mask[i + 1] = (bits >> 32) < threshold ? kept : dropped;
        }
    });
}

}  // namespace

torch::Tensor hashedDropout(const torch::Tensor& x, double p, bool training) {
    if (!training || p == 0.0) return x;
    if (!x.device().is_cpu() || p >= 1.0 ||
        (x.scalar_type() != torch::kFloat32 && x.scalar_type() != torch::kBFloat16))
        return torch::dropout(x, p, training);
    // One draw from the default generator seeds the whole mask.
    const auto seed =
        std::uint64_t(torch::empty({1}, torch::kInt64).random_().item<std::int64_t>());
    auto mask = torch::empty(x.sizes(), x.options().requires_grad(false));
    if (x.scalar_type() == torch::kFloat32)
        fillMask(mask.data_ptr<float>(), mask.numel(), seed, 1.0 - p);
    else
        fillMask(mask.data_ptr<at::BFloat16>(), mask.numel(), seed, 1.0 - p);
    // Without a graph to keep x for, the mask's buffer takes the product.
    return x.requires_grad() ? x * mask : mask.mul_(x);
}

}  // namespace ponder::core
