// Replayable gating policies (core/gating/policies.h) on small hand-worked cases: the published EMA
// rule step by step, the paper's printed equation, calibration edge cases and fixed rules.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>

#include "core/eval/evaluator.h"
#include "core/gating/decision_rules.h"
#include "core/gating/policies.h"
#include "core/util/errors.h"

using namespace ponder::core;
using Decisions = std::vector<std::uint8_t>;

namespace {

// A table whose gating signal (recon_step0) is `signal`; the other columns are filler.
UnitTable tableWithSignal(const std::vector<double>& signal) {
    UnitTable table;
    table.reconStep0 = signal;
    const std::size_t n = signal.size();
    for (auto* column : {&table.lossSkip, &table.lossUpdate, &table.advantage, &table.reconInit,
                         &table.reconStep1, &table.improvement, &table.entropy, &table.confidence,
                         &table.entropyUpdate, &table.confidenceUpdate})
        column->assign(n, 1.0);
    table.block.assign(n, 0);
    return table;
}

PolicySpec spec(const std::string& name, double rate = 0.5, double alpha = 0.1) {
    PolicySpec s;
    s.name = name;
    s.rate = rate;
    s.alpha = alpha;
    return s;
}

// Calibration units 0..14 have no τ/r yet; from the last calibration unit on they must match.
void checkTrajectory(const PolicyRun& run, const Decisions& decisions,
                     const std::vector<double>& tau, const std::vector<double>& rate,
                     std::size_t firstCalibrated) {
    REQUIRE(run.decisions.size() == decisions.size());
    CHECK(run.decisions == decisions);
    for (std::size_t u = 0; u < decisions.size(); ++u) {
        INFO("unit " << u);
        if (u < firstCalibrated) {
            CHECK(std::isnan(run.threshold[u]));
            CHECK(std::isnan(run.rateEma[u]));
        } else {
            CHECK(run.threshold[u] == Approx(tau[u - firstCalibrated]).epsilon(1e-12));
            CHECK(run.rateEma[u] == Approx(rate[u - firstCalibrated]).epsilon(1e-12));
        }
    }
}

// 16 calibration signals, a permutation of 0.01 .. 0.16, then four gated units.
const std::vector<double> kSignalsA{0.05, 0.12, 0.01, 0.16, 0.09, 0.03, 0.14, 0.07, 0.11,   0.02,
                                    0.15, 0.06, 0.10, 0.04, 0.13, 0.08, 0.20, 0.05, 0.0915, 0.0918};
// 4 calibration units (0.3 0.1 0.4 0.2), then a long run of zeros that drives τ to the floor.
std::vector<double> signalsB() {
    std::vector<double> s{0.3, 0.1, 0.4, 0.2};
    s.insert(s.end(), 11, 0.0);
    s.push_back(0.02);
    s.push_back(0.005);
    return s;
}

}  // namespace

TEST_CASE("gating: signal names round-trip and a bad name lists the valid ones", "[gating]") {
    for (const auto signal : allSignals())
        CHECK(parseSignal(signalName(signal)) == signal);
    CHECK(signalName(Signal::ReconStep0) == "recon_step0");
    CHECK(signalName(Signal::LossSkip) == "loss_skip");
    try {
        parseSignal("ttt_loss");
        FAIL("parseSignal accepted an unknown name");
    } catch (const InputError& error) {
        CHECK(std::string(error.hint()).find("recon_step0") != std::string::npos);
        CHECK(std::string(error.hint()).find("loss_skip") != std::string::npos);
    }
}

TEST_CASE("gating: bad policy settings are refused with InputError", "[gating]") {
    const auto table = tableWithSignal({0.1, 0.2});
    CHECK_THROWS_AS(runPolicy(spec("nope"), table), InputError);
    CHECK_THROWS_AS(runPolicy(spec("recon-ema", -0.1), table), InputError);
    CHECK_THROWS_AS(runPolicy(spec("oracle", 1.5), table), InputError);
    CHECK_THROWS_AS(runPolicy(spec("recon-ema", std::nan("")), table), InputError);
    CHECK_THROWS_AS(runPolicy(spec("recon-ema", 0.5, 0.0), table), InputError);
    CHECK_THROWS_AS(runPolicy(spec("recon-ema", 0.5, 1.1), table), InputError);
    CHECK_NOTHROW(runPolicy(spec("recon-ema", 0.5, 1.0), table));
    CHECK_THROWS_AS(runPolicy(spec("threshold"), table), InputError);  // τ required
    auto profile = spec("recon-ema");
    profile.calibration = "profile";  // τ0 required
    CHECK_THROWS_AS(runPolicy(profile, table), InputError);
    profile.calibration = "other";
    CHECK_THROWS_AS(runPolicy(profile, table), InputError);
    auto noUnits = spec("recon-ema");
    noUnits.calibrationUnits = 0;
    CHECK_THROWS_AS(runPolicy(noUnits, table), InputError);
    for (const auto& name : policyNames()) {
        if (name == "threshold" || isGatePolicy(name)) continue;
        INFO(name);
        CHECK(runPolicy(spec(name), tableWithSignal({})).decisions.empty());
    }
}

TEST_CASE("gating: the policy table names every policy once with its method label and rules",
          "[gating]") {
    const auto names = policyNames();
    CHECK(names == std::vector<std::string>{"skip", "update", "random", "oracle", "recon-ema",
                                            "recon-ema-paper", "recon-ema-inverted", "threshold",
                                            "improvement-topk", "improvement-threshold",
                                            "multi-signal", "advanced-threshold", "advanced-budget",
                                            "advanced-budget-ema", "gate:DIR"});
    CHECK(std::string(policyInfo("random").method) == "Random Skip");
    CHECK(std::string(policyInfo("update").method) == "UPDATE_1");
    CHECK(std::string(policyInfo("improvement-topk").method) == "TTT Improvement");
    CHECK(policyInfo("multi-signal").ema);
    CHECK_FALSE(policyInfo("multi-signal").profileCalibration);
    CHECK(policyInfo("recon-ema").profileCalibration);
    CHECK_THROWS_WITH(policyInfo("bogus"), Catch::Contains("unknown gating policy"));
    auto paper = spec("recon-ema-paper");
    CHECK(forcesCalibrationUnits(paper));
    paper.calibration = "profile";
    CHECK_FALSE(forcesCalibrationUnits(paper));
    CHECK_FALSE(forcesCalibrationUnits(spec("oracle")));
}

TEST_CASE("gating: multi-signal has no profile calibration, whatever tau0 is supplied",
          "[gating]") {
    auto s = spec("multi-signal");
    s.calibration = "profile";
    s.profileTau0 = 1.0;  // a recon_step0 quantile: not a threshold on the z-score
    CHECK_THROWS_WITH(validatePolicy(s), Catch::Contains("calibration.json does not describe"));
    s.name = "recon-ema";
    CHECK_NOTHROW(validatePolicy(s));
}

TEST_CASE("gating: calibration takes sorted[min(int((1-rho)n), n-1)]", "[gating]") {
    // 0.01..0.16 shuffled: ρ = 0.5 → index int(8.0) = 8, the 9th smallest = 0.09.
    const std::vector<double> calib(kSignalsA.begin(), kSignalsA.begin() + 16);
    CHECK(empiricalThreshold(calib, 0.5) == 0.09);
    CHECK(empiricalThreshold(calib, 0.3) == 0.12);  // int(0.7·16 = 11.2) = 11 → 12th
    CHECK(empiricalThreshold(calib, 0.0) == 0.16);  // int(16) = 16, capped at 15 → largest
    CHECK(empiricalThreshold(calib, 1.0) == 0.01);  // index 0 → smallest
    CHECK(std::isnan(empiricalThreshold({}, 0.5)));
    CHECK(empiricalThreshold({std::nan(""), 2.0, 1.0}, 0.5) == 2.0);  // NaN sorts last
}

TEST_CASE("gating: recon-ema with fewer than 16 units never calibrates: all UPDATE", "[gating]") {
    const std::vector<double> signals(kSignalsA.begin(), kSignalsA.begin() + 15);
    const auto run = runPolicy(spec("recon-ema"), tableWithSignal(signals));
    CHECK(run.decisions == Decisions(15, 1));
    for (std::size_t u = 0; u < 15; ++u) {
        CHECK(std::isnan(run.threshold[u]));
        CHECK(std::isnan(run.rateEma[u]));
    }
}

TEST_CASE("gating: recon-ema follows the published update step by step (rho .5, alpha .1)",
          "[gating]") {
    // Unit 15 completes calibration: τ = 0.09, r = 0.5 (recorded), then update_state runs:
    //   r = 0.9·0.5 + 0.1·1 = 0.55;  τ = max(.01, .09 + .1·(.55-.5)·max(.1, .09)) = 0.0905
    // 16: s=.20 > .0905 → 1; r = .595; τ = .0905 + .1·.095·.1 = .09145
    // 17: s=.05 → 0;          r = .5355; τ = .09145 + .1·.0355·.1 = .091805
    // 18: s=.0915 < .091805 → 0; r = .48195; τ = .091805 + .1·.0355·.1 (r=.48195 → -.01805)
    //     = .091805 - .0001805 = .0916245
    // 19: s=.0918 > .0916245 → 1.
    // τ < 0.1 throughout, so max(0.1, |τ|) = 0.1 is the scale here.
    const auto run = runPolicy(spec("recon-ema"), tableWithSignal(kSignalsA));
    Decisions expected(16, 1);
    expected.insert(expected.end(), {1, 0, 0, 1});
    checkTrajectory(run, expected, {0.09, 0.0905, 0.09145, 0.091805, 0.0916245},
                    {0.5, 0.55, 0.595, 0.5355, 0.48195}, 15);
}

TEST_CASE("gating: recon-ema-paper uses the pre-update rate and |tau|", "[gating]") {
    // 15: τ = .09 + .1·(.5-.5)·.09 = .09 (r was .5), then r = .55
    // 16: 1;  τ = .09 + .1·.05·.09 = .09045;  r = .595
    // 17: 0;  τ = .09045·(1 + .1·.095) = .091309275;  r = .5355
    // 18: s=.0915 > .091309275 → 1 (the code rule said 0 here)
    const auto run = runPolicy(spec("recon-ema-paper"), tableWithSignal(kSignalsA));
    Decisions expected(16, 1);
    expected.insert(expected.end(), {1, 0, 1, 1});
    checkTrajectory(run, expected, {0.09, 0.09, 0.09045, 0.091309275, 0.09163342292625},
                    {0.5, 0.55, 0.595, 0.5355, 0.58195}, 15);
}

TEST_CASE("gating: recon-ema scales by |tau| above 0.1, by 0.1 below, and floors tau at 0.01",
          "[gating]") {
    // 4 calibration units, ρ = .5, α = .5: τ0 = sorted(.1 .2 .3 .4)[2] = .3.
    // 3 (calibration): r = .75, τ = .3 + .5·.25·.3 = .3375       (scale |τ|)
    // 4: s=0 → 0; r = .375, τ = .3375·(1 - .5·.125) = .31640625 (scale |τ|)
    // ... τ shrinks by |τ|·.5·(r-.5) until it drops below .1, then by .5·(r-.5)·.1:
    // 10: τ = .094734..., 11: .094734 + .5·(.005859375-.5)·.1 = .070027...
    // 13 → 14: .020247... - .5·(.000732-.5)·.1·... < .01 → floored to .01.
    // 15: s=.02 > .01 → 1; 16: s=.005 → 0.
    auto s = spec("recon-ema", 0.5, 0.5);
    s.calibrationUnits = 4;
    const auto run = runPolicy(s, tableWithSignal(signalsB()));
    Decisions expected{1, 1, 1, 1};
    expected.insert(expected.end(), 11, 0);
    expected.insert(expected.end(), {1, 0});
    checkTrajectory(
        run, expected,
        {0.3, 0.33749999999999997, 0.31640624999999994, 0.26696777343749994, 0.21273994445800776,
         0.16454105079174036, 0.12533400353277097, 0.09473488157652805, 0.07002785032652806,
         0.045174334701528054, 0.020247576889028052, 0.01, 0.01, 0.0100091552734375},
        {0.5, 0.75, 0.375, 0.1875, 0.09375, 0.046875, 0.0234375, 0.01171875, 0.005859375,
         0.0029296875, 0.00146484375, 0.000732421875, 0.0003662109375, 0.50018310546875},
        3);

    // The paper's equation has no floor: τ keeps shrinking geometrically, so unit 15 (.02)
    // is still below it (τ = .030194750622523345).
    s.name = "recon-ema-paper";
    const auto paper = runPolicy(s, tableWithSignal(signalsB()));
    CHECK(paper.decisions[15] == 0);
    CHECK(paper.threshold[15] == Approx(0.030194750622523345).epsilon(1e-12));
    CHECK(paper.threshold[16] == Approx(0.022651591790859037).epsilon(1e-12));
}

TEST_CASE("gating: profile calibration gates from unit 0 with the supplied tau0", "[gating]") {
    // τ0 = .1, r0 = .5, α = .1:
    // 0: s=.2 → 1; r = .55, τ = .1 + .1·.05·.1 = .1005
    // 1: s=.05 → 0; r = .495, τ = .1005 + .1·(-.005)·.1005 = .100449750
    // 2: s=.1004 → 0 (below .10044975)
    auto s = spec("recon-ema");
    s.calibration = "profile";
    s.profileTau0 = 0.1;
    const auto run = runPolicy(s, tableWithSignal({0.2, 0.05, 0.1004}));
    CHECK(run.decisions == Decisions{1, 0, 0});
    CHECK(run.threshold[0] == 0.1);
    CHECK(run.rateEma[0] == 0.5);
    CHECK(run.threshold[1] == Approx(0.1005).epsilon(1e-12));
    CHECK(run.rateEma[1] == Approx(0.55).epsilon(1e-12));
    CHECK(run.threshold[2] == Approx(0.10044975).epsilon(1e-12));
    CHECK(run.rateEma[2] == Approx(0.495).epsilon(1e-12));
}

TEST_CASE("gating: recon-ema-inverted updates the lowest signals with recon-ema's step on -s",
          "[gating]") {
    // Profile start 0.1 (τ = -0.1 on -s: update iff s < 0.1), r0 = .5, α = .1, scale max(0.1, |τ|):
    // 0: s=.05 → 1; r = .55, τ = -.1 + .1·.05·.1 = -.0995
    // 1: s=.2 → 0; r = .495, τ = -.0995 + .1·(-.005)·.1 = -.09955
    // 2: s=.0995 → 1 (-.0995 > -.09955). Thresholds are recorded on the signal's scale.
    auto s = spec("recon-ema-inverted");
    s.calibration = "profile";
    s.profileTau0 = 0.9;  // recon-ema's start in the same spec: not the inverted rule's
    s.profileTau0Low = 0.1;
    const auto run = runPolicy(s, tableWithSignal({0.05, 0.2, 0.0995}));
    CHECK(run.decisions == Decisions{1, 0, 1});
    CHECK(run.threshold[0] == Approx(0.1).epsilon(1e-12));
    CHECK(run.threshold[1] == Approx(0.0995).epsilon(1e-12));
    CHECK(run.threshold[2] == Approx(0.09955).epsilon(1e-12));
    CHECK(run.rateEma[2] == Approx(0.495).epsilon(1e-12));
    // Paper calibration on -s: τ = sorted(-s)[8] = -0.08, so s = 0.20 skips, 0.05 updates; no
    // 0.01 floor, which on -s (negative) would stop every update.
    const auto paper = runPolicy(spec("recon-ema-inverted"), tableWithSignal(kSignalsA));
    CHECK(paper.threshold[15] == Approx(0.08).epsilon(1e-12));
    CHECK(paper.decisions[16] == 0);
    CHECK(paper.decisions[17] == 1);
    // Decided one unit at a time (the gated fast path) as in the replay.
    EmaGate online(spec("recon-ema-inverted"));
    for (std::size_t u = 0; u < kSignalsA.size(); ++u)
        CHECK(online.decide(kSignalsA[u]).decision == paper.decisions[u]);
}

TEST_CASE("gating: recon-ema at rho 0 and 1", "[gating]") {
    // ρ = 1: τ0 = smallest calibration value (.01), r = 1 and stays 1 while every unit
    // updates, so τ stays .01: every later signal above .01 updates.
    const auto all = runPolicy(spec("recon-ema", 1.0), tableWithSignal(kSignalsA));
    CHECK(all.decisions == Decisions(20, 1));
    CHECK(all.threshold[19] == Approx(0.01));
    CHECK(all.rateEma[19] == 1.0);
    // ρ = 0: τ0 = largest (.16); unit 15: r = .1, τ = .16 + .1·.1·.16 = .1616; unit 16
    // (.20) still updates, the rest do not.
    const auto none = runPolicy(spec("recon-ema", 0.0), tableWithSignal(kSignalsA));
    Decisions expected(16, 1);
    expected.insert(expected.end(), {1, 0, 0, 0});
    CHECK(none.decisions == expected);
    CHECK(none.threshold[16] == Approx(0.1616));
    // Fixed and ranked policies at the ends of the range.
    const auto table = tableWithSignal(kSignalsA);
    CHECK(runPolicy(spec("oracle", 0.0), table).decisions.size() == 20);
    const auto oracleNone = runPolicy(spec("oracle", 0.0), table).decisions;
    CHECK(std::count(oracleNone.begin(), oracleNone.end(), 1) == 1);  // k = max(1, 0)
    CHECK(runPolicy(spec("oracle", 1.0), table).decisions == Decisions(20, 1));
    CHECK(runPolicy(spec("random", 0.0), table).decisions == Decisions(20, 0));
    CHECK(runPolicy(spec("random", 1.0), table).decisions == Decisions(20, 1));
}

TEST_CASE("gating: oracle and improvement-topk rank stably, ties in data order", "[gating]") {
    auto table = tableWithSignal(std::vector<double>(6, 1.0));
    table.advantage = {0.1, 0.5, 0.5, -0.2, 0.3, 0.5};
    table.improvement = {0.3, 0.3, 0.0, 0.3, 0.1, 0.2};
    const auto oracle = runPolicy(spec("oracle"), table);
    CHECK(oracle.decisions == Decisions{0, 1, 1, 0, 0, 1});
    CHECK(std::isnan(oracle.threshold[0]));
    CHECK(std::isnan(oracle.rateEma[0]));
    // k = 3: the three .3 values, in order.
    CHECK(runPolicy(spec("improvement-topk"), table).decisions == Decisions{1, 1, 0, 1, 0, 0});
    // k = floor(6·.34) = 2: the first two of the tie.
    CHECK(runPolicy(spec("improvement-topk", 0.34), table).decisions ==
          Decisions{1, 1, 0, 0, 0, 0});
}

TEST_CASE("gating: fixed thresholds are strict and record tau", "[gating]") {
    auto table = tableWithSignal({0.1, 0.2, 0.3, 0.4});
    table.entropy = {3.0, 1.0, 2.0, 2.5};
    table.improvement = {0.04, 0.01, 0.03, 0.02};
    auto s = spec("threshold");
    s.threshold = 0.2;
    const auto recon = runPolicy(s, table);
    CHECK(recon.decisions == Decisions{0, 0, 1, 1});  // .2 is not > .2
    CHECK(recon.threshold == std::vector<double>(4, 0.2));
    CHECK(std::isnan(recon.rateEma[0]));
    s.signal = Signal::Entropy;
    s.threshold = 2.0;
    CHECK(runPolicy(s, table).decisions == Decisions{1, 0, 0, 1});
    // improvement-threshold without τ: the median (.02 + .03) / 2 = .025 (App. E).
    const auto median = runPolicy(spec("improvement-threshold"), table);
    CHECK(median.decisions == Decisions{1, 0, 1, 0});
    CHECK(median.threshold[0] == Approx(0.025));
    s = spec("improvement-threshold");
    s.threshold = 0.015;
    CHECK(runPolicy(s, table).decisions == Decisions{1, 0, 1, 1});
}

TEST_CASE("gating: skip, update and random match the basic policies", "[gating]") {
    const auto table = tableWithSignal(std::vector<double>(50, 0.5));
    CHECK(runPolicy(spec("skip"), table).decisions == decideSkip(50));
    CHECK(runPolicy(spec("update"), table).decisions == decideUpdate(50));
    auto s = spec("random", 0.3);
    s.seed = 7;
    CHECK(runPolicy(s, table).decisions == decideRandom(50, 0.3, 7));
}

TEST_CASE("gating: multi-signal standardises with running statistics, then the EMA rule",
          "[gating]") {
    // recon 1 3 2 5, entropy constant (z = 0), confidence .5 .5 .9 .1; 2 calibration units.
    // 0: all z = 0 → s = 0.   1: recon mean 2, sd 1 → z = 1; s = 1.
    // τ0 = sorted(0, 1)[min(int(.5·2), 1)] = 1; update d=1: r = .55, τ = 1 + .1·.05·1 = 1.005
    // 2: recon mean 2 → z = 0; conf mean .6333, sd .188562 → z = 1.41421; s = -1.41421 → 0
    //    r = .495, τ = 1.005 - .1·.005·1.005 = 1.0044975
    // 3: recon mean 2.75, sd 1.479020 → z = 1.521278; conf mean .5, sd .282843 → z = -1.41421
    //    s = 2.935492 > τ → 1
    UnitTable table = tableWithSignal({1.0, 3.0, 2.0, 5.0});
    table.entropy = {2.0, 2.0, 2.0, 2.0};
    table.confidence = {0.5, 0.5, 0.9, 0.1};
    auto s = spec("multi-signal");
    s.calibrationUnits = 2;
    const auto run = runPolicy(s, table);
    CHECK(run.decisions == Decisions{1, 1, 0, 1});
    CHECK(run.threshold[1] == Approx(1.0));
    CHECK(run.threshold[2] == Approx(1.005));
    CHECK(run.threshold[3] == Approx(1.0044975));
    CHECK(run.rateEma[3] == Approx(0.495));

    // No 0.01 floor: at ρ = 1 the calibrated τ0 = min(0, 1) = 0 may go negative.
    s.rate = 1.0;
    const auto low = runPolicy(s, table);
    CHECK(low.threshold[1] == 0.0);
    CHECK(low.threshold[3] < 0.0);  // unit 2 skipped (s = -1.41 < 0) → r < 1 → τ decreases
}

TEST_CASE("gating: unitTableFrom copies columns and picks file or batch blocks", "[gating]") {
    std::vector<UnitRecord> records(3);
    records[0].fileIndex = 4;
    records[0].lossSkip = 2.0;
    records[0].reconStep0 = 0.7;
    records[1].fileIndex = 4;
    records[2].fileIndex = -1;  // paper mode
    records[2].batchIndex = 9;
    records[2].confidence = 0.25;
    const auto table = unitTableFrom(records);
    REQUIRE(table.size() == 3);
    CHECK(table.lossSkip[0] == 2.0);
    CHECK(table.signal(Signal::ReconStep0)[0] == 0.7);
    CHECK(table.signal(Signal::Confidence)[2] == 0.25);
    CHECK(table.block == std::vector<std::int64_t>{4, 4, 9});
}

TEST_CASE("gating: runPolicyInto reuses a run and gives runPolicy's result", "[gating]") {
    const auto table = tableWithSignal(kSignalsA);
    const auto small = tableWithSignal({0.3, 0.1});
    for (const auto& name : {"recon-ema", "recon-ema-paper", "multi-signal", "oracle"}) {
        INFO(name);
        PolicyRun reused;
        runPolicyInto(spec(name), table, reused);
        runPolicyInto(spec(name, 0.2), small, reused);  // shrinks
        const auto fresh = runPolicy(spec(name, 0.2), small);
        CHECK(reused.decisions == fresh.decisions);
        REQUIRE(reused.threshold.size() == 2);
        runPolicyInto(spec(name, 0.3), table, reused);  // grows again
        CHECK(reused.decisions == runPolicy(spec(name, 0.3), table).decisions);
        CHECK(reused.rateEma.size() == 20);
    }
}

namespace {

// System A's inputs per unit: (improvement, entropy_update, confidence_update).
UnitTable advancedTable(const std::vector<std::array<double, 3>>& units) {
    UnitTable table = tableWithSignal(std::vector<double>(units.size(), 1.0));
    for (std::size_t u = 0; u < units.size(); ++u) {
        table.improvement[u] = units[u][0];
        table.entropyUpdate[u] = units[u][1];
        table.confidenceUpdate[u] = units[u][2];
    }
    return table;
}

// Unit 0 sits exactly on the priors μ = (0.034, 2.0, 1 - 0.5), so every s_k = 0.5 and c = 0.5.
// After it μ stays, and σ ← 0.99σ + 0.01(0 + 1e-6) in both modes (one unit: deviation 0).
// Unit 1, x = (0.074, 2.5, 0.7): s = σ(0.04/0.019801), σ(0.5/0.990001), σ(0.2/0.198001)
//   = 0.882891, 0.623645, 0.733039 → c = (0.882891 + 0.3·0.623645 + 0.2·0.733039)/1.5 = 0.811062.
// Units 2 and 3 differ between the modes: "running" feeds σ the deviation over units 0..u.
const std::vector<std::array<double, 3>> kAdvancedUnits{
    {0.034, 2.0, 0.5}, {0.074, 2.5, 0.3}, {0.0, 1.0, 0.9}, {0.05, 2.2, 0.45}};

}  // namespace

TEST_CASE("gating: the advanced score normalises each UPDATE-path signal by running priors",
          "[gating]") {
    AdvancedScore running(false), published(true);
    const std::vector<double> expectRunning{0.5, 0.811061755378, 0.168020588578, 0.645940440632};
    const std::vector<double> expectPublished{0.5, 0.811061755378, 0.166283950989, 0.649120812941};
    for (std::size_t u = 0; u < kAdvancedUnits.size(); ++u) {
        INFO("unit " << u);
        const auto& x = kAdvancedUnits[u];
        CHECK(running.next(x[0], x[1], x[2]) == Approx(expectRunning[u]).epsilon(1e-10));
        CHECK(published.next(x[0], x[1], x[2]) == Approx(expectPublished[u]).epsilon(1e-10));
    }
}

TEST_CASE("gating: advanced-threshold, -budget and -budget-ema apply their rules to the score",
          "[gating]") {
    const auto table = advancedTable(kAdvancedUnits);
    // c = 0.5, 0.811, 0.168, 0.646: strict > 0.5 leaves unit 0 out.
    const auto fixed = runPolicy(spec("advanced-threshold"), table);
    CHECK(fixed.decisions == Decisions{0, 1, 0, 1});
    CHECK(fixed.threshold == std::vector<double>(4, 0.5));

    // Budget: τ = 0.5 + o; r ← 0.9r + 0.1d; o ← clip(o + 0.001(r - ρ)). After unit 0 (d = 0):
    // r = 0.45, o = -0.00005; after unit 1: r = 0.505, o = -0.000045; after 2: r = 0.4545.
    const auto budget = runPolicy(spec("advanced-budget"), table);
    CHECK(budget.decisions == Decisions{0, 1, 0, 1});
    const std::vector<double> tau{0.5, 0.49995, 0.499955, 0.4999095},
        rate{0.5, 0.45, 0.505, 0.4545};
    for (std::size_t u = 0; u < 4; ++u) {
        CHECK(budget.threshold[u] == Approx(tau[u]).epsilon(1e-12));
        CHECK(budget.rateEma[u] == Approx(rate[u]).epsilon(1e-12));
    }

    // EMA from τ0 = 0.5, no forced units: recon-ema's step τ += α(r - ρ)·max(0.1, |τ|) with the
    // new r: after unit 0, τ = 0.5 + 0.1·(-0.05)·0.5 = 0.4975.
    const auto ema = runPolicy(spec("advanced-budget-ema"), table);
    CHECK(ema.decisions == Decisions{0, 1, 0, 1});
    CHECK(ema.threshold[0] == 0.5);
    CHECK(ema.threshold[1] == Approx(0.4975).epsilon(1e-12));
    CHECK(ema.threshold[2] == Approx(0.49774875).epsilon(1e-12));
    CHECK(ema.rateEma[3] == Approx(0.4545).epsilon(1e-12));
}

TEST_CASE("gating: advanced-budget's offset is clipped at 0.05, so it may never reach the rate",
          "[gating]") {
    // Every unit far above the priors: c ≈ 1 > 0.55, the most τ can become.
    const auto table = advancedTable(std::vector<std::array<double, 3>>(400, {1.0, 8.0, 0.0}));
    const auto budget = runPolicy(spec("advanced-budget", 0.2), table);
    CHECK(budget.decisions == Decisions(400, 1));
    CHECK(budget.threshold.back() == Approx(0.55));
    // The multiplicative EMA step has no such cap: it raises τ until the rate comes down.
    const auto ema = runPolicy(spec("advanced-budget-ema", 0.2), table);
    const auto updates = std::count(ema.decisions.begin(), ema.decisions.end(), 1);
    CHECK(updates < 200);
}

TEST_CASE("gating: the advanced policies refuse a run without the UPDATE path's statistics",
          "[gating]") {
    auto table = advancedTable(kAdvancedUnits);
    table.entropyUpdate[2] = kNaN;  // e.g. stored before entropy_update existed, or a fast run
    for (const auto& name : {"advanced-threshold", "advanced-budget", "advanced-budget-ema"})
        CHECK_THROWS_WITH(runPolicy(spec(name), table), Catch::Contains("unit 2 of this run"));
    auto bad = spec("advanced-budget");
    bad.advancedStd = "batch";
    CHECK_THROWS_WITH(validatePolicy(bad), Catch::Contains("unknown advanced-std"));
}
