// Timing the three ways to decode: KV cache, recomputation, and the gated generator.
#include "core/runtime/generate_bench.h"

#include <algorithm>
#include <chrono>

#include <torch/torch.h>

#include "core/eval/evaluator_impl.h"
#include "core/generate/generator.h"

namespace ponder::core {

namespace {

using Clock = std::chrono::steady_clock;

// Greedy decoding on the SKIP path alone (plain GPT-2 generation): the prompt read at once,
// then one token per step. Returns the generated ids; `seconds` excludes the prompt.
std::vector<std::int64_t> greedySkip(Backbone& backbone, const std::vector<std::int32_t>& prompt,
                                     std::int64_t tokens, bool recompute, double& seconds) {
    torch::InferenceMode inference;
    auto cache = recompute ? backbone.Backbone::startDecode() : backbone.startDecode();
    const auto step = [&](const std::vector<std::int64_t>& ids) {
        const auto input = torch::tensor(ids, torch::kInt64).view({1, std::int64_t(ids.size())});
        const auto hidden = recompute ? backbone.Backbone::decodeStep(*cache, input)
                                      : backbone.decodeStep(*cache, input);
        return backbone.logits(hidden[0][hidden.size(1) - 1]).argmax().item<std::int64_t>();
    };
    std::vector<std::int64_t> out;
    auto next = step(std::vector<std::int64_t>(prompt.begin(), prompt.end()));
    const auto start = Clock::now();
    for (std::int64_t t = 0; t < tokens; ++t) {
        out.push_back(next);
        if (t + 1 < tokens) next = step({next});
    }
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return out;
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

}  // namespace

GenerateBenchmark benchmarkGeneration(Evaluator& evaluator,
                                      const std::vector<std::int32_t>& promptIds,
                                      std::int64_t tokens, int repeats) {
    auto& backbone = *evaluator.impl().backbone;
    Generator generator(evaluator);
    GenerateOptions options;
    options.maxTokens = tokens;
    options.stopAtEndOfText = false;
    options.policy.name = "recon-ema";

    GenerateBenchmark out;
    out.promptTokens = std::int64_t(promptIds.size());
    out.tokens = tokens;
    out.repeats = repeats;
    std::vector<double> cached, recomputed, gated;
    for (int r = 0; r < repeats; ++r) {
        double seconds = 0;
        const auto fast = greedySkip(backbone, promptIds, tokens, false, seconds);
        cached.push_back(seconds);
        const auto slow = greedySkip(backbone, promptIds, tokens, true, seconds);
        recomputed.push_back(seconds);
        out.sameTokens = fast == slow;
        gated.push_back(generator.generateFromIds(promptIds, options).generateSeconds);
    }
    const auto add = [&](const std::string& name, const std::vector<double>& times) {
        const double seconds = median(times);
        out.timings.push_back({name, seconds, seconds > 0 ? double(tokens) / seconds : 0.0});
    };
    add("SKIP decode, KV cache", cached);
    add("SKIP decode, recompute", recomputed);
    add("gated generation", gated);
    return out;
}

}  // namespace ponder::core
