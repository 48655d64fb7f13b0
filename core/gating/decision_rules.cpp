// The fixed, random and oracle decision rules (algorithm.md §5).
#include "core/gating/decision_rules.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

namespace ponder::core {

std::vector<std::uint8_t> decideSkip(std::size_t units) {
    return std::vector<std::uint8_t>(units, 0);
}
std::vector<std::uint8_t> decideUpdate(std::size_t units) {
    return std::vector<std::uint8_t>(units, 1);
}

std::vector<std::uint8_t> decideRandom(std::size_t units, double rate, std::uint64_t seed) {
    std::mt19937_64 generator(seed);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::vector<std::uint8_t> decisions(units);
    for (auto& decision : decisions)
        decision = uniform(generator) < rate ? 1 : 0;
    return decisions;
}

std::vector<std::uint8_t> decideOracle(const std::vector<double>& advantages, double rate) {
    const std::size_t n = advantages.size();
    if (n == 0) return {};
    const auto k = static_cast<std::size_t>(std::floor(double(n) * rate));
    return decideTopK(advantages, std::max<std::size_t>(1, k));
}

std::vector<std::uint8_t> decideTopK(const std::vector<double>& values, std::size_t k) {
    const std::size_t n = values.size();
    std::vector<std::uint8_t> decisions(n, 0);
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    // NaN (not computed, e.g. a gated fast-path run's SKIP units) ranks last: a strict weak
    // order for the sort, and never chosen before a known value.
    const auto key = [&](std::size_t i) {
        return std::isnan(values[i]) ? -std::numeric_limits<double>::infinity() : values[i];
    };
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return key(a) > key(b); });
    for (std::size_t i = 0; i < std::min(k, n); ++i)
        decisions[order[i]] = 1;
    return decisions;
}

}  // namespace ponder::core
