// `ponder bench --generate`: decoding speed of the streaming generator measured in one run:
// plain greedy decoding with the backbone's KV cache, the same with the recomputing decode
// every backbone has as a fallback, and gated generation (both paths and the
// TTT layer read token by token at every position). Torch-free API.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/eval/evaluator.h"

namespace ponder::core {

struct DecodeTiming {
    std::string name;
    double seconds = 0;  // median over the repeats, for the generated tokens (prompt excluded)
    double tokensPerSecond = 0;
};

struct GenerateBenchmark {
    std::int64_t promptTokens = 0, tokens = 0;
    int repeats = 0;
    std::vector<DecodeTiming> timings;  // KV cache, recompute, gated
    // Greedy tokens of the KV cache and of the recomputing decode agree (they must).
    bool sameTokens = false;
};

// Greedy from `promptIds` for `tokens` tokens (no stop), each way `repeats` times, interleaved
// so machine noise falls on all of them alike.
GenerateBenchmark benchmarkGeneration(Evaluator& evaluator,
                                      const std::vector<std::int32_t>& promptIds,
                                      std::int64_t tokens, int repeats);

}  // namespace ponder::core
