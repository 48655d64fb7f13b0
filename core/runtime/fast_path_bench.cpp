// The gated fast path's benchmark against SKIP, UPDATE_1 and the published both-paths evaluation.
#include "core/runtime/fast_path_bench.h"

#include <chrono>
#include <cmath>
#include <memory>

#include "core/gating/calibration.h"
#include "core/gating/decision_rules.h"
#include "core/gating/gate.h"
#include "core/gating/run_analysis.h"
#include "core/util/errors.h"

namespace ponder::core {

namespace {

// The fast path's gate at `rate` on `signal`; with `published`, recon-ema (the paper's gate)
// in its place when the fast path's gate is a learned one.
PolicySpec specForRate(const FastPathOptions& options, Signal signal, double rate,
                       bool published = false) {
    PolicySpec spec = options.gate;
    if (published && isGatePolicy(spec.name)) spec.name = PolicySpec{}.name;
    spec.signal = signal;
    spec.rate = rate;
    if (isGatePolicy(spec.name)) return spec;  // decides by itself: no τ0
    if (spec.calibration == "profile") {
        if (!options.calibration)
            throw InputError("profile calibration needs the model's calibration.json",
                             "run `ponder calibrate`, or use the paper calibration");
        setProfileThresholds(*options.calibration, spec);
    }
    return spec;
}

double chosenLoss(const UnitRecord& record, bool updated) {
    return updated ? record.lossUpdate : record.lossSkip;
}

// What the gated fast path decided and the loss it measured, per unit, at one rate.
struct GatedRun {
    std::vector<std::uint8_t> decisions;
    std::vector<double> losses;
};

// Times every unit's SKIP path, UPDATE path, both paths together (the records) and the gated
// fast path at each gate's rate; adds the times to out.timings.
std::vector<UnitRecord> timeUnits(Evaluator& evaluator, const EvalPlan& plan,
                                  std::vector<Evaluator::Gate>& gates, bool needsStatistics,
                                  std::vector<GatedRun>& gatedRuns, FastPathBenchmark& out) {
    using Clock = std::chrono::steady_clock;
    std::vector<UnitRecord> records;
    for (const auto& unit : plan.units) {
        out.tokens += unit.tokens * unit.sequences;
        out.timings[0].seconds += evaluator.timePath(plan, unit, Evaluator::Path::Skip);
        out.timings[1].seconds += evaluator.timePath(plan, unit, Evaluator::Path::Update);
        const auto start = Clock::now();
        records.push_back(evaluator.evaluateUnit(plan, unit));
        out.timings[2].seconds += std::chrono::duration<double>(Clock::now() - start).count();
        for (std::size_t r = 0; r < gates.size(); ++r) {
            bool updated = false;
            const auto decide = [&](const UnitRecord& partial) {
                return updated = gates[r].decide(partial);
            };
            const auto gated = evaluator.evaluateUnitGated(plan, unit, decide, needsStatistics);
            if (gates[r].observe) gates[r].observe(gated);
            out.timings[3 + r].seconds += gated.seconds;
            gatedRuns[r].decisions.push_back(updated ? 1 : 0);
            gatedRuns[r].losses.push_back(chosenLoss(gated, updated));
        }
    }
    for (auto& timing : out.timings)
        timing.tokensPerSecond = double(out.tokens) / std::max(timing.seconds, 1e-12);
    return records;
}

// The gated run at one rate against the same policy replayed on the records, the published
// signal's, the Oracle and Random.
RateComparison compareAtRate(const FastPathOptions& options, double rate, const GatedRun& run,
                             const std::vector<UnitRecord>& records, const UnitTable& table) {
    RateComparison comparison;
    comparison.rate = rate;
    // A learned gate is compared at the rate it realized, which its training only aims at.
    if (isGatePolicy(options.gate.name) && !records.empty()) {
        double updates = 0;
        for (auto d : run.decisions)
            updates += d;
        comparison.rate = updates / double(records.size());
    }
    PolicySpec oracleSpec;
    oracleSpec.name = "oracle";
    oracleSpec.rate = comparison.rate;
    const auto oracle = runPolicy(oracleSpec, table);
    const auto replayed =
        runPolicy(specForRate(options, options.gate.signal, comparison.rate), table);
    const auto published =
        runPolicy(specForRate(options, options.publishedSignal, comparison.rate, true), table);
    comparison.replayed = summarise(replayed, table, oracle);
    comparison.published = summarise(published, table, oracle);
    comparison.oracleLoss = summarise(oracle, table, oracle).loss;
    comparison.randomLoss = expectedRandomLoss(table, comparison.rate);

    PolicyRun gated;
    gated.name = "gated";
    gated.decisions = run.decisions;
    gated.threshold.assign(records.size(), kNaN);
    gated.rateEma.assign(records.size(), kNaN);
    comparison.gated = summarise(gated, table, oracle);
    // Its loss as the fast path itself measured it, not the both-path records' values.
    double sum = 0;
    for (std::size_t u = 0; u < records.size(); ++u) {
        sum += run.losses[u];
        comparison.decisionMismatches += gated.decisions[u] != replayed.decisions[u];
        comparison.maxLossDifference =
            std::max(comparison.maxLossDifference,
                     std::abs(run.losses[u] - chosenLoss(records[u], replayed.decisions[u])));
    }
    const double skipLoss = meanChosenLoss(decideSkip(records.size()), table);
    comparison.gated.loss = records.empty() ? kNaN : sum / double(records.size());
    if (skipLoss != comparison.oracleLoss)
        comparison.gated.recovery =
            (skipLoss - comparison.gated.loss) / (skipLoss - comparison.oracleLoss);
    return comparison;
}

}  // namespace

FastPathBenchmark benchmarkFastPath(Evaluator& evaluator, const EvalPlan& plan,
                                    const FastPathOptions& options) {
    FastPathBenchmark out;
    out.units = plan.units.size();
    out.timings = {{"SKIP"}, {"UPDATE_1"}, {"both paths"}};
    // A learned gate holds the one rate it was trained for; the EMA gates take each target.
    auto rates = options.rates;
    if (isGatePolicy(options.gate.name)) rates = {cachedGate(gateDirOf(options.gate.name))->rate};
    std::vector<Evaluator::Gate> gates;
    for (double rate : rates) {
        gates.push_back(onlineGate(specForRate(options, options.gate.signal, rate), plan,
                                   evaluator.tttSha256()));
        out.timings.push_back({"gated", rate});
    }
    std::vector<GatedRun> gatedRuns(rates.size());
    const auto records =
        timeUnits(evaluator, plan, gates, needsSkipStatistics(options.gate), gatedRuns, out);
    // The TTT hash is what a learned gate's replay checks.
    const auto table =
        unitTableFrom(records, evaluator.tttSha256(), evaluator.tttConfig().updateSteps);
    for (std::size_t r = 0; r < rates.size(); ++r)
        out.rates.push_back(compareAtRate(options, rates[r], gatedRuns[r], records, table));
    return out;
}

}  // namespace ponder::core
