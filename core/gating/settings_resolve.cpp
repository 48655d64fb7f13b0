// Resolving gating settings once: overrides, the calibration mode and its start threshold.
#include "core/gating/settings_resolve.h"

#include <algorithm>
#include <cmath>
#include <system_error>

#include "core/gating/calibration.h"
#include "core/util/errors.h"
#include "core/util/sha256.h"

namespace ponder::core {

namespace fs = std::filesystem;

namespace {

// Whether `name` could start from calibration.json: every non-EMA policy ignores the choice,
// and among the EMA ones only multi-signal has no profile (its z-score is not in the file).
bool acceptsProfile(const std::string& name) {
    const auto& info = policyInfo(name);
    return !info.ema || info.profileCalibration;
}

// The calibration a profile start reads: the one named, else the settings' stored one, else
// the model's. Null when there is none.
std::shared_ptr<const Calibration> findCalibration(const AnalysisSettings& base,
                                                   const SettingsOverrides& overrides,
                                                   const fs::path& modelDir, std::string& source,
                                                   bool required) {
    fs::path file = overrides.calibrationFile;
    if (file.empty() && base.calibration) {
        source = base.calibrationSource;
        return base.calibration;
    }
    if (file.empty() && !modelDir.empty()) file = modelDir / "calibration.json";
    std::error_code error;
    if (file.empty() || !fs::exists(file, error)) {
        if (!required) return nullptr;
        throw InputError("profile calibration needs '" +
                             (file.empty() ? std::string("calibration.json") : file.string()) + "'",
                         "make it with `ponder calibrate --model DIR HELD_OUT_CODE`, or use the "
                         "paper calibration");
    }
    source = fs::absolute(file, error).lexically_normal().string();
    return std::make_shared<const Calibration>(loadCalibration(file));
}

// A profile run stored before its calibration was kept replays from its stored τ0 as long as
// nothing that τ0 depends on (rate, signal, the file) is changed.
// `base` is before the overrides: an override that repeats its value changes nothing.
bool keepsStoredStart(const AnalysisSettings& base, const SettingsOverrides& overrides) {
    return !base.calibration && std::isfinite(base.ours.profileTau0) &&
           base.ours.calibration == "profile" && overrides.calibrationFile.empty() &&
           (!overrides.rate || *overrides.rate == base.ours.rate) &&
           (!overrides.signal || *overrides.signal == base.ours.signal) &&
           (!overrides.calibration || *overrides.calibration == "profile");
}

}  // namespace

std::vector<std::string> comparedPolicies(const AnalysisSettings& settings) {
    std::vector<std::string> names;
    for (const auto& extra : settings.extraPolicies)
        if (extra != settings.ours.name && !isBaselinePolicy(extra) &&
            std::find(names.begin(), names.end(), extra) == names.end())
            names.push_back(extra);
    return names;
}

std::vector<std::string> policyNamesOf(const AnalysisSettings& settings) {
    std::vector<std::string> names{settings.ours.name};
    for (auto& extra : comparedPolicies(settings))
        names.push_back(std::move(extra));
    return names;
}

AnalysisSettings applyOverrides(AnalysisSettings base, const SettingsOverrides& overrides) {
    auto& ours = base.ours;
    if (!overrides.policies.empty()) {
        ours.name = overrides.policies.front();
        base.extraPolicies.assign(overrides.policies.begin() + 1, overrides.policies.end());
    }
    if (overrides.rate) ours.rate = *overrides.rate;
    if (overrides.alpha) ours.alpha = *overrides.alpha;
    if (overrides.threshold) ours.threshold = *overrides.threshold;
    if (overrides.signal) ours.signal = *overrides.signal;
    if (overrides.seed) ours.seed = *overrides.seed;
    if (overrides.advancedStd) ours.advancedStd = *overrides.advancedStd;
    if (overrides.forceGate) ours.forceGate = true;
    if (overrides.lookahead) ours.gateLookahead = true;
    const std::string mode = overrides.calibration.value_or(ours.calibration);
    if (mode != "auto" && mode != "paper" && mode != "profile")
        throw InputError("unknown calibration '" + mode + "'",
                         "use paper, profile or auto (profile when the model has a "
                         "calibration.json)");
    // Every policy named is checked as it will run; a profile start's τ0 comes later (from a
    // file), so a stand-in lets the other checks speak first.
    for (const auto& name : policyNamesOf(base)) {
        auto spec = ours;
        spec.name = name;
        spec.calibration = mode == "auto" ? "paper" : mode;
        if (spec.calibration == "profile") spec.profileTau0 = spec.profileTau0Low = 0.0;
        validatePolicy(spec);
    }
    if (mode != ours.calibration) {
        ours.calibration = mode;  // "auto" is settled by resolveSettings
        base.calibration.reset();
    }
    return base;
}

AnalysisSettings resolveSettings(AnalysisSettings base, const SettingsOverrides& overrides,
                                 const fs::path& modelDir) {
    const bool storedStart = keepsStoredStart(base, overrides);
    base = applyOverrides(std::move(base), overrides);
    auto& ours = base.ours;
    const auto names = policyNamesOf(base);
    std::string mode = ours.calibration;
    std::string source;
    std::shared_ptr<const Calibration> calibration;
    if (mode == "auto") {
        bool profileFits = true;
        for (const auto& name : names)
            profileFits = profileFits && acceptsProfile(name);
        if (profileFits) calibration = findCalibration(base, overrides, modelDir, source, false);
        mode = calibration ? "profile" : "paper";
    } else if (mode == "profile" && !storedStart) {
        calibration = findCalibration(base, overrides, modelDir, source, true);
    }
    ours.calibration = mode;
    base.calibration = calibration;
    base.calibrationSource = calibration ? source : std::string();
    if (calibration)
        setProfileThresholds(*calibration, ours);
    else if (mode == "paper")
        ours.profileTau0 = ours.profileTau0Low = kNaN;
    for (const auto& name : names) {
        auto spec = ours;
        spec.name = name;
        validatePolicy(spec);
    }
    // Each gate's record: the one already kept for it (a stored run's, or the last replay's:
    // the studio resolves on every slider move), else its folder and hash now.
    std::vector<AnalysisSettings::GateRecord> gates;
    for (const auto& name : names) {
        if (!isGatePolicy(name)) continue;
        const auto kept = std::find_if(base.gates.begin(), base.gates.end(),
                                       [&](const auto& gate) { return gate.policy == name; });
        if (kept != base.gates.end()) {
            gates.push_back(*kept);
            continue;
        }
        std::error_code error;
        const fs::path dir = gateDirOf(name);
        const auto weights = dir / "gate.safetensors";
        gates.push_back({name, fs::absolute(dir, error).lexically_normal().string(),
                         fs::exists(weights, error) ? sha256FileHex(weights) : ""});
    }
    base.gates = std::move(gates);
    return base;
}

AnalysisSettings settingsAtRate(AnalysisSettings settings, double rate) {
    settings.ours.rate = rate;
    if (settings.ours.calibration == "profile" && settings.calibration)
        setProfileThresholds(*settings.calibration, settings.ours);
    return settings;
}

}  // namespace ponder::core
