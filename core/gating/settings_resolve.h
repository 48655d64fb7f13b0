// The one place where a run's gating settings are decided (design.md §5, §6): the defaults, a
// stored run's settings and what the user changed (the CLI's flags, the studio's Tune pane)
// become one AnalysisSettings, with the calibration resolved and its start threshold filled.
// `ponder eval`, `export`, `sweep`, `generate`, the studio and its batch export all call these,
// so none of them can pick another calibration or start threshold. Torch-free.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/gating/run_analysis.h"

namespace ponder::core {

// What a front end may change on top of base settings; unset fields keep the base's.
struct SettingsOverrides {
    std::vector<std::string> policies;  // the first is Ours, the rest extras; empty: keep
    std::optional<double> rate, alpha, threshold;
    std::optional<Signal> signal;
    // paper | profile | auto: profile when a calibration is at hand (below) and every EMA
    // policy named can start from one, else paper (the default of a new run everywhere).
    std::optional<std::string> calibration;
    // The calibration.json to use; empty: the base's stored one, else MODEL_DIR/calibration.json.
    std::filesystem::path calibrationFile;
    std::optional<std::uint64_t> seed;
    std::optional<std::string> advancedStd;
    bool forceGate = false, lookahead = false;
};

// `base` with `overrides` applied and every policy named checked (validatePolicy: InputError
// with a hint), without touching a file: what the CLI reports as a usage error. The calibration
// may still be "auto"; a profile start's τ0 is not filled yet.
AnalysisSettings applyOverrides(AnalysisSettings base, const SettingsOverrides& overrides);

// `base` with `overrides` applied and checked (validatePolicy for every policy named: InputError
// with a hint), and, for profile calibration, the calibration loaded and τ0 set at the rate.
// `modelDir` is where MODEL_DIR/calibration.json is looked for (may be empty).
AnalysisSettings resolveSettings(AnalysisSettings base, const SettingsOverrides& overrides,
                                 const std::filesystem::path& modelDir);

// The same settings at another target rate: a profile start is recomputed from the settings'
// calibration (the (1-ρ) quantile). Batch export, the sweep and the studio's rate slider use it,
// so each rate starts where `ponder export --rate` starts. A profile run stored without its
// calibration keeps its τ0.
AnalysisSettings settingsAtRate(AnalysisSettings settings, double rate);

// The extra policies a run replays beside Ours, in the order named: without Ours, the baselines
// (skip, update, random, oracle: every run has their rows) and repeats.
std::vector<std::string> comparedPolicies(const AnalysisSettings& settings);
// The names of every policy the settings replay beyond the baselines: Ours, then the extras.
std::vector<std::string> policyNamesOf(const AnalysisSettings& settings);

}  // namespace ponder::core
