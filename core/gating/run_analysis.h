// One run's units replayed under every policy a report needs (design.md §5, §7): SKIP,
// UPDATE_1, Random, Oracle, Ours (recon-ema unless another policy is chosen) and any extra
// policies, each with its summary. Shared by `ponder eval`, `export`, `sweep` and the studio.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/gating/metrics.h"
#include "core/gating/policies.h"

namespace ponder::core {

struct StoredPolicy;  // core/store/run_store.h
struct Calibration;   // core/gating/calibration.h

struct AnalysisSettings {
    PolicySpec ours;                         // rate, α, signal, calibration, seed of "Ours"
    std::vector<std::string> extraPolicies;  // more policy names, run with ours' parameters
    // The calibration.json behind a profile start, stored with the run (settings JSON
    // "profile_calibration"), so a replay at another rate starts from the same quantiles
    // without the model folder (settings_resolve.h). Null for paper calibration and for runs
    // stored before it was kept.
    std::shared_ptr<const Calibration> calibration;
    std::string calibrationSource;  // the file it was read from, as an absolute path
    // Each gate:DIR policy's folder as an absolute path and the SHA-256 of its
    // gate.safetensors, recorded with the run (settings JSON "gates"): a stored run names the
    // gate it was shown with, and replays from another working folder find it.
    struct GateRecord {
        std::string policy, dir, sha256;
    };
    std::vector<GateRecord> gates;
};

// A policy beside Random (its expectation) and the Oracle with as many updates as the policy
// made (the top llround(rate·N) units by advantage): how a policy that spends its own budget
// is judged (gates.md §2; the table gates_same_rate).
struct SameRateComparison {
    double rate = kNaN;            // the rate it realized
    double loss = kNaN;            // its mean loss
    double randomExpected = kNaN;  // L_skip - rate·mean(advantage)
    double oracleLoss = kNaN;      // NaN on a fast-path run (no advantages for SKIP units)
    double capture = kNaN;         // (random - loss) / (random - oracle); NaN with no gap
    double recovery = kNaN;        // (L_skip - loss) / (L_skip - oracle)
    double agreement = kNaN;       // with that Oracle's decisions
    // The adaptation oracle at that rate (the top units by adv_inner, algorithm.md §4.1): its
    // loss, and the share of its inner-loop gain over Random's that the policy captures,
    // (G − G_random) / (G_oracle − G_random) with G = meanInnerGain. NaN without the split.
    double adaptationOracleLoss = kNaN, adaptationCapture = kNaN;
};

struct PolicyResult {
    std::string method;  // the published method name: SKIP, UPDATE_1, Random Skip, Oracle, Ours
    PolicySpec spec;
    PolicyRun run;
    // Recovery and agreement against the run's Oracle; for a policy reportedAtOwnRate
    // (policies.h), against the Oracle at the rate it realized (sameRate's).
    PolicySummary summary;
    SameRateComparison sameRate;  // Ours and the extra policies; NaN for the baselines
    bool ownRate = false;         // reportedAtOwnRate(spec): ρ does not set its budget
};

// Where the extra policies start in RunAnalysis::policies (after SKIP, UPDATE_N, Random Skip,
// Oracle and Ours).
constexpr std::size_t kFirstExtraPolicy = 5;

struct RunAnalysis {
    UnitTable table;
    std::vector<PolicyResult> policies;  // SKIP, UPDATE_N, Random Skip, Oracle, Ours, extras
    // The rate Random and the Oracle were replayed at: the target ρ, or the rate Ours realized
    // when Ours spends its own budget (a learned gate, advanced-threshold, ...), so the summary
    // compares it with baselines that update as often as it did.
    double baselineRate = kNaN;
    bool oursOwnRate = false;
    // Where every unit has the static path (table.hasSplit(), algorithm.md §4.1): the
    // adaptation oracle, method "Adaptation Oracle" (the top units by adv_inner at
    // baselineRate, summarised against the Oracle like any policy), and the inner loop's share
    // of UPDATE's gain (advantageSplit's). Neither is one of `policies`, so the
    // published files stay as they were.
    std::optional<PolicyResult> adaptationOracle;
    double innerShare = kNaN;

    // By method name or policy name; throws std::out_of_range for neither.
    const PolicyResult& find(const std::string& name) const;
};

RunAnalysis analyseUnits(const UnitTable& table, const AnalysisSettings& settings);

// LoRA fast weights (algorithm.md §2.7) have no reconstruction task, so none of §3's
// statistics: recon_step0, recon_init, recon_step1 and improvement. Throws InputError naming
// the first policy of `settings` (Ours, then the extras) that needs one, with the signals a
// LoRA run has. analyseUnits checks it on a table without them.
void checkNoReconstruction(const AnalysisSettings& settings);

// The means of the advantage, adv_static and adv_inner over the table's units and the inner
// share Σ adv_inner / Σ advantage (NaN where UPDATE gains nothing on average, Σ advantage ≤ 0);
// all NaN without the split (the summary line, the advantage_split table).
struct AdvantageSplit {
    double advantage = kNaN, advStatic = kNaN, advInner = kNaN, innerShare = kNaN;
};
AdvantageSplit advantageSplit(const UnitTable& table);
// The inner-loop gain of some decisions: the mean over units of d·adv_inner (what learning
// from the chunks it updates adds, on top of the static part); Random's is rate·mean(adv_inner).
double meanInnerGain(const std::vector<std::uint8_t>& decisions, const UnitTable& table);

// Loss against target rate for Ours, the extra policies, Random and Oracle (the sweep plot and
// `ponder sweep`): every policy is replayed at each rate with the other settings unchanged.
struct SweepPoint {
    double targetRate = 0;
    double oursLoss = kNaN, oursRate = kNaN, oursRecovery = kNaN;
    double randomLoss = kNaN, randomExpectedLoss = kNaN, oracleLoss = kNaN;
    double adaptationOracleLoss = kNaN;  // RunAnalysis::adaptationOracle at this rate
    // Each extra policy's loss at this rate, in the order of RunAnalysis::policies after Ours;
    // NaN for one that ρ does not steer (it has one point at its own rate, not a curve).
    std::vector<double> extraLosses;
};
// With `slice` (unit indices, slices.h), each rate's whole-run decisions measured on those units.
std::vector<SweepPoint> sweepRates(const UnitTable& table, const AnalysisSettings& settings,
                                   const std::vector<double>& rates,
                                   const std::vector<std::size_t>& slice = {});

// Every policy of `analysis` as the run store keeps it, each with its own settings JSON.
std::vector<StoredPolicy> storedPolicies(const RunAnalysis& analysis,
                                         const AnalysisSettings& settings);

// The settings as stored with a run ({"policy", "rate", "alpha", "signal", "calibration",
// "profile_tau0", "threshold", "seed", "extra_policies"}), so an export replays what the run
// showed; fields missing from older JSON keep their defaults.
std::string analysisSettingsJson(const AnalysisSettings& settings);
AnalysisSettings analysisSettingsFromJson(const std::string& text);

// Loads the gate of every gate:DIR policy in `settings` (InputError with a hint for a missing
// or damaged one) and, when `tttSha256` is given and the policy is not forced, refuses a gate
// trained on another TTT layer: callers check before any evaluation work.
void checkGates(const AnalysisSettings& settings, const std::string& tttSha256 = {});

// The published code's method label of a policy name ("recon-ema" -> "Ours" when it is the
// chosen policy, "improvement-topk" -> "TTT Improvement", others keep their name).
std::string methodName(const std::string& policyName);
// The always-update baseline's method name: UPDATE_1, or UPDATE_N for a TTT layer trained with
// N steps per chunk (ttt.json update_steps); find("update") reaches it either way.
std::string updateMethodName(std::int64_t updateSteps);

// `run` (whose mean loss is `loss`) against Random and the Oracle at the rate it realized.
SameRateComparison compareAtOwnRate(const PolicyRun& run, double loss, const UnitTable& table);
// The Oracle's part of a SameRateComparison: with `out.loss` and `out.randomExpected` set, fills
// oracleLoss, capture, recovery and agreement of `run` against these Oracle decisions (a
// slice's share of the whole run's Oracle too, core/gating/slices.h).
void judgeAgainstOracle(SameRateComparison& out, const PolicyRun& run, const UnitTable& table,
                        std::vector<std::uint8_t> oracleDecisions);

// Expected loss of Random gating at rate ρ, E = L_skip - ρ·mean(advantage): the smooth
// curve a seeded draw scatters around (for the loss-vs-rate sweep).
double expectedRandomLoss(const UnitTable& table, double rate);

// Random gating's expectation at the analysis' rate ρ, which summary tables show beside the one
// seeded draw (on a few units a draw can be far from ρ): loss expectedRandomLoss, rate ρ,
// cost 1 + 2ρ, recovery of that loss, and agreement ρ·k/N + (1-ρ)(1-k/N) for an oracle that
// updates k of N units.
PolicySummary expectedRandomSummary(const RunAnalysis& analysis);

// The label a summary table prints: "Ours (recon-ema)" for Ours ("Ours (Gate NAME)" for a
// learned gate), the method otherwise.
std::string displayName(const PolicyResult& policy);

// One row of the summary table `ponder eval` prints and the studio draws (design.md §7).
struct SummaryRow {
    std::string label;      // displayName; Random's row "Random Skip (expected)"
    std::string policy;     // the policy name (skip, update, random, oracle, recon-ema, gate:DIR)
    PolicySummary summary;  // Random's: its expectation at the baselines' rate
    std::optional<PolicySummary> seededDraw;  // Random's: the one seeded draw files keep
    bool ownRate = false;  // compared with Random and the Oracle at the rate it realized
};
std::vector<SummaryRow> summaryRows(const RunAnalysis& analysis);

}  // namespace ponder::core
