// Metrics of replayed policies (design.md §7, algorithm.md §5 "Derived metrics"): loss, rate,
// cost, Oracle Recovery, agreement, correlations, McNemar's test and block-bootstrap CIs.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/gating/policies.h"

namespace ponder::core {

struct PolicySummary {
    std::string name;
    std::size_t units = 0;
    double loss = kNaN;       // mean over units of the chosen path's loss
    double rate = kNaN;       // realized update rate (includes forced calibration UPDATEs)
    double cost = kNaN;       // 1 + 2·rate (notional cost model, algorithm.md §5)
    double recovery = kNaN;   // (L_skip - L) / (L_skip - L_oracle); NaN when L_skip == L_oracle
    double agreement = kNaN;  // mean [d == d_oracle] (Table 5's decision accuracy)
};

// NaN fields for an empty run; std::invalid_argument when run, oracle and table differ in
// length. Recovery of SKIP itself is +0, never -0.
PolicySummary summarise(const PolicyRun& run, const UnitTable& table, const PolicyRun& oracle);

// Mean over units of the loss of the path `decisions` chose.
double meanChosenLoss(const std::vector<std::uint8_t>& decisions, const UnitTable& table);

// Pearson's r and Spearman's ρ (ranks averaged over ties, then Pearson on the ranks). NaN for
// fewer than 2 pairs, different lengths or a constant input. No NaN filtering here.
double pearson(const std::vector<double>& x, const std::vector<double>& y);
double spearman(const std::vector<double>& x, const std::vector<double>& y);
// 1-based ranks, ties get the mean of the ranks they span (scipy's rankdata "average").
std::vector<double> averageRanks(const std::vector<double>& values);

struct Correlation {
    double pearson = kNaN, spearman = kNaN;
    std::size_t n = 0;  // units used
};
// Signal vs advantage as the published code computes it (algorithm.md §5 "Pearson/Spearman"):
// over units whose signal is > 0 and finite and whose advantage is finite. `part` picks the
// published advantage or one of its two parts (algorithm.md §4.1; n 0 and NaN without them).
Correlation signalCorrelation(Signal signal, const UnitTable& table,
                              AdvantagePart part = AdvantagePart::Whole);
// The same over every unit whose signal and advantage are finite (needed for signals that are
// negative by nature, e.g. improvement, or for a z-scored signal).
Correlation signalCorrelationAll(Signal signal, const UnitTable& table,
                                 AdvantagePart part = AdvantagePart::Whole);
// Any per-unit score (a policy's own, PolicyRun::score) against the advantage, over every unit
// where both are finite.
Correlation correlationWithAdvantage(const std::vector<double>& score, const UnitTable& table,
                                     AdvantagePart part = AdvantagePart::Whole);

// McNemar's test of two policies' correctness against the oracle's decision per unit (paper
// §5): b = units where A agrees with the oracle and B does not, c = the reverse.
struct McNemar {
    std::size_t b = 0, c = 0;
    double statistic = 0;   // (|b - c| - 1)² / (b + c), continuity-corrected; 0 when b + c = 0
    double pChiSquare = 1;  // survival of chi²(1) at `statistic`: erfc(sqrt(statistic / 2))
    double pExact = 1;      // exact two-sided binomial: min(1, 2·P(X <= min(b, c))), X~B(b+c, ½)
    double pValue = 1;      // the one to report: always pExact (exact at any n, via lgamma)
};
McNemar mcnemar(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b,
                const std::vector<std::uint8_t>& oracle);
// Exact two-sided sign-test p-value for b successes against c (symmetric, capped at 1).
double binomialTwoSidedP(std::size_t b, std::size_t c);

struct BootstrapOptions {
    int resamples = 2000;
    std::uint64_t seed = 42;
    double confidence = 0.95;  // percentile interval [(1-c)/2, (1+c)/2]
};

struct BootstrapInterval {
    double estimate = kNaN;  // the statistic on the data as is
    double low = kNaN, high = kNaN;
    std::size_t blocks = 0;     // distinct block ids
    std::size_t resamples = 0;  // resamples whose statistic was not NaN (the interval uses those)
};

// Percentile block bootstrap: each resample draws `blocks` block ids with replacement (seeded
// mt19937_64) and keeps every unit of each drawn block, so units within a block (one file)
// stay together. The statistic sees only sums: `statistic(sums, units)` gets, for each column,
// the sum over the resample's units (a unit counted once per draw of its block) and the
// resample's unit count. Means, differences and ratios of means (recovery) fit this form.
// Quantiles interpolate linearly between order statistics (numpy's default). One block gives
// a degenerate interval low = high = estimate; no units give NaN everywhere. Paper mode, where
// units mix files, should pass contiguous blocks (contiguousBlocks) in `block`.
BootstrapInterval blockBootstrap(
    const std::vector<std::int64_t>& block, const std::vector<std::vector<double>>& columns,
    const std::function<double(const std::vector<double>& sums, double units)>& statistic,
    const BootstrapOptions& options = {});

// The fewest blocks (files; batches in paper mode) an interval is shown for (algorithm.md §8.3):
// with n blocks a percentile bootstrap has only C(2n-1, n) distinct resamples (3 for two files,
// whose "95% CI" is their min and max) and covers far less than its nominal 95% for small n.
constexpr std::size_t kMinBootstrapBlocks = 10;
// True when `interval` rests on at least kMinBootstrapBlocks blocks and is finite: the only
// intervals a table, the studio or an export shows.
bool showableInterval(const BootstrapInterval& interval);

// Unit u goes to block u / blockSize (blockSize 0 is taken as 1).
std::vector<std::int64_t> contiguousBlocks(std::size_t units, std::size_t blockSize);

// CIs of a policy's mean loss, its Oracle Recovery (the oracle decisions are held fixed) and
// the mean loss difference A - B, over table.block.
BootstrapInterval bootstrapMeanLoss(const PolicyRun& run, const UnitTable& table,
                                    const BootstrapOptions& options = {});
BootstrapInterval bootstrapRecovery(const PolicyRun& run, const PolicyRun& oracle,
                                    const UnitTable& table, const BootstrapOptions& options = {});
BootstrapInterval bootstrapLossDifference(const PolicyRun& a, const PolicyRun& b,
                                          const UnitTable& table,
                                          const BootstrapOptions& options = {});

}  // namespace ponder::core
