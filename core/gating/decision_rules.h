// The decision rules that need no state (design.md §5): fixed, seeded random and the greedy
// oracle; policies.h builds every policy on them. Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ponder::core {

std::vector<std::uint8_t> decideSkip(std::size_t units);
std::vector<std::uint8_t> decideUpdate(std::size_t units);
// Bernoulli(rate) per unit from a seeded generator (the published code's JAX draws cannot be
// reproduced bit for bit, algorithm.md §9.13; only the statistics match).
std::vector<std::uint8_t> decideRandom(std::size_t units, double rate, std::uint64_t seed);
// Greedy oracle (algorithm.md §5): the top max(1, floor(N * rate)) units by advantage,
// stable for ties (earlier units first).
std::vector<std::uint8_t> decideOracle(const std::vector<double>& advantages, double rate);
// The top `k` units by `values` (all of them when k >= N), stable for ties: the ranking both the
// oracle above and the same-rate comparison (exports' gates_same_rate table) use.
std::vector<std::uint8_t> decideTopK(const std::vector<double>& values, std::size_t k);

}  // namespace ponder::core
