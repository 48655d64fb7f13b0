// Policy metrics (core/gating/metrics.h) against hand-computed values: summaries, correlations with
// ties, McNemar's test on a known table and the block bootstrap.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/gating/metrics.h"
#include "core/gating/policies.h"
#include "core/gating/run_analysis.h"

using namespace ponder::core;
using Decisions = std::vector<std::uint8_t>;

namespace {

PolicyRun runOf(const std::string& name, Decisions decisions) {
    PolicyRun run;
    run.name = name;
    run.threshold.assign(decisions.size(), kNaN);
    run.rateEma.assign(decisions.size(), kNaN);
    run.decisions = std::move(decisions);
    return run;
}

// Losses skip 2 3 4 1, update 1.5 2 4.5 .5 → advantages .5 1 -.5 .5; oracle at ρ=.5: {1,1,0,0}.
UnitTable fourUnits() {
    UnitTable table;
    table.lossSkip = {2.0, 3.0, 4.0, 1.0};
    table.lossUpdate = {1.5, 2.0, 4.5, 0.5};
    table.advantage = {0.5, 1.0, -0.5, 0.5};
    for (auto* column :
         {&table.reconStep0, &table.reconInit, &table.reconStep1, &table.improvement,
          &table.entropy, &table.confidence, &table.entropyUpdate, &table.confidenceUpdate})
        column->assign(4, 0.1);
    table.block = {0, 0, 1, 1};
    return table;
}

// Units with values `values` in blocks `blocks`, used as update losses of an all-UPDATE run.
UnitTable lossTable(const std::vector<double>& values, const std::vector<std::int64_t>& blocks) {
    UnitTable table;
    table.lossUpdate = values;
    table.lossSkip.assign(values.size(), 0.0);
    table.block = blocks;
    return table;
}

}  // namespace

TEST_CASE("gating: summaries: loss, rate, cost, recovery and agreement by hand", "[metrics]") {
    const auto table = fourUnits();
    PolicySpec oracleSpec;
    oracleSpec.name = "oracle";
    const auto oracle = runPolicy(oracleSpec, table);
    REQUIRE(oracle.decisions == Decisions{1, 1, 0, 0});
    const auto ours = summarise(runOf("ours", {0, 1, 1, 0}), table, oracle);
    CHECK(ours.name == "ours");
    CHECK(ours.units == 4);
    CHECK(ours.loss == Approx((2.0 + 2.0 + 4.5 + 1.0) / 4));  // 2.375
    CHECK(ours.rate == Approx(0.5));
    CHECK(ours.cost == Approx(2.0));
    // L_skip = 2.5, L_oracle = (1.5 + 2 + 4 + 1)/4 = 2.125 → (2.5 - 2.375)/(.375) = 1/3
    CHECK(ours.recovery == Approx(1.0 / 3.0));
    CHECK(ours.agreement == Approx(0.5));  // agrees on units 1 and 3
    const auto best = summarise(oracle, table, oracle);
    CHECK(best.recovery == Approx(1.0));
    CHECK(best.agreement == 1.0);
    const auto skip = summarise(runOf("skip", {0, 0, 0, 0}), table, oracle);
    CHECK(skip.recovery == 0.0);
    CHECK_FALSE(std::signbit(skip.recovery));  // never prints as -0
    CHECK(skip.cost == 1.0);
    // L_skip == L_oracle → recovery undefined.
    auto flat = fourUnits();
    flat.lossUpdate = flat.lossSkip;
    CHECK(std::isnan(summarise(runOf("x", {1, 0, 0, 0}), flat, oracle).recovery));
    const auto empty = summarise(runOf("e", {}), UnitTable{}, runOf("o", {}));
    CHECK(std::isnan(empty.loss));
    CHECK(empty.units == 0);
}

TEST_CASE("gating: pearson and spearman against hand-computed values", "[metrics]") {
    // x = 1..5, y = 2 4 5 4 5: sxy = 6, sxx = 10, syy = 6 → r = 6/sqrt(60) = .7745967
    const std::vector<double> x{1, 2, 3, 4, 5}, y{2, 4, 5, 4, 5};
    CHECK(pearson(x, y) == Approx(6.0 / std::sqrt(60.0)));
    // ranks(y) = 1 2.5 4.5 2.5 4.5 (ties averaged): sxy = 7, syy = 9 → 7/sqrt(90) = .7378648
    CHECK(averageRanks(y) == std::vector<double>{1, 2.5, 4.5, 2.5, 4.5});
    CHECK(spearman(x, y) == Approx(7.0 / std::sqrt(90.0)));
    CHECK(pearson(x, x) == 1.0);
    CHECK(spearman(x, {10, 9, 8, 7, 6}) == Approx(-1.0));
    CHECK(spearman(x, {1, 4, 9, 16, 25}) == Approx(1.0));  // monotone, not linear
    CHECK(averageRanks({3, 3, 3}) == std::vector<double>{2, 2, 2});
    // Constant input or fewer than 2 pairs: undefined.
    CHECK(std::isnan(pearson(x, {1, 1, 1, 1, 1})));
    CHECK(std::isnan(spearman({2, 2, 2}, {1, 2, 3})));
    CHECK(std::isnan(pearson({1}, {2})));
    CHECK(std::isnan(spearman({}, {})));
    CHECK(std::isnan(pearson({1, 2}, {1, 2, 3})));
}

TEST_CASE("gating: signal correlations filter like the published code and report n", "[metrics]") {
    UnitTable table;
    table.reconStep0 = {0.1, 0.2, -0.1, 0.0, std::nan(""), 0.3, 0.4};
    table.advantage = {1, 2, 5, 5, 5, 3, std::nan("")};
    // signal > 0 and both finite: units 0 1 5 → (.1,1) (.2,2) (.3,3): perfectly linear.
    const auto positive = signalCorrelation(Signal::ReconStep0, table);
    CHECK(positive.n == 3);
    CHECK(positive.pearson == Approx(1.0));
    CHECK(positive.spearman == Approx(1.0));
    // All finite: units 0 1 2 3 5, x = .1 .2 -.1 0 .3, y = 1 2 5 5 3.
    // sxy = -.7, sxx = .1, syy = 12.8 → r = -.7/sqrt(1.28) = -.6187184
    // ranks x = 3 4 1 2 5, y = 1 2 4.5 4.5 3: sxy = -5.5, sxx = 10, syy = 9.5 → -.5642881
    const auto all = signalCorrelationAll(Signal::ReconStep0, table);
    CHECK(all.n == 5);
    CHECK(all.pearson == Approx(-0.7 / std::sqrt(1.28)));
    CHECK(all.spearman == Approx(-5.5 / std::sqrt(95.0)));
    // A constant signal correlates with nothing.
    table.reconStep0.assign(7, 0.5);
    CHECK(std::isnan(signalCorrelation(Signal::ReconStep0, table).pearson));
    CHECK(std::isnan(signalCorrelation(Signal::ReconStep0, table).spearman));
}

TEST_CASE("gating: McNemar on a known table: b = 10, c = 2", "[metrics]") {
    // Oracle updates everything; A right / B wrong on 10 units, the reverse on 2, both right
    // on 3 and both wrong on 4.
    Decisions oracle(19, 1), a, b;
    for (int i = 0; i < 10; ++i)
        a.push_back(1), b.push_back(0);
    for (int i = 0; i < 2; ++i)
        a.push_back(0), b.push_back(1);
    for (int i = 0; i < 3; ++i)
        a.push_back(1), b.push_back(1);
    for (int i = 0; i < 4; ++i)
        a.push_back(0), b.push_back(0);
    const auto test = mcnemar(a, b, oracle);
    CHECK(test.b == 10);
    CHECK(test.c == 2);
    CHECK(test.statistic == Approx(49.0 / 12.0));  // (|10-2| - 1)² / 12
    // Exact: 2·(C(12,0) + C(12,1) + C(12,2)) / 2^12 = 2·79/4096 = .0385742
    CHECK(test.pExact == Approx(158.0 / 4096.0));
    CHECK(test.pValue == test.pExact);
    CHECK(test.pChiSquare == Approx(0.04330814281079198));  // erfc(sqrt(49/24))
    // Swapping A and B swaps b and c, not the p-value.
    const auto swapped = mcnemar(b, a, oracle);
    CHECK(swapped.b == 2);
    CHECK(swapped.c == 10);
    CHECK(swapped.pExact == Approx(test.pExact));
    // No discordant pairs, and a balanced table.
    const auto same = mcnemar(a, a, oracle);
    CHECK(same.b + same.c == 0);
    CHECK(same.statistic == 0.0);
    CHECK(same.pValue == 1.0);
    CHECK(binomialTwoSidedP(5, 5) == 1.0);
    // Large counts stay exact (lgamma); chi-square is close: (59²/540 = 6.4463).
    CHECK(binomialTwoSidedP(300, 240) == Approx(0.011050481081930009).epsilon(1e-9));
    CHECK(binomialTwoSidedP(240, 300) == Approx(0.011050481081930009).epsilon(1e-9));
    CHECK_THROWS(mcnemar(a, Decisions{1}, oracle));
}

TEST_CASE("gating: block bootstrap: hand-checkable intervals", "[metrics]") {
    const auto update = [](std::size_t n) { return runOf("update", Decisions(n, 1)); };
    // Two equal blocks with means 1 and 3: a resample's mean is 1, 2 or 3 with probability
    // 1/4, 1/2, 1/4, so the 2.5% and 97.5% points are exactly 1 and 3.
    const auto two = lossTable({1, 1, 3, 3}, {0, 0, 1, 1});
    const auto ci = bootstrapMeanLoss(update(4), two);
    CHECK(ci.estimate == 2.0);
    CHECK(ci.low == 1.0);
    CHECK(ci.high == 3.0);
    CHECK(ci.blocks == 2);
    CHECK(ci.resamples == 2000);
    // Blocks of unequal size: units weigh equally (1 unit of 0, 3 units of 4 → mean 3, not
    // the mean of block means 2); resamples give 0, 3 or 4.
    const auto uneven = bootstrapMeanLoss(update(4), lossTable({0, 4, 4, 4}, {7, 2, 2, 2}));
    CHECK(uneven.estimate == 3.0);
    CHECK(uneven.low == 0.0);
    CHECK(uneven.high == 4.0);
    // One block: degenerate interval at the estimate.
    const auto one = bootstrapMeanLoss(update(3), lossTable({1, 2, 4}, {5, 5, 5}));
    CHECK(one.blocks == 1);
    CHECK(one.low == one.estimate);
    CHECK(one.high == one.estimate);
    CHECK(one.estimate == Approx(7.0 / 3.0));
    // No units.
    const auto none = bootstrapMeanLoss(update(0), lossTable({}, {}));
    CHECK(std::isnan(none.estimate));
    CHECK(none.blocks == 0);
}

TEST_CASE("gating: block bootstrap is seeded, reproducible and brackets the estimate",
          "[metrics]") {
    std::vector<double> values;
    std::vector<std::int64_t> blocks;
    for (int u = 0; u < 200; ++u) {
        values.push_back(std::sin(u * 0.37) + 0.01 * u);
        blocks.push_back(u / 10);  // 20 files of 10 units
    }
    CHECK(contiguousBlocks(25, 10) == [] {
        std::vector<std::int64_t> expected;
        for (int u = 0; u < 25; ++u)
            expected.push_back(u / 10);
        return expected;
    }());
    CHECK(contiguousBlocks(3, 0) == std::vector<std::int64_t>{0, 1, 2});
    const auto table = lossTable(values, blocks);
    const auto run = runOf("update", Decisions(200, 1));
    BootstrapOptions options;
    options.seed = 3;
    const auto first = bootstrapMeanLoss(run, table, options);
    const auto again = bootstrapMeanLoss(run, table, options);
    CHECK(first.low == again.low);
    CHECK(first.high == again.high);
    CHECK(first.low < first.estimate);
    CHECK(first.estimate < first.high);
    CHECK(first.blocks == 20);
    options.seed = 4;
    const auto other = bootstrapMeanLoss(run, table, options);
    CHECK((other.low != first.low || other.high != first.high));
    options.confidence = 0.5;  // a narrower interval inside the 95% one
    const auto narrow = bootstrapMeanLoss(run, table, options);
    CHECK(narrow.high - narrow.low < other.high - other.low);
}

TEST_CASE("gating: bootstrapped recovery and loss difference agree with the point values",
          "[metrics]") {
    const auto table = fourUnits();
    const auto oracle = runOf("oracle", {1, 1, 0, 0});
    const auto ours = runOf("ours", {0, 1, 1, 0});
    const auto recovery = bootstrapRecovery(ours, oracle, table);
    CHECK(recovery.estimate == Approx(1.0 / 3.0));
    CHECK(recovery.blocks == 2);
    CHECK(recovery.low <= recovery.estimate);
    CHECK(recovery.estimate <= recovery.high);
    // Resamples of only block 1 have L_skip == L_oracle (oracle skips both units): NaN,
    // dropped from the interval.
    CHECK(recovery.resamples < 2000);
    const auto difference = bootstrapLossDifference(ours, oracle, table);
    CHECK(difference.estimate == Approx(2.375 - 2.125));
    // Block 0 (units 0, 1): ours - oracle = (2 - 1.5) + 0 = .5 over 2 units → .25;
    // block 1 (units 2, 3): (4.5 - 4) + 0 = .5 → .25. Every resample gives .25.
    CHECK(difference.low == Approx(0.25));
    CHECK(difference.high == Approx(0.25));
}

TEST_CASE("gating: Random's expectation at rho is what summary tables show beside its draw",
          "[metrics]") {
    AnalysisSettings settings;
    settings.ours.rate = 0.25;
    const auto analysis = analyseUnits(fourUnits(), settings);
    const auto expected = expectedRandomSummary(analysis);
    // L_skip 2.5, mean advantage 0.375: 2.5 - 0.25 * 0.375. The oracle updates unit 1 only
    // (k = floor(4 * .25) = 1), so L_oracle = (2 + 2 + 4 + 1) / 4 = 2.25.
    CHECK(expected.loss == Approx(2.40625));
    CHECK(expected.rate == 0.25);
    CHECK(expected.cost == Approx(1.5));
    CHECK(expected.recovery == Approx((2.5 - 2.40625) / (2.5 - 2.25)));
    CHECK(expected.agreement == Approx(0.25 * 0.25 + 0.75 * 0.75));
    CHECK(displayName(analysis.find("Ours")) == "Ours (recon-ema)");
    CHECK(displayName(analysis.find("random")) == "Random Skip");
}

TEST_CASE(
    "gating: a TTT layer trained as UPDATE_N costs 1 + 2N per UPDATE and names its "
    "baseline UPDATE_N",
    "[metrics]") {
    auto table = fourUnits();
    table.updateSteps = 2;
    AnalysisSettings settings;
    settings.ours.rate = 0.25;
    const auto analysis = analyseUnits(table, settings);
    const auto& update = analysis.find("update");
    CHECK(update.method == "UPDATE_2");
    CHECK(update.summary.cost == Approx(5.0));
    const auto& ours = analysis.find("Ours").summary;
    CHECK(ours.cost == Approx(1.0 + 4.0 * ours.rate));
    CHECK(expectedRandomSummary(analysis).cost == Approx(1.0 + 4.0 * 0.25));
    CHECK(analysis.find("SKIP").summary.cost == 1.0);
    CHECK(analyseUnits(fourUnits(), settings).find("update").method == "UPDATE_1");
}
