// Replays the report's policies over a unit table.
#include "core/gating/run_analysis.h"

#include "core/gating/gate.h"
#include "core/store/run_store.h"
#include "core/util/errors.h"

#include <cmath>
#include <filesystem>
#include <limits>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace ponder::core {

void checkGates(const AnalysisSettings& settings, const std::string& tttSha256) {
    auto names = settings.extraPolicies;
    names.push_back(settings.ours.name);
    for (const auto& name : names) {
        if (!isGatePolicy(name)) continue;
        const auto gate = cachedGate(gateDirOf(name));
        if (!tttSha256.empty())
            checkGateFits(*gate, tttSha256, settings.ours.forceGate, "this model's");
    }
}

std::string updateMethodName(std::int64_t updateSteps) {
    return "UPDATE_" + std::to_string(updateSteps);
}

std::string methodName(const std::string& policyName) {
    // Two gates in one table stay apart by their folder's name.
    if (isGatePolicy(policyName)) {
        auto dir = std::filesystem::path(gateDirOf(policyName)).lexically_normal();
        if (dir.filename().empty()) dir = dir.parent_path();  // "gate:DIR/"
        // A model's own gate (MODEL/gate) is named after the model.
        if (dir.filename() == "gate" && !dir.parent_path().filename().empty())
            dir = dir.parent_path();
        return "Gate " + dir.filename().string();
    }
    for (const auto& info : policyTable())
        if (policyName == info.name) return info.method;
    return policyName;
}

const PolicyResult& RunAnalysis::find(const std::string& name) const {
    for (const auto& policy : policies)
        if (policy.method == name || policy.spec.name == name) return policy;
    throw std::out_of_range("no policy '" + name + "' in this analysis");
}

namespace {

// Whether a policy's decisions can be replayed on a gated fast-path run: the fixed and random
// rules, learned gates (their features come from the SKIP path), and single-signal rules whose
// signal is known for every unit. The Oracle needs every advantage; the others read the
// UPDATE path.
bool replayableOnPartial(const PolicySpec& spec, const UnitTable& table) {
    if (spec.name == "skip" || spec.name == "update" || spec.name == "random" ||
        isGatePolicy(spec.name))
        return true;
    for (const auto& info : policyTable())
        if (spec.name == info.name && info.usesSignal)
            return !anyNotComputed(table.signal(spec.signal));
    return false;
}

// On a partial run (design: "not computed", never a made-up value) a policy keeps its loss
// only when its decisions are replayable and every unit it updates has its UPDATE loss (the
// mean is NaN otherwise); recovery and agreement need the Oracle, so none has them.
void markPartial(PolicyResult& policy, const UnitTable& table) {
    auto& s = policy.summary;
    if (!replayableOnPartial(policy.spec, table)) s.loss = s.rate = s.cost = kNaN;
    s.recovery = s.agreement = kNaN;
}

}  // namespace

RunAnalysis analyseUnits(const UnitTable& table, const AnalysisSettings& settings) {
    RunAnalysis analysis;
    analysis.table = table;
    const auto add = [&](const std::string& method, const std::string& policy) {
        PolicyResult result;
        result.method = method;
        result.spec = settings.ours;
        result.spec.name = policy;
        result.run = runPolicy(result.spec, table);
        result.run.name = method;
        analysis.policies.push_back(std::move(result));
    };
    add("SKIP", "skip");
    add(updateMethodName(table.updateSteps), "update");
    add("Random Skip", "random");
    add("Oracle", "oracle");
    add("Ours", settings.ours.name);
    // A gate replayed with --lookahead says so: it is not a causal policy.
    const auto labelled = [&](const std::string& name) {
        return isGatePolicy(name) && settings.ours.gateLookahead
                   ? methodName(name) + " (lookahead, non-causal)"
                   : methodName(name);
    };
    for (const auto& extra : settings.extraPolicies)
        if (extra != settings.ours.name) add(labelled(extra), extra);
    const auto& oracle = analysis.policies[3].run;
    const bool partial = table.partial();
    for (auto& policy : analysis.policies) {
        policy.summary = summarise(policy.run, table, oracle);
        policy.summary.name = policy.method;
        if (partial) markPartial(policy, table);
    }
    return analysis;
}

std::vector<SweepPoint> sweepRates(const UnitTable& table, const AnalysisSettings& settings,
                                   const std::vector<double>& rates) {
    std::vector<SweepPoint> points;
    for (double rate : rates) {
        AnalysisSettings atRate = settings;
        atRate.ours.rate = rate;
        atRate.extraPolicies.clear();
        const auto analysis = analyseUnits(table, atRate);
        SweepPoint point;
        point.targetRate = rate;
        const auto& ours = analysis.find("Ours").summary;
        point.oursLoss = ours.loss;
        point.oursRate = ours.rate;
        point.oursRecovery = ours.recovery;
        point.randomLoss = analysis.find("Random Skip").summary.loss;
        point.randomExpectedLoss = expectedRandomLoss(table, rate);
        point.oracleLoss = analysis.find("Oracle").summary.loss;
        points.push_back(point);
    }
    return points;
}

std::vector<StoredPolicy> storedPolicies(const RunAnalysis& analysis,
                                         const AnalysisSettings& settings) {
    std::vector<StoredPolicy> stored;
    for (const auto& policy : analysis.policies) {
        AnalysisSettings one = settings;
        one.ours = policy.spec;
        one.extraPolicies.clear();
        stored.push_back({policy.spec.name, analysisSettingsJson(one), policy.run.decisions,
                          policy.run.threshold, policy.run.rateEma});
    }
    return stored;
}

std::string analysisSettingsJson(const AnalysisSettings& settings) {
    const auto& ours = settings.ours;
    const auto number = [](double value) {
        return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
    };
    nlohmann::ordered_json root = {{"policy", ours.name},
                                   {"rate", ours.rate},
                                   {"alpha", ours.alpha},
                                   {"signal", signalName(ours.signal)},
                                   {"calibration", ours.calibration},
                                   {"profile_tau0", number(ours.profileTau0)},
                                   {"profile_tau0_low", number(ours.profileTau0Low)},
                                   {"threshold", number(ours.threshold)},
                                   {"calibration_units", ours.calibrationUnits},
                                   {"seed", ours.seed},
                                   {"advanced_std", ours.advancedStd},
                                   {"force_gate", ours.forceGate},
                                   {"gate_lookahead", ours.gateLookahead},
                                   {"extra_policies", settings.extraPolicies}};
    return root.dump();
}

AnalysisSettings analysisSettingsFromJson(const std::string& text) {
    AnalysisSettings settings;
    const auto root = nlohmann::json::parse(text.empty() ? "{}" : text, nullptr, false);
    if (!root.is_object()) return settings;
    auto& ours = settings.ours;
    // A field of the wrong type keeps its default, like a missing one (json::value() would
    // throw type_error instead; fuzzing found it). Integers are read as integers: a seed above
    // 2^53 does not survive a trip through double, and a double outside int's range cannot be
    // cast (undefined behaviour).
    const auto numberOr = [&](const char* key, double fallback) {
        const auto found = root.find(key);
        return found != root.end() && found->is_number() ? found->get<double>() : fallback;
    };
    const auto textOr = [&](const char* key, const std::string& fallback) {
        const auto found = root.find(key);
        return found != root.end() && found->is_string() ? found->get<std::string>() : fallback;
    };
    ours.name = textOr("policy", ours.name);
    ours.rate = numberOr("rate", ours.rate);
    ours.alpha = numberOr("alpha", ours.alpha);
    ours.signal = parseSignal(textOr("signal", signalName(ours.signal)));
    ours.calibration = textOr("calibration", ours.calibration);
    ours.profileTau0 = numberOr("profile_tau0", kNaN);
    ours.profileTau0Low = numberOr("profile_tau0_low", kNaN);
    ours.threshold = numberOr("threshold", kNaN);
    ours.advancedStd = textOr("advanced_std", ours.advancedStd);
    if (const auto force = root.find("force_gate"); force != root.end() && force->is_boolean())
        ours.forceGate = force->get<bool>();
    if (const auto ahead = root.find("gate_lookahead"); ahead != root.end() && ahead->is_boolean())
        ours.gateLookahead = ahead->get<bool>();
    if (const auto units = root.find("calibration_units");
        units != root.end() && units->is_number_integer() &&
        units->get<std::int64_t>() >= std::numeric_limits<int>::min() &&
        units->get<std::int64_t>() <= std::numeric_limits<int>::max())
        ours.calibrationUnits = int(units->get<std::int64_t>());
    if (const auto seed = root.find("seed"); seed != root.end() && seed->is_number_unsigned())
        ours.seed = seed->get<std::uint64_t>();
    if (const auto extra = root.find("extra_policies"); extra != root.end() && extra->is_array()) {
        settings.extraPolicies.clear();
        for (const auto& name : *extra)
            if (name.is_string()) settings.extraPolicies.push_back(name.get<std::string>());
    }
    return settings;
}

double expectedRandomLoss(const UnitTable& table, double rate) {
    if (table.size() == 0) return kNaN;
    double skip = 0, advantage = 0;
    for (std::size_t i = 0; i < table.size(); ++i) {
        skip += table.lossSkip[i];
        advantage += table.advantage[i];
    }
    return (skip - rate * advantage) / double(table.size());
}

PolicySummary expectedRandomSummary(const RunAnalysis& analysis) {
    const auto& random = analysis.find("Random Skip");
    const auto& oracle = analysis.find("Oracle");
    const auto& skip = analysis.find("SKIP");
    const double rho = random.spec.rate;
    PolicySummary expected;
    expected.name = "Random Skip (expected)";
    expected.units = analysis.table.size();
    if (expected.units == 0) return expected;
    expected.loss = expectedRandomLoss(analysis.table, rho);
    expected.rate = rho;
    expected.cost = analysis.table.costAtRate(rho);
    const double gap = skip.summary.loss - oracle.summary.loss;
    if (gap != 0) expected.recovery = (skip.summary.loss - expected.loss) / gap;
    double updated = 0;
    for (auto d : oracle.run.decisions)
        updated += d;
    const double oracleRate = updated / double(expected.units);
    expected.agreement = rho * oracleRate + (1.0 - rho) * (1.0 - oracleRate);
    if (analysis.table.partial()) expected.agreement = kNaN;  // no Oracle on a fast-path run
    return expected;
}

std::string displayName(const PolicyResult& policy) {
    if (policy.method != "Ours") return policy.method;
    const bool ahead = isGatePolicy(policy.spec.name) && policy.spec.gateLookahead;
    return "Ours (" + policy.spec.name + (ahead ? ", lookahead, non-causal" : "") + ")";
}

}  // namespace ponder::core
