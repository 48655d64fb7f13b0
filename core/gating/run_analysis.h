// One run's units replayed under every policy a report needs (design.md §5, §7): SKIP,
// UPDATE_1, Random, Oracle, Ours (recon-ema unless another policy is chosen) and any extra
// policies, each with its summary. Shared by `ponder eval`, `export`, `sweep` and the studio.
#pragma once

#include <string>
#include <vector>

#include "core/gating/metrics.h"
#include "core/gating/policies.h"

namespace ponder::core {

struct StoredPolicy;  // core/store/run_store.h

struct AnalysisSettings {
    PolicySpec ours;                         // rate, α, signal, calibration, seed of "Ours"
    std::vector<std::string> extraPolicies;  // more policy names, run with ours' parameters
};

struct PolicyResult {
    std::string method;  // the published method name: SKIP, UPDATE_1, Random Skip, Oracle, Ours
    PolicySpec spec;
    PolicyRun run;
    PolicySummary summary;
};

struct RunAnalysis {
    UnitTable table;
    std::vector<PolicyResult> policies;  // SKIP, UPDATE_N, Random Skip, Oracle, Ours, extras

    // By method name or policy name; throws std::out_of_range for neither.
    const PolicyResult& find(const std::string& name) const;
};

RunAnalysis analyseUnits(const UnitTable& table, const AnalysisSettings& settings);

// Loss against target rate for Ours, Random and Oracle (the sweep plot and `ponder sweep`):
// every policy is replayed at each rate with the other settings unchanged.
struct SweepPoint {
    double targetRate = 0;
    double oursLoss = kNaN, oursRate = kNaN, oursRecovery = kNaN;
    double randomLoss = kNaN, randomExpectedLoss = kNaN, oracleLoss = kNaN;
};
std::vector<SweepPoint> sweepRates(const UnitTable& table, const AnalysisSettings& settings,
                                   const std::vector<double>& rates);

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

// Expected loss of Random gating at rate ρ, E = L_skip - ρ·mean(advantage): the smooth
// curve a seeded draw scatters around (for the loss-vs-rate sweep).
double expectedRandomLoss(const UnitTable& table, double rate);

// Random gating's expectation at the analysis' rate ρ, which summary tables show beside the one
// seeded draw (on a few units a draw can be far from ρ): loss expectedRandomLoss, rate ρ,
// cost 1 + 2ρ, recovery of that loss, and agreement ρ·k/N + (1-ρ)(1-k/N) for an oracle that
// updates k of N units.
PolicySummary expectedRandomSummary(const RunAnalysis& analysis);

// The label a summary table prints: "Ours (recon-ema)" for Ours, the method otherwise.
std::string displayName(const PolicyResult& policy);

}  // namespace ponder::core
