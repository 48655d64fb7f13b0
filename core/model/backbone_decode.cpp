// Incremental decoding shared by every backbone: the recomputing fallback of
// Backbone::decodeStep (GPT-2 has a KV cache of its own in gpt2_model.cpp).
#include "core/model/backbone_impl.h"

#include "core/util/errors.h"

namespace ponder::core {

namespace {
// Every token read so far: the fallback runs the whole sequence again on each step.
struct RecomputeCache : Backbone::DecodeCache {
    torch::Tensor ids;  // [1, length]
};
}  // namespace

std::unique_ptr<Backbone::DecodeCache> Backbone::startDecode() const {
    return std::make_unique<RecomputeCache>();
}

torch::Tensor Backbone::decodeStep(DecodeCache& cache, const torch::Tensor& ids) {
    auto& recompute = dynamic_cast<RecomputeCache&>(cache);
    recompute.ids = recompute.ids.defined() ? torch::cat({recompute.ids, ids}, 1) : ids;
    const auto total = recompute.ids.size(1);
    if (total > info().maxUnitTokens())
        throw InputError("generation of " + std::to_string(total) + " tokens exceeds the model's " +
                             std::to_string(info().maxUnitTokens()) + " positions",
                         "use a shorter prompt or fewer {--max-tokens}");
    const auto hiddenAll = hidden(recompute.ids);
    cache.length = total;
    return hiddenAll.slice(1, total - ids.size(1), total);
}

}  // namespace ponder::core
