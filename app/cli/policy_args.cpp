// Parsing and checking the gating options.
#include "app/cli/policy_args.h"

#include <filesystem>

#include "core/gating/calibration.h"
#include "core/gating/settings_resolve.h"
#include "core/util/errors.h"
#include "core/util/sha256.h"

namespace ponder::app {

std::vector<OptionSpec> policyOptionSpecs() {
    return {{"--policy", true, true}, {"--rate", true},        {"--alpha", true},
            {"--signal", true},       {"--calibration", true}, {"--calibration-file", true},
            {"--threshold", true},    {"--seed", true},        {"--advanced-std", true},
            {"--force-gate", false},  {"--lookahead", false}};
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
            throw UsageError(std::string(error.what()) + "; " + error.hint());
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
        throw UsageError(std::string(error.what()) + "; " + error.hint());
    }
    auto settings = core::resolveSettings(std::move(base), overrides, modelDir);
    core::checkGates(settings);  // a missing or damaged gate folder costs nothing either
    return settings;
}

}  // namespace ponder::app
