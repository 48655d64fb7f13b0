// Parsing and checking the gating options.
#include "app/cli/policy_args.h"

#include <filesystem>

#include "core/gating/calibration.h"
#include "core/util/errors.h"
#include "core/util/sha256.h"

namespace ponder::app {

std::vector<OptionSpec> policyOptionSpecs() {
    return {{"--policy", true, true}, {"--rate", true},        {"--alpha", true},
            {"--signal", true},       {"--calibration", true}, {"--calibration-file", true},
            {"--threshold", true},    {"--seed", true},        {"--advanced-std", true},
            {"--force-gate", false},  {"--lookahead", false}};
}

core::AnalysisSettings analysisSettingsFrom(const ParsedArgs& args, core::AnalysisSettings base,
                                            const std::string& modelDir) {
    auto& ours = base.ours;
    const auto names = args.values("--policy");
    if (!names.empty()) {
        ours.name = names.front();
        base.extraPolicies.assign(names.begin() + 1, names.end());
    }
    ours.rate = args.numberOr("--rate", ours.rate);
    ours.alpha = args.numberOr("--alpha", ours.alpha);
    if (const auto signal = args.value("--signal")) ours.signal = core::parseSignal(*signal);
    ours.threshold = args.numberOr("--threshold", ours.threshold);
    ours.seed = std::uint64_t(args.integerOr("--seed", (long long)ours.seed));
    ours.advancedStd = args.valueOr("--advanced-std", ours.advancedStd);
    if (args.flag("--force-gate")) ours.forceGate = true;
    if (args.flag("--lookahead")) ours.gateLookahead = true;
    ours.calibration = args.valueOr("--calibration", ours.calibration);
    if (ours.calibration == "profile") {
        const std::filesystem::path file = args.valueOr(
            "--calibration-file", (std::filesystem::path(modelDir) / "calibration.json").string());
        if (!std::filesystem::exists(file))
            throw core::InputError("--calibration profile needs '" + file.string() + "'",
                                   "make it with `ponder calibrate --model DIR HELD_OUT_CODE`, "
                                   "or use --calibration paper");
        core::setProfileThresholds(core::loadCalibration(file), ours);
    }
    // Core's checks (the same the studio and every replay make), before any model work.
    for (const auto& name : names.empty() ? std::vector<std::string>{ours.name} : names) {
        auto spec = ours;
        spec.name = name;
        try {
            core::validatePolicy(spec);
        } catch (const core::InputError& error) {
            throw UsageError(std::string(error.what()) + "; " + error.hint());
        }
    }
    core::checkGates(base);  // a missing or damaged gate folder costs nothing either
    return base;
}

void checkGatesFit(const core::AnalysisSettings& settings, const std::string& modelDir) {
    const auto checkpoint = std::filesystem::path(modelDir) / "ttt.safetensors";
    // Without the file the evaluator's own error (no TTT checkpoint) is the one to see.
    if (std::filesystem::exists(checkpoint))
        core::checkGates(settings, core::sha256FileHex(checkpoint));
}

}  // namespace ponder::app
