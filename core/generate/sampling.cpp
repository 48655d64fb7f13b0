// Greedy, temperature and nucleus sampling over one row of logits.
#include "core/generate/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/util/errors.h"

namespace ponder::core {

void validateSampling(const SamplingOptions& options) {
    if (!std::isfinite(options.temperature) || options.temperature < 0)
        throw InputError("temperature must be 0 (greedy) or positive, not " +
                             std::to_string(options.temperature),
                         "use {--temperature 0} for greedy decoding, e.g. 0.8 to sample");
    if (!(options.topP > 0 && options.topP <= 1))
        throw InputError("top-p must be in (0, 1], not " + std::to_string(options.topP),
                         "use {--top-p 1} to sample from the whole distribution, e.g. 0.95");
}

TokenSampler::TokenSampler(const SamplingOptions& options)
    : m_options(options), m_generator(options.seed) {
    validateSampling(options);
}

double TokenSampler::uniform() {
    return double(m_generator() >> 11) * (1.0 / 9007199254740992.0);  // 2^-53
}

std::int32_t TokenSampler::sample(const float* logits, std::size_t count) {
    const auto best = std::max_element(logits, logits + count) - logits;
    if (m_options.temperature == 0.0) return std::int32_t(best);
    std::vector<double> weights(count);
    for (std::size_t i = 0; i < count; ++i)
        weights[i] = std::exp((double(logits[i]) - double(logits[best])) / m_options.temperature);
    std::vector<std::int32_t> order(count);
    std::iota(order.begin(), order.end(), 0);
    std::size_t kept = count;
    if (m_options.topP < 1.0) {
        // Most likely first (index order on ties); keep until the mass reaches top-p.
        std::stable_sort(order.begin(), order.end(),
                         [&](std::int32_t a, std::int32_t b) { return weights[a] > weights[b]; });
        const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
        double mass = 0;
        kept = 0;
        while (kept < count) {
            mass += weights[order[kept++]];
            if (mass >= m_options.topP * total) break;
        }
    }
    double total = 0;
    for (std::size_t i = 0; i < kept; ++i)
        total += weights[order[i]];
    double target = uniform() * total;
    for (std::size_t i = 0; i < kept; ++i) {
        target -= weights[order[i]];
        if (target < 0) return order[i];
    }
    return order[kept - 1];
}

}  // namespace ponder::core
