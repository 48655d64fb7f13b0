// Slices of a run by file (core/gating/slices.h): a slice of every unit is the analysis, the
// per-file table equals sums over the unit records by hand, and a slice keeps the decisions the
// whole run made (an EMA's trajectory, the Oracle's whole-run ranking).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/eval/evaluator.h"
#include "core/gating/run_analysis.h"
#include "core/gating/slices.h"

using namespace ponder::core;

namespace {

constexpr std::size_t kFileA = 24, kFileB = 16;

// Two files: a.py (24 units) then b.py (16), b's advantages higher, so the whole run's Oracle
// updates more than half of b and fewer than half of a (a replay on one file would not).
std::vector<UnitRecord> twoFiles() {
    std::vector<UnitRecord> units;
    for (std::size_t i = 0; i < kFileA + kFileB; ++i) {
        const bool b = i >= kFileA;
        UnitRecord u;
        u.unit = std::int64_t(i);
        u.fileIndex = b ? 1 : 0;
        u.file = b ? "src/b.py" : "src/a.py";
        u.chunkIndex = std::int64_t(b ? i - kFileA : i);
        u.tokenStart = u.chunkIndex * 64;
        u.tokens = 64;
        u.lossSkip = 3.0 + 0.1 * double((i * 5) % 7);
        u.advantage = 0.02 * double((i * 7) % 11) - 0.05 + (b ? 0.06 : 0.0);
        u.lossUpdate = u.lossSkip - u.advantage;
        u.reconStep0 = 1.0 + 0.5 * u.advantage + 0.01 * double((i * 3) % 5);
        u.reconInit = u.reconStep0 + 0.02;
        u.reconStep1 = u.reconStep0 - 0.05;
        u.improvement = u.reconStep0 - u.reconStep1;
        u.entropy = 2.0 + 0.1 * double(i % 4);
        u.confidence = 0.3 + 0.05 * double(i % 3);
        u.entropyUpdate = u.entropy - 0.1;
        u.confidenceUpdate = u.confidence + 0.02;
        units.push_back(u);
    }
    return units;
}

// Ours = recon-ema (paper calibration: 16 forced units, then an EMA threshold), beside a fixed
// threshold (reported at its own rate) and the improvement top-k.
AnalysisSettings settings(const std::string& ours = "recon-ema") {
    AnalysisSettings s;
    s.ours.name = ours;
    s.ours.rate = 0.5;
    s.ours.threshold = 1.06;  // `threshold`'s τ on recon_step0: it updates 18 of 40
    s.extraPolicies = {"threshold", "improvement-topk"};
    return s;
}

bool same(double a, double b) {
    return (std::isnan(a) && std::isnan(b)) || a == b;
}

void checkSame(const std::vector<double>& a, const std::vector<double>& b) {
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO("unit " << i);
        CHECK(same(a[i], b[i]));
    }
}

void checkSame(const PolicySummary& a, const PolicySummary& b) {
    CHECK(a.name == b.name);
    CHECK(a.units == b.units);
    CHECK(same(a.loss, b.loss));
    CHECK(same(a.rate, b.rate));
    CHECK(same(a.cost, b.cost));
    CHECK(same(a.recovery, b.recovery));
    CHECK(same(a.agreement, b.agreement));
}

void checkSame(const SameRateComparison& a, const SameRateComparison& b) {
    CHECK(same(a.rate, b.rate));
    CHECK(same(a.loss, b.loss));
    CHECK(same(a.randomExpected, b.randomExpected));
    CHECK(same(a.oracleLoss, b.oracleLoss));
    CHECK(same(a.capture, b.capture));
    CHECK(same(a.recovery, b.recovery));
    CHECK(same(a.agreement, b.agreement));
}

std::vector<std::size_t> allUnits(std::size_t n) {
    std::vector<std::size_t> indices(n);
    std::iota(indices.begin(), indices.end(), std::size_t(0));
    return indices;
}

double mean(const std::vector<double>& values) {
    return std::accumulate(values.begin(), values.end(), 0.0) / double(values.size());
}

// Mean over `indices` of the loss of the path `decisions` (whole-run, indexed by unit) chose.
double chosenLoss(const std::vector<UnitRecord>& units, const std::vector<std::uint8_t>& decisions,
                  const std::vector<std::size_t>& indices) {
    std::vector<double> losses;
    for (auto i : indices)
        losses.push_back(decisions[i] ? units[i].lossUpdate : units[i].lossSkip);
    return mean(losses);
}

double rateOn(const std::vector<std::uint8_t>& decisions, const std::vector<std::size_t>& indices) {
    double updated = 0;
    for (auto i : indices)
        updated += decisions[i];
    return updated / double(indices.size());
}

}  // namespace

TEST_CASE("gating: a slice of every unit is the analysis itself", "[gating][slices]") {
    const auto units = twoFiles();
    const auto table = unitTableFrom(units);
    for (const auto& ours : {std::string("recon-ema"), std::string("threshold")}) {
        INFO("Ours = " << ours);
        const auto whole = analyseUnits(table, settings(ours));
        CHECK(whole.oursOwnRate == (ours == "threshold"));  // both ways of judging Ours
        const auto slice = sliceAnalysis(whole, allUnits(units.size()));
        CHECK(slice.baselineRate == whole.baselineRate);
        CHECK(slice.oursOwnRate == whole.oursOwnRate);
        checkSame(slice.table.lossSkip, whole.table.lossSkip);
        checkSame(slice.table.advantage, whole.table.advantage);
        checkSame(slice.table.confidenceUpdate, whole.table.confidenceUpdate);
        CHECK(slice.table.fileIndex == whole.table.fileIndex);
        CHECK(slice.table.block == whole.table.block);
        CHECK(slice.table.gateFeatures.size() == whole.table.gateFeatures.size());
        REQUIRE(slice.policies.size() == whole.policies.size());
        for (std::size_t i = 0; i < whole.policies.size(); ++i) {
            const auto& a = slice.policies[i];
            const auto& b = whole.policies[i];
            INFO("policy " << b.method);
            CHECK(a.method == b.method);
            CHECK(a.spec.name == b.spec.name);
            CHECK(a.ownRate == b.ownRate);
            CHECK(a.run.decisions == b.run.decisions);
            checkSame(a.run.threshold, b.run.threshold);
            checkSame(a.run.rateEma, b.run.rateEma);
            checkSame(a.run.score, b.run.score);
            checkSame(a.summary, b.summary);
            checkSame(a.sameRate, b.sameRate);
        }
        const auto rowsA = summaryRows(slice), rowsB = summaryRows(whole);
        REQUIRE(rowsA.size() == rowsB.size());
        for (std::size_t i = 0; i < rowsA.size(); ++i)
            checkSame(rowsA[i].summary, rowsB[i].summary);
    }
}

TEST_CASE("gating: per-file rows are the whole run's decisions summed over each file",
          "[gating][slices]") {
    const auto units = twoFiles();
    const auto whole = analyseUnits(unitTableFrom(units), settings());
    const auto& ours = whole.find("Ours").run.decisions;
    const auto& oracle = whole.find("Oracle").run.decisions;
    const auto rows = perFileRows(whole, units);
    REQUIRE(rows.size() == 2);
    for (std::int64_t f = 0; f < 2; ++f) {
        INFO("file " << f);
        const auto indices = unitsOfFiles(units, {f});
        REQUIRE(indices.size() == (f == 0 ? kFileA : kFileB));
        const auto& row = rows[std::size_t(f)];
        CHECK(row.fileIndex == f);
        CHECK(row.file == (f == 0 ? "src/a.py" : "src/b.py"));
        CHECK(row.units == indices.size());
        std::vector<double> skip, update;
        for (auto i : indices) {
            skip.push_back(units[i].lossSkip);
            update.push_back(units[i].lossUpdate);
        }
        const double lossSkip = mean(skip), lossOurs = chosenLoss(units, ours, indices);
        const double lossOracle = chosenLoss(units, oracle, indices);
        CHECK(row.lossSkip == Approx(lossSkip));
        CHECK(row.lossUpdate == Approx(mean(update)));
        CHECK(row.lossOurs == Approx(lossOurs));
        CHECK(row.lossOracle == Approx(lossOracle));
        CHECK(row.oursRate == Approx(rateOn(ours, indices)));
        CHECK(row.oracleRate == Approx(rateOn(oracle, indices)));
        CHECK(row.recovery == Approx((lossSkip - lossOurs) / (lossSkip - lossOracle)));
        // The whole run's Oracle, not one ranked on this file alone (which updates half).
        CHECK(row.oracleRate != Approx(0.5));
        // A one-file slice gives the same numbers as its row.
        const auto slice = sliceAnalysis(whole, indices);
        CHECK(slice.find("Ours").summary.recovery == row.recovery);
        CHECK(slice.find("Oracle").summary.loss == row.lossOracle);
        // Random's row: its expectation at the whole run's ρ over this file's units.
        const auto random = summaryRows(slice)[2];
        REQUIRE(random.label == "Random Skip (expected)");
        std::vector<double> advantage;
        for (auto i : indices)
            advantage.push_back(units[i].advantage);
        CHECK(random.summary.loss == Approx(lossSkip - 0.5 * mean(advantage)));
        CHECK(random.summary.units == indices.size());
    }
}

TEST_CASE("gating: a policy at its own rate is judged against its whole-run Oracle on a slice",
          "[gating][slices]") {
    const auto units = twoFiles();
    const auto whole = analyseUnits(unitTableFrom(units), settings());
    const auto& threshold = whole.find("threshold");
    REQUIRE(threshold.ownRate);
    // The Oracle that updates as many units as `threshold` did on the whole run, by hand.
    const double rate = rateOn(threshold.run.decisions, allUnits(units.size()));
    const auto k = std::size_t(std::llround(rate * double(units.size())));
    REQUIRE(k != std::size_t(units.size() / 2));  // not the baseline Oracle's budget
    std::vector<std::size_t> byAdvantage = allUnits(units.size());
    std::stable_sort(byAdvantage.begin(), byAdvantage.end(), [&](std::size_t a, std::size_t b) {
        return units[a].advantage > units[b].advantage;
    });
    std::vector<std::uint8_t> ownOracle(units.size(), 0);
    for (std::size_t r = 0; r < k; ++r)
        ownOracle[byAdvantage[r]] = 1;
    const auto indices = unitsOfFiles(units, {1});
    const auto slice = sliceAnalysis(whole, indices);
    std::vector<double> skip;
    for (auto i : indices)
        skip.push_back(units[i].lossSkip);
    const double lossSkip = mean(skip);
    const double loss = chosenLoss(units, threshold.run.decisions, indices);
    const double oracleLoss = chosenLoss(units, ownOracle, indices);
    // An Oracle ranked on this file alone at the rate `threshold` realized here would update
    // another number of units than the whole run's does here.
    const double sliceRate = rateOn(threshold.run.decisions, indices);
    REQUIRE(rateOn(ownOracle, indices) != Approx(sliceRate));
    const auto& part = slice.find("threshold");
    CHECK(part.summary.loss == Approx(loss));
    CHECK(part.summary.recovery == Approx((lossSkip - loss) / (lossSkip - oracleLoss)));
    CHECK(part.sameRate.recovery == part.summary.recovery);
    CHECK(part.sameRate.oracleLoss == Approx(oracleLoss));
    double agree = 0;
    for (auto i : indices)
        agree += threshold.run.decisions[i] == ownOracle[i];
    CHECK(part.summary.agreement == Approx(agree / double(indices.size())));
}

TEST_CASE("gating: a slice keeps the whole run's decisions, even an EMA's", "[gating][slices]") {
    const auto units = twoFiles();
    const auto whole = analyseUnits(unitTableFrom(units), settings());
    const auto indices = unitsOfFiles(units, {1});  // b.py: units 24..39
    REQUIRE(indices.front() == kFileA);
    const auto slice = sliceAnalysis(whole, indices);
    REQUIRE(slice.table.size() == kFileB);
    CHECK(slice.table.fileIndex == std::vector<std::int64_t>(kFileB, 1));
    for (std::size_t p = 0; p < whole.policies.size(); ++p) {
        const auto& a = slice.policies[p].run;
        const auto& b = whole.policies[p].run;
        INFO("policy " << whole.policies[p].method);
        for (std::size_t j = 0; j < indices.size(); ++j) {
            INFO("unit " << indices[j]);
            CHECK(a.decisions[j] == b.decisions[indices[j]]);
            if (!b.threshold.empty()) CHECK(same(a.threshold[j], b.threshold[indices[j]]));
            if (!b.rateEma.empty()) CHECK(same(a.rateEma[j], b.rateEma[indices[j]]));
        }
    }
    // recon-ema replayed on b.py alone would spend all 16 units calibrating (every one UPDATE);
    // on the whole run they come after calibration and the EMA skips some.
    const auto& ours = slice.find("Ours");
    CHECK(ours.spec.name == "recon-ema");
    CHECK(runPolicy(ours.spec, slice.table).decisions == std::vector<std::uint8_t>(kFileB, 1));
    CHECK(ours.run.decisions != std::vector<std::uint8_t>(kFileB, 1));
    CHECK(std::isfinite(ours.run.threshold.front()));  // the τ the whole run had reached
}

TEST_CASE("gating: slices of no units and past the end", "[gating][slices]") {
    const auto units = twoFiles();
    const auto whole = analyseUnits(unitTableFrom(units), settings());
    const auto empty = sliceAnalysis(whole, unitsOfFiles(units, {}));
    CHECK(empty.table.size() == 0);
    CHECK(empty.find("Ours").summary.units == 0);
    CHECK(std::isnan(empty.find("Ours").summary.loss));
    CHECK_THROWS_AS(sliceAnalysis(whole, {units.size()}), std::out_of_range);
    CHECK_THROWS_AS(perFileRows(whole, {units.begin(), units.end() - 1}), std::invalid_argument);
    // A replay that failed has no policies: rows with nothing to show, not a throw.
    RunAnalysis failed;
    failed.table = unitTableFrom(units);
    failed.baselineRate = 0.5;
    const auto rows = perFileRows(failed, units);
    REQUIRE(rows.size() == 2);
    CHECK(std::isnan(rows[0].lossOurs));
}
