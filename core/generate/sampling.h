// Choosing the next token from a row of logits: greedy, temperature and top-p (nucleus)
// sampling from a seeded generator of our own, so a seed gives the same text on every machine.
// Torch-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>

namespace ponder::core {

struct SamplingOptions {
    double temperature = 0.0;  // 0: greedy (the most likely token, the first on ties)
    double topP = 1.0;         // keep the fewest most likely tokens whose mass reaches topP
    std::uint64_t seed = 42;
};

// InputError (with a hint) for a negative or non-finite temperature or topP outside (0, 1].
void validateSampling(const SamplingOptions& options);

class TokenSampler {
public:
    explicit TokenSampler(const SamplingOptions& options);
    // The chosen index in logits[0 .. count).
    std::int32_t sample(const float* logits, std::size_t count);

private:
    double uniform();  // [0, 1) from 53 bits of the generator: the same on every platform
    SamplingOptions m_options;
    std::mt19937_64 m_generator;
};

}  // namespace ponder::core
