// Parsing and checking the gating options.
#include "app/cli/policy_args.h"

#include <algorithm>
#include <filesystem>

#include "core/gating/calibration.h"
#include "core/util/errors.h"

namespace ponder::app {

std::vector<OptionSpec> policyOptionSpecs() {
    return {{"--policy", true, true}, {"--rate", true},        {"--alpha", true},
            {"--signal", true},       {"--calibration", true}, {"--calibration-file", true},
            {"--threshold", true},    {"--seed", true}};
}

core::AnalysisSettings analysisSettingsFrom(const ParsedArgs& args, core::AnalysisSettings base,
                                            const std::string& modelDir) {
    auto& ours = base.ours;
    const auto names = args.values("--policy");
    const auto known = core::policyNames();
    for (const auto& name : names)
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            std::string list;
            for (const auto& option : known)
                list += (list.empty() ? "" : ", ") + option;
            throw UsageError("unknown --policy '" + name + "' (one of: " + list + ")");
        }
    if (!names.empty()) {
        ours.name = names.front();
        base.extraPolicies.assign(names.begin() + 1, names.end());
    }
    ours.rate = args.numberOr("--rate", ours.rate);
    if (!(ours.rate >= 0.0 && ours.rate <= 1.0)) throw UsageError("--rate must be in [0, 1]");
    ours.alpha = args.numberOr("--alpha", ours.alpha);
    if (!(ours.alpha > 0.0 && ours.alpha <= 1.0)) throw UsageError("--alpha must be in (0, 1]");
    if (const auto signal = args.value("--signal")) ours.signal = core::parseSignal(*signal);
    ours.threshold = args.numberOr("--threshold", ours.threshold);
    ours.seed = std::uint64_t(args.integerOr("--seed", (long long)ours.seed));
    ours.calibration = args.valueOr("--calibration", ours.calibration);
    if (ours.calibration != "paper" && ours.calibration != "profile")
        throw UsageError("--calibration must be paper or profile");
    if (ours.calibration == "profile") {
        const std::filesystem::path file = args.valueOr(
            "--calibration-file", (std::filesystem::path(modelDir) / "calibration.json").string());
        if (!std::filesystem::exists(file))
            throw core::InputError("--calibration profile needs '" + file.string() + "'",
                                   "make it with `ponder calibrate --model DIR HELD_OUT_CODE`, "
                                   "or use --calibration paper");
        if (ours.name == "multi-signal")
            throw UsageError(
                "multi-signal gates on a z-score that calibration.json does not "
                "describe; use --calibration paper with it");
        ours.profileTau0 =
            core::loadCalibration(file).thresholdForRate(core::signalName(ours.signal), ours.rate);
    }
    return base;
}

}  // namespace ponder::app
