// Parsing and checking the gating options.
#include "app/cli/policy_args.h"

#include <filesystem>

#include "core/gating/calibration.h"
#include "core/gating/settings_resolve.h"
#include "core/util/errors.h"
#include "core/util/sha256.h"

namespace ponder::app {

namespace {

// A setting core refused, as the command line's usage error (its words: flags).
UsageError usageErrorFrom(const core::PonderError& error) {
    return UsageError(core::inCommandLineWords(error.rawWhat()) + "; " +
                      core::inCommandLineWords(error.rawHint()));
}

}  // namespace

Options policyOptionSpecs() {
    const core::PolicySpec defaults;
    return {repeated("--policy", "NAME", "the gate: the first is Ours, more are compared with it",
                     defaults.name),
            option("--rate", "R", "target update rate, in [0, 1]", shown(defaults.rate)),
            option("--alpha", "A", "EMA step of the threshold's rate tracking, in (0, 1]",
                   shown(defaults.alpha)),
            option("--signal", "S", "what recon-ema and threshold gate on",
                   core::signalName(defaults.signal)),
            option("--calibration", "paper|profile",
                   "the first threshold: 16 forced UPDATEs, or calibration.json's quantile",
                   "profile when the model has calibration.json"),
            option("--calibration-file", "F", "the calibration.json of --calibration profile",
                   "MODEL/calibration.json"),
            option("--threshold", "T", "the fixed threshold of --policy threshold"),
            option("--seed", "N", "seed of the random policy", shown(defaults.seed)),
            option("--advanced-std", "running|published", "the advanced-* policies' sigma step",
                   defaults.advancedStd),
            flag("--force-gate", "run a gate:DIR trained on another TTT layer anyway"),
            flag("--lookahead", "gate:DIR with the published non-causal batch threshold")};
}

core::SettingsOverrides settingsOverridesFrom(const ParsedArgs& args) {
    core::SettingsOverrides overrides;
    overrides.policies = args.values("--policy");
    if (args.value("--rate")) overrides.rate = args.numberOr("--rate", 0.5);
    if (args.value("--alpha")) overrides.alpha = args.numberOr("--alpha", 0.1);
    if (args.value("--threshold")) overrides.threshold = args.numberOr("--threshold", 0);
    if (const auto signal = args.value("--signal")) {
        try {
            overrides.signal = core::parseSignal(*signal);
        } catch (const core::InputError& error) {
            throw usageErrorFrom(error);
        }
    }
    if (args.value("--seed")) overrides.seed = std::uint64_t(args.integerOr("--seed", 42));
    if (const auto value = args.value("--advanced-std")) overrides.advancedStd = *value;
    if (const auto value = args.value("--calibration")) overrides.calibration = *value;
    if (const auto file = args.value("--calibration-file")) overrides.calibrationFile = *file;
    overrides.forceGate = args.flag("--force-gate");
    overrides.lookahead = args.flag("--lookahead");
    return overrides;
}

core::SettingsOverrides newRunGating(const ParsedArgs& args, const std::string& modelDir) {
    analysisSettingsFrom(args, {}, modelDir, true);  // the checks; the session resolves again
    auto overrides = settingsOverridesFrom(args);
    if (!overrides.calibration) overrides.calibration = "auto";
    return overrides;
}

core::AnalysisSettings analysisSettingsFrom(const ParsedArgs& args, core::AnalysisSettings base,
                                            const std::string& modelDir, bool newRun) {
    auto overrides = settingsOverridesFrom(args);
    if (newRun && !overrides.calibration) overrides.calibration = "auto";
    // Core's checks (the same the studio and every replay make), before any model work: a bad
    // combination is a usage error; a missing or damaged calibration.json is an input error.
    try {
        core::applyOverrides(base, overrides);
    } catch (const core::InputError& error) {
        throw usageErrorFrom(error);
    }
    auto settings = core::resolveSettings(std::move(base), overrides, modelDir);
    core::checkGates(settings);  // a missing or damaged gate folder costs nothing either
    return settings;
}

}  // namespace ponder::app
