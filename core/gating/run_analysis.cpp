// Replays the report's policies over a unit table.
#include "core/gating/run_analysis.h"

#include "core/gating/calibration.h"
#include "core/gating/decision_rules.h"
#include "core/gating/gate.h"
#include "core/gating/settings_resolve.h"
#include "core/gating/slices.h"
#include "core/store/run_store.h"
#include "core/util/errors.h"

#include <algorithm>
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

SameRateComparison compareAtOwnRate(const PolicyRun& run, double loss, const UnitTable& table) {
    SameRateComparison out;
    const std::size_t n = table.size();
    if (n == 0) return out;
    double updated = 0;
    for (auto d : run.decisions)
        updated += d;
    out.rate = updated / double(n);
    out.loss = loss;
    out.randomExpected = expectedRandomLoss(table, out.rate);
    if (table.partial()) return out;  // a fast-path run has no Oracle
    // llround, not floor: floor can lose one update to rounding at the realized rate.
    const auto updates = std::size_t(std::llround(out.rate * double(n)));
    judgeAgainstOracle(out, run, table, decideTopK(table.advantage, updates));
    if (table.hasSplit()) {
        // Judged on the inner part alone (algorithm.md §4.1): the static part is what the
        // layer's weights add with or without the inner loop, so an oracle of adv_inner cannot
        // be ranked on losses where the static part dominates (the gap to Random is tiny there).
        const auto adaptation = decideTopK(table.advInner, updates);
        out.adaptationOracleLoss = meanChosenLoss(adaptation, table);
        const double random = out.rate * advantageSplit(table).advInner;
        const double best = meanInnerGain(adaptation, table) - random;
        if (std::abs(best) > 1e-12)
            out.adaptationCapture = (meanInnerGain(run.decisions, table) - random) / best;
    }
    return out;
}

double meanInnerGain(const std::vector<std::uint8_t>& decisions, const UnitTable& table) {
    if (decisions.empty()) return kNaN;
    double gain = 0;
    for (std::size_t u = 0; u < decisions.size(); ++u)
        if (decisions[u]) gain += table.advInner.at(u);
    return gain / double(decisions.size());
}

AdvantageSplit advantageSplit(const UnitTable& table) {
    AdvantageSplit out;
    if (!table.hasSplit()) return out;
    double whole = 0, part = 0, inner = 0;
    for (std::size_t u = 0; u < table.size(); ++u) {
        whole += table.advantage[u];
        part += table.advStatic[u];
        inner += table.advInner[u];
    }
    const double n = double(table.size());
    out.advantage = whole / n;
    out.advStatic = part / n;
    out.advInner = inner / n;
    // A share of a gain: with no gain on average (the layer hurts there) there is none to share.
    if (whole > 0) out.innerShare = inner / whole;
    return out;
}

void judgeAgainstOracle(SameRateComparison& out, const PolicyRun& run, const UnitTable& table,
                        std::vector<std::uint8_t> oracleDecisions) {
    PolicyRun oracle;
    oracle.decisions = std::move(oracleDecisions);
    oracle.threshold.assign(table.size(), kNaN);
    oracle.rateEma.assign(table.size(), kNaN);
    out.oracleLoss = meanChosenLoss(oracle.decisions, table);
    // No gap to capture at rate 0 or 1 (Random and the Oracle coincide up to rounding).
    const double gap = out.randomExpected - out.oracleLoss;
    if (std::abs(gap) > 1e-9) out.capture = (out.randomExpected - out.loss) / gap;
    const auto summary = summarise(run, table, oracle);
    out.recovery = summary.recovery;
    out.agreement = summary.agreement;
}

void checkNoReconstruction(const AnalysisSettings& settings) {
    const auto needs = [&](const std::string& name) -> std::string {
        for (const auto& info : policyTable())
            if (name == info.name && info.usesSignal) {
                const auto s = settings.ours.signal;
                const bool reconstruction = s == Signal::ReconStep0 || s == Signal::ReconInit ||
                                            s == Signal::ReconStep1 || s == Signal::Improvement;
                return reconstruction ? signalName(s) : std::string();
            }
        if (name.rfind("improvement-", 0) == 0 || name.rfind("advanced-", 0) == 0)
            return "improvement";
        if (name == "multi-signal") return "recon_step0";
        return {};
    };
    auto names = settings.extraPolicies;
    names.insert(names.begin(), settings.ours.name);
    for (const auto& name : names)
        if (const auto signal = needs(name); !signal.empty())
            throw InputError("policy " + name + " needs " + signal +
                                 ", which LoRA fast weights do not have (no reconstruction task, "
                                 "algorithm.md §2.7)",
                             "a LoRA run has entropy, confidence, loss_skip, entropy_update and "
                             "confidence_update: use {--signal} with one of them, or gate:DIR");
}

RunAnalysis analyseUnits(const UnitTable& table, const AnalysisSettings& settings) {
    // A run with no reconstruction statistics at all is a LoRA one (a fast-path run has
    // recon_init on every unit).
    if (table.size() > 0 && table.reconInit.size() == table.size() &&
        std::all_of(table.reconInit.begin(), table.reconInit.end(),
                    [](double v) { return std::isnan(v); }))
        checkNoReconstruction(settings);
    RunAnalysis analysis;
    analysis.table = table;
    const auto make = [&](const std::string& method, const std::string& policy, double rate) {
        PolicyResult result;
        result.method = method;
        result.spec = settings.ours;
        result.spec.name = policy;
        result.spec.rate = rate;
        result.ownRate = reportedAtOwnRate(result.spec);
        result.run = runPolicy(result.spec, table);
        result.run.name = method;
        return result;
    };
    // Ours first: when it spends its own budget, Random and the Oracle run at the rate it
    // realized, so recovery and agreement compare like with like (gates_same_rate's rule).
    auto ours = make("Ours", settings.ours.name, settings.ours.rate);
    analysis.oursOwnRate = ours.ownRate && table.size() > 0;
    analysis.baselineRate = settings.ours.rate;
    if (analysis.oursOwnRate) {
        double updated = 0;
        for (auto d : ours.run.decisions)
            updated += d;
        analysis.baselineRate = updated / double(table.size());
    }
    analysis.policies.push_back(make("SKIP", "skip", settings.ours.rate));
    analysis.policies.push_back(
        make(updateMethodName(table.updateSteps), "update", settings.ours.rate));
    analysis.policies.push_back(make("Random Skip", "random", analysis.baselineRate));
    auto oracle = make("Oracle", "oracle", analysis.baselineRate);
    if (analysis.oursOwnRate && !table.partial())  // exactly as many updates as Ours made
        oracle.run.decisions =
            decideTopK(table.advantage,
                       std::size_t(std::llround(analysis.baselineRate * double(table.size()))));
    analysis.policies.push_back(std::move(oracle));
    analysis.policies.push_back(std::move(ours));
    // A gate replayed with --lookahead says so: it is not a causal policy.
    const auto labelled = [&](const std::string& name) {
        return isGatePolicy(name) && settings.ours.gateLookahead
                   ? methodName(name) + " (lookahead, non-causal)"
                   : methodName(name);
    };
    for (const auto& extra : comparedPolicies(settings))
        analysis.policies.push_back(make(labelled(extra), extra, settings.ours.rate));
    const auto& oracleRun = analysis.policies[3].run;
    const bool partial = table.partial();
    for (std::size_t i = 0; i < analysis.policies.size(); ++i) {
        auto& policy = analysis.policies[i];
        policy.summary = summarise(policy.run, table, oracleRun);
        policy.summary.name = policy.method;
        if (i >= 4) {
            policy.sameRate = compareAtOwnRate(policy.run, policy.summary.loss, table);
            if (policy.ownRate) {
                policy.summary.recovery = policy.sameRate.recovery;
                policy.summary.agreement = policy.sameRate.agreement;
            }
        }
        if (partial) markPartial(policy, table);
    }
    if (table.hasSplit()) {
        // As many updates as the Oracle row made, ranked by what learning from the chunk adds.
        auto adaptation = make("Adaptation Oracle", "oracle", analysis.baselineRate);
        double updated = 0;
        for (auto d : oracleRun.decisions)
            updated += d;
        adaptation.run.decisions = decideTopK(table.advInner, std::size_t(updated));
        adaptation.run.name = adaptation.method;
        adaptation.summary = summarise(adaptation.run, table, oracleRun);
        adaptation.summary.name = adaptation.method;
        analysis.adaptationOracle = std::move(adaptation);
        analysis.innerShare = advantageSplit(table).innerShare;
    }
    return analysis;
}

std::vector<SweepPoint> sweepRates(const UnitTable& table, const AnalysisSettings& settings,
                                   const std::vector<double>& rates,
                                   const std::vector<std::size_t>& slice) {
    std::vector<SweepPoint> points;
    for (double rate : rates) {
        // A profile start moves with the rate (the (1-ρ) quantile), as `ponder export --rate` does.
        const AnalysisSettings atRate = settingsAtRate(settings, rate);
        const auto whole = analyseUnits(table, atRate);
        // A slice keeps the decisions made on the whole run at this rate (slices.h).
        const RunAnalysis analysis = slice.empty() ? whole : sliceAnalysis(whole, slice);
        SweepPoint point;
        point.targetRate = rate;
        point.randomExpectedLoss = expectedRandomLoss(analysis.table, rate);
        for (std::size_t i = kFirstExtraPolicy; i < analysis.policies.size(); ++i) {
            const auto& extra = analysis.policies[i];
            point.extraLosses.push_back(extra.ownRate ? kNaN : extra.summary.loss);
        }
        if (analysis.oursOwnRate) {
            // ρ does not set Ours' budget: no curve for it (the figure marks its one point),
            // and the baselines at this rate, not at the rate Ours realized.
            const auto lossOf = [&](const std::vector<std::uint8_t>& decisions) {
                if (slice.empty()) return meanChosenLoss(decisions, table);
                std::vector<std::uint8_t> kept;
                for (auto unit : slice)
                    kept.push_back(decisions.at(unit));
                return meanChosenLoss(kept, analysis.table);
            };
            point.randomLoss = lossOf(decideRandom(table.size(), rate, atRate.ours.seed));
            if (!table.partial()) point.oracleLoss = lossOf(decideOracle(table.advantage, rate));
            if (table.hasSplit())
                point.adaptationOracleLoss = lossOf(decideOracle(table.advInner, rate));
            points.push_back(point);
            continue;
        }
        const auto& ours = analysis.find("Ours").summary;
        point.oursLoss = ours.loss;
        point.oursRate = ours.rate;
        point.oursRecovery = ours.recovery;
        point.randomLoss = analysis.find("Random Skip").summary.loss;
        point.oracleLoss = analysis.find("Oracle").summary.loss;
        if (analysis.adaptationOracle)
            point.adaptationOracleLoss = analysis.adaptationOracle->summary.loss;
        points.push_back(point);
    }
    return points;
}

std::vector<StoredPolicy> storedPolicies(const RunAnalysis& analysis,
                                         const AnalysisSettings& settings) {
    std::vector<StoredPolicy> stored;
    for (const auto& policy : analysis.policies) {
        // Ours named after a baseline (`--policy oracle`) is that baseline at the same rate:
        // one row per name, as in the eval JSON's policy map.
        if (std::any_of(stored.begin(), stored.end(),
                        [&](const StoredPolicy& s) { return s.name == policy.spec.name; }))
            continue;
        AnalysisSettings one = settings;
        one.ours = policy.spec;
        one.extraPolicies.clear();
        one.calibration.reset();  // kept once, with the run's settings
        one.gates.clear();
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
    if (!settings.gates.empty()) {
        auto gates = nlohmann::ordered_json::array();
        for (const auto& gate : settings.gates)
            gates.push_back({{"policy", gate.policy}, {"dir", gate.dir}, {"sha256", gate.sha256}});
        root["gates"] = gates;
    }
    // The quantiles a profile start came from, so the run replays at any rate on its own.
    if (settings.calibration) {
        root["calibration_source"] = settings.calibrationSource;
        root["profile_calibration"] =
            nlohmann::ordered_json::parse(calibrationJson(*settings.calibration));
    }
    return root.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
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
    settings.calibrationSource = textOr("calibration_source", "");
    if (const auto gates = root.find("gates"); gates != root.end() && gates->is_array()) {
        for (const auto& gate : *gates) {
            if (!gate.is_object()) continue;
            AnalysisSettings::GateRecord record;
            for (auto [key, field] :
                 {std::pair{"policy", &record.policy}, std::pair{"dir", &record.dir},
                  std::pair{"sha256", &record.sha256}}) {
                const auto found = gate.find(key);
                if (found != gate.end() && found->is_string()) *field = found->get<std::string>();
            }
            settings.gates.push_back(std::move(record));
        }
    }
    // A gate named by a relative folder is found again from another working folder through the
    // absolute one recorded with the run.
    const auto relocated = [&](const std::string& name) {
        if (!isGatePolicy(name)) return name;
        std::error_code error;
        if (std::filesystem::exists(gateDirOf(name), error)) return name;
        for (const auto& gate : settings.gates)
            if (gate.policy == name && !gate.dir.empty()) return "gate:" + gate.dir;
        return name;
    };
    ours.name = relocated(ours.name);
    for (auto& extra : settings.extraPolicies)
        extra = relocated(extra);
    if (const auto stored = root.find("profile_calibration");
        stored != root.end() && stored->is_object()) {
        try {
            settings.calibration = std::make_shared<const Calibration>(
                parseCalibration(stored->dump(), "the run's stored calibration"));
        } catch (const std::exception&) {
            // A damaged copy is as if none was kept: the stored τ0 still replays the run.
        }
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
    // A gate by its folder's name ("Gate default-model"), not its whole path.
    const bool gate = isGatePolicy(policy.spec.name);
    const bool ahead = gate && policy.spec.gateLookahead;
    return "Ours (" + (gate ? methodName(policy.spec.name) : policy.spec.name) +
           (ahead ? ", lookahead, non-causal" : "") + ")";
}

}  // namespace ponder::core

namespace ponder::core {

std::vector<SummaryRow> summaryRows(const RunAnalysis& analysis) {
    std::vector<SummaryRow> rows;
    for (const auto& policy : analysis.policies) {
        SummaryRow row;
        row.label = displayName(policy);
        row.policy = policy.spec.name;
        row.summary = policy.summary;
        row.ownRate = policy.ownRate;
        // The expectation and the seeded draw never share a label (design.md §7).
        if (policy.spec.name == "random") {
            row.seededDraw = policy.summary;
            row.summary = expectedRandomSummary(analysis);
            row.label = row.summary.name;
        }
        rows.push_back(std::move(row));
        if (policy.spec.name == "oracle" && policy.method == "Oracle" &&
            analysis.adaptationOracle) {
            const auto& adaptation = *analysis.adaptationOracle;
            rows.push_back({adaptation.method, "adaptation-oracle", adaptation.summary, {}, false});
        }
    }
    return rows;
}

}  // namespace ponder::core
