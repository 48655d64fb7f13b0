// Gating policies over ordered unit records, as pure functions (design.md §5): the fixed
// ones, seeded random and the greedy oracle. Torch-free; replaying one costs microseconds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ponder::core {

struct UnitLosses {
    std::vector<double> lossSkip, lossUpdate;  // per unit, in data order
    std::size_t size() const { return lossSkip.size(); }
};

struct PolicyOutcome {
    std::string name;
    std::vector<std::uint8_t> decisions;  // 1 = UPDATE
    std::vector<double> threshold;        // τ_t per unit; empty for policies without one
    double loss = 0;      // mean over units of the chosen path's loss
    double rate = 0;      // realized update rate
    double cost = 1;      // 1 + 2 * rate (algorithm.md §5 cost model)
    double recovery = 0;  // (L_skip - L) / (L_skip - L_oracle); NaN when L_skip == L_oracle
};

std::vector<std::uint8_t> decideSkip(std::size_t units);
std::vector<std::uint8_t> decideUpdate(std::size_t units);
// Bernoulli(rate) per unit from a seeded generator (the published code's JAX draws cannot be
// reproduced bit for bit, algorithm.md §9.13; only the statistics match).
std::vector<std::uint8_t> decideRandom(std::size_t units, double rate, std::uint64_t seed);
// Greedy oracle (algorithm.md §5): the top max(1, floor(N * rate)) units by advantage,
// stable for ties (earlier units first).
std::vector<std::uint8_t> decideOracle(const std::vector<double>& advantages, double rate);

// Loss, rate, cost and recovery of `decisions`; the oracle loss comes from `oracleDecisions`.
PolicyOutcome summarisePolicy(std::string name, std::vector<std::uint8_t> decisions,
                              const UnitLosses& losses,
                              const std::vector<std::uint8_t>& oracleDecisions);

}  // namespace ponder::core
