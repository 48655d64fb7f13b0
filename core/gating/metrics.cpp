// Policy metrics (design.md §7): summaries, correlations, McNemar's test and block-bootstrap
// confidence intervals, all on plain vectors.
#include "core/gating/metrics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <stdexcept>

namespace ponder::core {

namespace {

double rateOf(const std::vector<std::uint8_t>& decisions) {
    if (decisions.empty()) return kNaN;
    const auto updates = std::count(decisions.begin(), decisions.end(), std::uint8_t(1));
    return double(updates) / double(decisions.size());
}

// (L_skip - L) / (L_skip - L_oracle); + 0.0 turns the -0 of SKIP itself into 0.
double recoveryOf(double skipLoss, double loss, double oracleLoss) {
    if (skipLoss == oracleLoss) return kNaN;
    return (skipLoss - loss) / (skipLoss - oracleLoss) + 0.0;
}

// Linear interpolation between order statistics of sorted `values` (numpy's default).
double quantileSorted(const std::vector<double>& values, double q) {
    if (values.empty()) return kNaN;
    const double position = q * double(values.size() - 1);
    const auto lower = static_cast<std::size_t>(std::floor(position));
    const std::size_t upper = std::min(lower + 1, values.size() - 1);
    return values[lower] + (position - double(lower)) * (values[upper] - values[lower]);
}

Correlation correlate(const std::vector<double>& s, const std::vector<double>& advantage,
                      bool positiveOnly) {
    std::vector<double> x, y;
    const std::size_t n = std::min(s.size(), advantage.size());
    for (std::size_t u = 0; u < n; ++u) {
        if (!std::isfinite(s[u]) || !std::isfinite(advantage[u])) continue;
        if (positiveOnly && !(s[u] > 0)) continue;
        x.push_back(s[u]);
        y.push_back(advantage[u]);
    }
    return {pearson(x, y), spearman(x, y), x.size()};
}

std::vector<double> chosenLosses(const std::vector<std::uint8_t>& decisions,
                                 const UnitTable& table) {
    std::vector<double> losses(decisions.size());
    for (std::size_t u = 0; u < decisions.size(); ++u)
        losses[u] = decisions[u] ? table.lossUpdate[u] : table.lossSkip[u];
    return losses;
}

}  // namespace

double meanChosenLoss(const std::vector<std::uint8_t>& decisions, const UnitTable& table) {
    if (decisions.empty()) return kNaN;
    double total = 0;
    for (std::size_t u = 0; u < decisions.size(); ++u)
        total += decisions[u] ? table.lossUpdate[u] : table.lossSkip[u];
    return total / double(decisions.size());
}

PolicySummary summarise(const PolicyRun& run, const UnitTable& table, const PolicyRun& oracle) {
    PolicySummary summary;
    summary.name = run.name;
    summary.units = run.decisions.size();
    if (run.decisions.empty()) return summary;
    if (oracle.decisions.size() != run.decisions.size() || table.size() != run.decisions.size())
        throw std::invalid_argument("summarise: run, oracle and table differ in length");
    summary.loss = meanChosenLoss(run.decisions, table);
    summary.rate = rateOf(run.decisions);
    // Notional cost (algorithm.md §5): SKIP 1, UPDATE_N 1 + 2N.
    summary.cost = table.costAtRate(summary.rate);
    const double skipLoss =
        std::accumulate(table.lossSkip.begin(), table.lossSkip.end(), 0.0) / double(table.size());
    summary.recovery = recoveryOf(skipLoss, summary.loss, meanChosenLoss(oracle.decisions, table));
    std::size_t agree = 0;
    for (std::size_t u = 0; u < run.decisions.size(); ++u)
        agree += run.decisions[u] == oracle.decisions[u];
    summary.agreement = double(agree) / double(run.decisions.size());
    return summary;
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
    const std::size_t n = x.size();
    if (n < 2 || y.size() != n) return kNaN;
    const double meanX = std::accumulate(x.begin(), x.end(), 0.0) / double(n);
    const double meanY = std::accumulate(y.begin(), y.end(), 0.0) / double(n);
    double sxy = 0, sxx = 0, syy = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double dx = x[i] - meanX, dy = y[i] - meanY;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if (sxx == 0 || syy == 0) return kNaN;
    // Rounding can push |r| a hair past 1 for exactly linear data.
    return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
}

std::vector<double> averageRanks(const std::vector<double>& values) {
    const std::size_t n = values.size();
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
    std::vector<double> ranks(n);
    for (std::size_t i = 0; i < n;) {
        std::size_t j = i + 1;
        while (j < n && values[order[j]] == values[order[i]])
            ++j;
        const double rank = 0.5 * double(i + 1 + j);  // mean of 1-based ranks i+1 .. j
        for (std::size_t k = i; k < j; ++k)
            ranks[order[k]] = rank;
        i = j;
    }
    return ranks;
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
    if (x.size() < 2 || y.size() != x.size()) return kNaN;
    return pearson(averageRanks(x), averageRanks(y));
}

Correlation signalCorrelation(Signal signal, const UnitTable& table, AdvantagePart part) {
    return correlate(table.signal(signal), table.advantageOf(part), true);
}

Correlation signalCorrelationAll(Signal signal, const UnitTable& table, AdvantagePart part) {
    return correlate(table.signal(signal), table.advantageOf(part), false);
}

Correlation correlationWithAdvantage(const std::vector<double>& score, const UnitTable& table,
                                     AdvantagePart part) {
    return correlate(score, table.advantageOf(part), false);
}

double binomialTwoSidedP(std::size_t b, std::size_t c) {
    const std::size_t n = b + c;
    if (n == 0) return 1.0;
    const std::size_t k = std::min(b, c);
    // Terms C(n, i) / 2^n in log space: exact enough at any n (tiny terms underflow to 0).
    const double logHalfPowN = -double(n) * std::log(2.0);
    const double logNFactorial = std::lgamma(double(n) + 1);
    double tail = 0;
    for (std::size_t i = 0; i <= k; ++i)
        tail += std::exp(logNFactorial - std::lgamma(double(i) + 1) -
                         std::lgamma(double(n - i) + 1) + logHalfPowN);
    return std::min(1.0, 2.0 * tail);
}

McNemar mcnemar(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b,
                const std::vector<std::uint8_t>& oracle) {
    if (a.size() != oracle.size() || b.size() != oracle.size())
        throw std::invalid_argument("mcnemar: decision vectors differ in length");
    McNemar result;
    for (std::size_t u = 0; u < oracle.size(); ++u) {
        const bool aCorrect = a[u] == oracle[u], bCorrect = b[u] == oracle[u];
        result.b += aCorrect && !bCorrect;
        result.c += !aCorrect && bCorrect;
    }
    const double discordant = double(result.b + result.c);
    if (discordant > 0) {
        const double excess = std::max(0.0, std::abs(double(result.b) - double(result.c)) - 1);
        result.statistic = excess * excess / discordant;
        result.pChiSquare = std::erfc(std::sqrt(result.statistic / 2));
    }
    result.pExact = binomialTwoSidedP(result.b, result.c);
    result.pValue = result.pExact;
    return result;
}

std::vector<std::int64_t> contiguousBlocks(std::size_t units, std::size_t blockSize) {
    blockSize = std::max<std::size_t>(1, blockSize);
    std::vector<std::int64_t> blocks(units);
    for (std::size_t u = 0; u < units; ++u)
        blocks[u] = static_cast<std::int64_t>(u / blockSize);
    return blocks;
}

BootstrapInterval blockBootstrap(
    const std::vector<std::int64_t>& block, const std::vector<std::vector<double>>& columns,
    const std::function<double(const std::vector<double>& sums, double units)>& statistic,
    const BootstrapOptions& options) {
    for (const auto& column : columns)
        if (column.size() != block.size())
            throw std::invalid_argument("blockBootstrap: a column differs in length from block");
    BootstrapInterval interval;
    if (block.empty()) return interval;

    // Per-block sums, so a resample costs O(blocks · columns), not O(units).
    std::map<std::int64_t, std::size_t> index;
    for (const auto id : block)
        index.emplace(id, 0);
    std::size_t next = 0;
    for (auto& entry : index)
        entry.second = next++;
    const std::size_t blocks = index.size(), k = columns.size();
    std::vector<double> blockSums(blocks * k, 0.0), blockUnits(blocks, 0.0);
    for (std::size_t u = 0; u < block.size(); ++u) {
        const std::size_t b = index[block[u]];
        blockUnits[b] += 1;
        for (std::size_t j = 0; j < k; ++j)
            blockSums[b * k + j] += columns[j][u];
    }
    const auto evaluate = [&](const std::vector<double>& draws) {
        std::vector<double> sums(k, 0.0);
        double units = 0;
        for (std::size_t b = 0; b < blocks; ++b) {
            if (draws[b] == 0) continue;
            units += draws[b] * blockUnits[b];
            for (std::size_t j = 0; j < k; ++j)
                sums[j] += draws[b] * blockSums[b * k + j];
        }
        return statistic(sums, units);
    };

    interval.blocks = blocks;
    std::vector<double> draws(blocks, 1.0);
    interval.estimate = evaluate(draws);
    std::mt19937_64 generator(options.seed);
    std::uniform_int_distribution<std::size_t> pick(0, blocks - 1);
    std::vector<double> values;
    values.reserve(static_cast<std::size_t>(std::max(0, options.resamples)));
    for (int r = 0; r < options.resamples; ++r) {
        std::fill(draws.begin(), draws.end(), 0.0);
        for (std::size_t i = 0; i < blocks; ++i)
            draws[pick(generator)] += 1;
        const double value = evaluate(draws);
        if (!std::isnan(value)) values.push_back(value);
    }
    std::sort(values.begin(), values.end());
    interval.resamples = values.size();
    interval.low = quantileSorted(values, (1 - options.confidence) / 2);
    interval.high = quantileSorted(values, (1 + options.confidence) / 2);
    return interval;
}

BootstrapInterval bootstrapMeanLoss(const PolicyRun& run, const UnitTable& table,
                                    const BootstrapOptions& options) {
    return blockBootstrap(
        table.block, {chosenLosses(run.decisions, table)},
        [](const std::vector<double>& sums, double units) { return sums[0] / units; }, options);
}

BootstrapInterval bootstrapRecovery(const PolicyRun& run, const PolicyRun& oracle,
                                    const UnitTable& table, const BootstrapOptions& options) {
    return blockBootstrap(
        table.block,
        {table.lossSkip, chosenLosses(run.decisions, table), chosenLosses(oracle.decisions, table)},
        [](const std::vector<double>& sums, double units) {
            return recoveryOf(sums[0] / units, sums[1] / units, sums[2] / units);
        },
        options);
}

BootstrapInterval bootstrapLossDifference(const PolicyRun& a, const PolicyRun& b,
                                          const UnitTable& table, const BootstrapOptions& options) {
    auto difference = chosenLosses(a.decisions, table);
    const auto lossesB = chosenLosses(b.decisions, table);
    for (std::size_t u = 0; u < difference.size(); ++u)
        difference[u] -= lossesB[u];
    return blockBootstrap(
        table.block, {difference},
        [](const std::vector<double>& sums, double units) { return sums[0] / units; }, options);
}

bool showableInterval(const BootstrapInterval& interval) {
    return interval.blocks >= kMinBootstrapBlocks && std::isfinite(interval.low) &&
           std::isfinite(interval.high);
}

}  // namespace ponder::core
