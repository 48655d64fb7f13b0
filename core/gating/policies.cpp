// Replayable gating policies (algorithm.md §5): the published EMA rule, the paper's printed
// equation, fixed thresholds, top-k rankings and the multi-signal score.
#include "core/gating/policies.h"

#include "core/gating/calibration.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "core/eval/evaluator.h"
#include "core/gating/decision_rules.h"
#include "core/gating/gate.h"
#include "core/util/errors.h"

namespace ponder::core {

namespace {

const std::vector<std::pair<Signal, const char*>>& signalNames() {
    static const std::vector<std::pair<Signal, const char*>> names{
        {Signal::ReconStep0, "recon_step0"},
        {Signal::ReconInit, "recon_init"},
        {Signal::ReconStep1, "recon_step1"},
        {Signal::Improvement, "improvement"},
        {Signal::Entropy, "entropy"},
        {Signal::Confidence, "confidence"},
        {Signal::LossSkip, "loss_skip"},
        {Signal::EntropyUpdate, "entropy_update"},
        {Signal::ConfidenceUpdate, "confidence_update"}};
    return names;
}

std::string joined(const std::vector<std::string>& items) {
    std::string text;
    for (const auto& item : items)
        text += (text.empty() ? "" : ", ") + item;
    return text;
}

void runEma(const std::vector<double>& score, const PolicySpec& spec, const EmaRule& rule,
            PolicyRun& run) {
    EmaGate gate(spec, rule);
    for (std::size_t u = 0; u < score.size(); ++u) {
        const auto step = gate.decide(score[u]);
        run.decisions[u] = step.decision;
        run.threshold[u] = step.threshold;
        run.rateEma[u] = step.rateEma;
    }
    run.score = score;
}

// z(recon_step0) + z(entropy) - z(confidence) with running mean/deviation over units 0..u,
// so the score of unit u uses nothing after it.
std::vector<double> multiSignalScore(const UnitTable& table) {
    const auto z = [](RunningMoments& moments, double x) {
        moments.add(x);
        const double sd = moments.deviation();
        return sd > 0 ? (x - moments.mean) / sd : 0.0;
    };
    RunningMoments recon, entropy, confidence;
    std::vector<double> score(table.size());
    for (std::size_t u = 0; u < table.size(); ++u)
        score[u] = z(recon, table.reconStep0[u]) + z(entropy, table.entropy[u]) -
                   z(confidence, table.confidence[u]);
    return score;
}

void aboveThreshold(const std::vector<double>& values, double tau,
                    std::vector<std::uint8_t>& decisions) {
    for (std::size_t u = 0; u < values.size(); ++u)
        decisions[u] = values[u] > tau ? 1 : 0;
}

// The advanced-* policies (system A, gates.md §1): the combined score of every unit, then
// the mode's rule on it.
void runAdvanced(const PolicySpec& spec, const UnitTable& table, PolicyRun& run) {
    for (std::size_t u = 0; u < table.size(); ++u)
        if (std::isnan(table.improvement[u]) || std::isnan(table.entropyUpdate[u]) ||
            std::isnan(table.confidenceUpdate[u]))
            throw InputError("'" + spec.name +
                                 "' needs the UPDATE path's improvement, entropy "
                                 "and confidence, and unit " +
                                 std::to_string(u) + " of this run has none",
                             "runs stored before ponder recorded entropy_update (schema 4) lack "
                             "it: evaluate the files again with `ponder eval`");
    AdvancedScore score(spec.advancedStd == "published");
    std::vector<double> combined(table.size());
    for (std::size_t u = 0; u < table.size(); ++u)
        combined[u] =
            score.next(table.improvement[u], table.entropyUpdate[u], table.confidenceUpdate[u]);
    run.score = combined;
    if (spec.name == "advanced-threshold") {
        aboveThreshold(combined, 0.5, run.decisions);
        run.threshold.assign(table.size(), 0.5);
    } else if (spec.name == "advanced-budget") {
        // The published budget rule: an additive offset with a tiny gain, often too slow to
        // reach ρ (gates.md §1) -- shown as it is.
        double rate = spec.rate, offset = 0.0;
        for (std::size_t u = 0; u < table.size(); ++u) {
            const double tau = 0.5 + offset;
            run.decisions[u] = combined[u] > tau ? 1 : 0;
            run.threshold[u] = tau;
            run.rateEma[u] = rate;
            rate = 0.9 * rate + 0.1 * run.decisions[u];
            offset = std::clamp(offset + 0.001 * (rate - spec.rate), -0.05, 0.05);
        }
    } else {  // advanced-budget-ema: recon-ema's multiplicative step on c, from τ0 = 0.5
        auto start = spec;
        start.calibration = "profile";
        start.profileTau0 = 0.5;
        runEma(combined, start, EmaRule::published(), run);
    }
    run.score = combined;
}

double median(std::vector<double> values) {
    values.erase(
        std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); }),
        values.end());
    if (values.empty()) return kNaN;
    std::sort(values.begin(), values.end());
    const std::size_t mid = values.size() / 2;
    return values.size() % 2 ? values[mid] : 0.5 * (values[mid - 1] + values[mid]);
}

}  // namespace

std::string signalName(Signal signal) {
    for (const auto& [s, name] : signalNames())
        if (s == signal) return name;
    return "unknown";
}

Signal parseSignal(const std::string& name) {
    std::vector<std::string> valid;
    for (const auto& [s, text] : signalNames()) {
        if (name == text) return s;
        valid.emplace_back(text);
    }
    throw InputError("unknown signal '" + name + "'", "use one of: " + joined(valid));
}

std::vector<Signal> allSignals() {
    std::vector<Signal> signals;
    for (const auto& entry : signalNames())
        signals.push_back(entry.first);
    return signals;
}

const std::vector<double>& UnitTable::signal(Signal s) const {
    switch (s) {
        case Signal::ReconStep0:
            return reconStep0;
        case Signal::ReconInit:
            return reconInit;
        case Signal::ReconStep1:
            return reconStep1;
        case Signal::Improvement:
            return improvement;
        case Signal::Entropy:
            return entropy;
        case Signal::Confidence:
            return confidence;
        case Signal::LossSkip:
            return lossSkip;
        case Signal::EntropyUpdate:
            return entropyUpdate;
        case Signal::ConfidenceUpdate:
            return confidenceUpdate;
    }
    return reconStep0;
}

UnitTable unitTableFrom(const std::vector<UnitRecord>& records, const std::string& tttSha256,
                        std::int64_t updateSteps) {
    UnitTable table;
    table.tttSha256 = tttSha256;
    table.updateSteps = std::max<std::int64_t>(1, updateSteps);
    const std::size_t n = records.size();
    for (auto column : UnitTable::doubleColumns())
        (table.*column).reserve(n);
    table.block.reserve(n);
    for (const auto& record : records) {
        table.lossSkip.push_back(record.lossSkip);
        table.lossUpdate.push_back(record.lossUpdate);
        table.advantage.push_back(record.advantage);
        table.reconStep0.push_back(record.reconStep0);
        table.reconInit.push_back(record.reconInit);
        table.reconStep1.push_back(record.reconStep1);
        table.improvement.push_back(record.improvement);
        table.entropy.push_back(record.entropy);
        table.confidence.push_back(record.confidence);
        table.entropyUpdate.push_back(record.entropyUpdate);
        table.confidenceUpdate.push_back(record.confidenceUpdate);
        table.lossStatic.push_back(record.lossStatic);
        table.advStatic.push_back(record.advStatic());
        table.advInner.push_back(record.advInner());
        table.block.push_back(record.fileIndex >= 0 ? record.fileIndex : record.batchIndex);
        table.fileIndex.push_back(record.fileIndex);
        table.chunkIndex.push_back(record.chunkIndex);
        if (record.gateFeatures.size() == kStoredGateFeatures)
            table.gateFeatures.insert(table.gateFeatures.end(), record.gateFeatures.begin(),
                                      record.gateFeatures.end());
        else
            table.gateFeatures.insert(table.gateFeatures.end(), kStoredGateFeatures, float(kNaN));
    }
    return table;
}

const std::vector<UnitTable::DoubleColumn>& UnitTable::doubleColumns() {
    static const std::vector<DoubleColumn> columns = {
        &UnitTable::lossSkip,      &UnitTable::lossUpdate,       &UnitTable::advantage,
        &UnitTable::reconStep0,    &UnitTable::reconInit,        &UnitTable::reconStep1,
        &UnitTable::improvement,   &UnitTable::entropy,          &UnitTable::confidence,
        &UnitTable::entropyUpdate, &UnitTable::confidenceUpdate, &UnitTable::lossStatic,
        &UnitTable::advStatic,     &UnitTable::advInner};
    return columns;
}

UnitTable UnitTable::rows(const std::vector<std::size_t>& indices) const {
    UnitTable out;
    out.tttSha256 = tttSha256;
    out.updateSteps = updateSteps;
    for (auto column : doubleColumns())
        out.*column = pickRows(this->*column, indices);
    out.block = pickRows(block, indices);
    out.fileIndex = pickRows(fileIndex, indices);
    out.chunkIndex = pickRows(chunkIndex, indices);
    if (gateFeatures.size() == size() * kStoredGateFeatures)
        out.gateFeatures = pickRows(gateFeatures, indices, kStoredGateFeatures);
    return out;
}

bool anyNotComputed(const std::vector<double>& values) {
    return std::any_of(values.begin(), values.end(), [](double v) { return std::isnan(v); });
}

bool UnitTable::partial() const {
    return anyNotComputed(lossUpdate);
}

std::string advantagePartName(AdvantagePart part) {
    switch (part) {
        case AdvantagePart::Static:
            return "adv_static";
        case AdvantagePart::Inner:
            return "adv_inner";
        case AdvantagePart::Whole:
            break;
    }
    return "advantage";
}

const std::vector<double>& UnitTable::advantageOf(AdvantagePart part) const {
    switch (part) {
        case AdvantagePart::Static:
            return advStatic;
        case AdvantagePart::Inner:
            return advInner;
        case AdvantagePart::Whole:
            break;
    }
    return advantage;
}

bool UnitTable::hasSplit() const {
    // A table built column by column may leave these empty: no split then.
    return size() > 0 && advInner.size() == size() && advStatic.size() == size() &&
           !anyNotComputed(advInner);
}

const std::vector<PolicyInfo>& policyTable() {
    // name, method, ema, usesSignal, profileCalibration, summary
    static const std::vector<PolicyInfo> table{
        {"skip", "SKIP", false, false, false, "never update"},
        {"update", "UPDATE_1", false, false, false, "update every unit"},
        {"random", "Random Skip", false, false, false, "update with probability rho (seeded)"},
        {"oracle", "Oracle", false, false, false,
         "update the top floor(N*rho) units by true advantage (needs labels)"},
        {"recon-ema", "recon-ema", true, true, true,
         "the published reconstruction gate: threshold on the signal, adapted by an EMA"},
        {"recon-ema-paper", "recon-ema-paper", true, true, true,
         "the paper's printed EMA equation on the signal"},
        {"recon-ema-inverted", "recon-ema-inverted", true, true, true,
         "the authors' inverted gating: recon-ema updating the LOWEST signals"},
        {"threshold", "threshold", false, true, false, "a fixed threshold on the signal"},
        {"improvement-topk", "TTT Improvement", false, false, false,
         "update the top floor(N*rho) units by recon_step0 - recon_step1"},
        {"improvement-threshold", "improvement-threshold", false, false, false,
         "a fixed threshold on the improvement (default: the run's median)"},
        {"multi-signal", "multi-signal", true, false, false,
         "z(recon_step0) + z(entropy) - z(confidence), adapted by an EMA"},
        // System A (gates.md §1): it reads the UPDATE path, so it saves no compute.
        {"advanced-threshold", "advanced-threshold", false, false, false,
         "earlier releases' score of UPDATE-path improvement, entropy, confidence above 0.5"},
        {"advanced-budget", "advanced-budget", false, false, false,
         "the same score with their budget-aware offset (additive, slow)"},
        {"advanced-budget-ema", "advanced-budget-ema", false, false, false,
         "the same score with recon-ema's multiplicative step from 0.5"},
        // Systems B and C (gates.md §2-3): one entry for every gate:DIR.
        {"gate:DIR", "Gate", false, false, false,
         "a learned gate written by `ponder train-gate` (Gumbel-Softmax, RankNet or ListNet)"},
    };
    return table;
}

bool isGatePolicy(const std::string& name) {
    return name.rfind("gate:", 0) == 0;
}

bool hasOwnScore(const std::string& policyName) {
    return isGatePolicy(policyName) || policyName == "multi-signal" ||
           policyName.rfind("advanced-", 0) == 0;
}

std::string scoreName(const std::string& policyName) {
    if (isGatePolicy(policyName)) return "gate q = P(UPDATE)";
    if (policyName.rfind("advanced-", 0) == 0) return "score c (system A)";
    if (policyName == "multi-signal") return "z-sum score";
    return "signal";
}

std::string gateDirOf(const std::string& name) {
    return name.substr(5);
}

const PolicyInfo& policyInfo(const std::string& name) {
    for (const auto& info : policyTable())
        if (name == info.name || (isGatePolicy(name) && isGatePolicy(info.name))) return info;
    throw InputError("unknown gating policy '" + name + "'",
                     "use one of: " + joined(policyNames()));
}

std::vector<std::string> policyNames() {
    std::vector<std::string> names;
    for (const auto& info : policyTable())
        names.push_back(info.name);
    return names;
}

bool isBaselinePolicy(const std::string& name) {
    return name == "skip" || name == "update" || name == "random" || name == "oracle";
}

void validatePolicy(const PolicySpec& spec) {
    const auto& info = policyInfo(spec.name);
    if (!(spec.rate >= 0.0 && spec.rate <= 1.0))
        throw InputError("target update rate " + std::to_string(spec.rate) + " is outside [0, 1]",
                         "pass a rate between 0 and 1, e.g. 0.5 (budget 2.0)");
    if (!(spec.alpha > 0.0 && spec.alpha <= 1.0))
        throw InputError("EMA alpha " + std::to_string(spec.alpha) + " is outside (0, 1]",
                         "pass an alpha in (0, 1]; the published default is 0.1");
    if (spec.calibration != "paper" && spec.calibration != "profile")
        throw InputError("unknown calibration '" + spec.calibration + "'",
                         "use 'paper' (first units forced UPDATE) or 'profile' (tau0 from "
                         "calibration.json)");
    if (spec.calibrationUnits < 1)
        throw InputError("calibration needs at least one unit",
                         "pass calibration units >= 1; the published value is 16");
    if (info.ema && spec.calibration == "profile" && !info.profileCalibration)
        throw InputError("'" + spec.name +
                             "' gates on a score that calibration.json does not "
                             "describe, so it has no profile calibration",
                         "use the paper calibration with it");
    const double tau0 = spec.name == "recon-ema-inverted" ? spec.profileTau0Low : spec.profileTau0;
    if (info.ema && spec.calibration == "profile" && std::isnan(tau0))
        throw InputError("profile calibration of '" + spec.name + "' needs a starting threshold",
                         "supply tau0 from the model's calibration.json, or use the 'paper' "
                         "calibration");
    if (spec.advancedStd != "running" && spec.advancedStd != "published")
        throw InputError("unknown advanced-std '" + spec.advancedStd + "'",
                         "use 'running' (the running deviation over units, our fix) or "
                         "'published' (the published batch-of-one deviation, 0)");
    if (isGatePolicy(spec.name) && gateDirOf(spec.name).empty())
        throw InputError("policy 'gate:' names no gate folder",
                         "write gate:DIR, e.g. gate:assets/default-model/gate");
    if (spec.name == "threshold" && std::isnan(spec.threshold) &&
        !(spec.calibration == "profile" && std::isfinite(spec.profileTau0)))
        throw InputError("the 'threshold' policy needs a fixed threshold",
                         "pass a threshold on signal " + signalName(spec.signal) +
                             ", use profile calibration (the (1-rho) quantile of calibration.json)"
                             ", or use 'recon-ema' to adapt one to the target rate");
}

void setProfileThresholds(const Calibration& calibration, PolicySpec& spec) {
    const auto signal = signalName(spec.signal);
    spec.profileTau0 = calibration.thresholdForRate(signal, spec.rate);
    spec.profileTau0Low = calibration.thresholdForRate(signal, 1.0 - spec.rate);
}

double empiricalThreshold(std::vector<double> values, double rate) {
    if (values.empty()) return kNaN;
    // NaN last keeps the sort a strict weak ordering.
    std::sort(values.begin(), values.end(),
              [](double a, double b) { return std::isnan(b) ? !std::isnan(a) : a < b; });
    const auto index = static_cast<std::size_t>((1.0 - rate) * double(values.size()));
    return values[std::min(index, values.size() - 1)];
}

PolicyRun runPolicy(const PolicySpec& spec, const UnitTable& table) {
    PolicyRun run;
    runPolicyInto(spec, table, run);
    return run;
}

void runPolicyInto(const PolicySpec& spec, const UnitTable& table, PolicyRun& run) {
    validatePolicy(spec);
    const std::size_t n = table.size();
    run.name = spec.name;
    run.decisions.assign(n, 0);
    run.threshold.assign(n, kNaN);
    run.rateEma.assign(n, kNaN);
    run.score.assign(n, kNaN);
    const std::string& name = spec.name;
    if (name == "skip") {
        run.decisions = decideSkip(n);
    } else if (name == "update") {
        run.decisions = decideUpdate(n);
    } else if (name == "random") {
        run.decisions = decideRandom(n, spec.rate, spec.seed);
    } else if (name == "oracle") {
        run.decisions = decideOracle(table.advantage, spec.rate);
    } else if (name == "improvement-topk") {
        run.decisions = decideOracle(table.improvement, spec.rate);
    } else if (name == "threshold" || name == "improvement-threshold") {
        const auto& values = name == "threshold" ? table.signal(spec.signal) : table.improvement;
        // No fixed τ: improvement-threshold takes the run's median (App. E); threshold under
        // profile calibration the (1-ρ) quantile of calibration.json, which is τ0.
        const double tau = !std::isnan(spec.threshold) ? spec.threshold
                           : name == "threshold"       ? spec.profileTau0
                                                       : median(values);
        aboveThreshold(values, tau, run.decisions);
        run.threshold.assign(n, tau);
        run.score = values;
    } else if (name == "recon-ema") {
        runEma(table.signal(spec.signal), spec, EmaRule::published(), run);
    } else if (name == "recon-ema-paper") {
        runEma(table.signal(spec.signal), spec, EmaRule::printedEquation(), run);
    } else if (name == "recon-ema-inverted") {
        runEma(table.signal(spec.signal), spec, EmaRule::inverted(), run);
    } else if (name == "multi-signal") {
        runEma(multiSignalScore(table), spec, EmaRule::zScores(), run);
    } else if (name.rfind("advanced-", 0) == 0) {
        runAdvanced(spec, table, run);
    } else if (isGatePolicy(name)) {
        runGate(*cachedGate(gateDirOf(name)), table, spec.forceGate, run, spec.gateLookahead,
                spec.rate);
    }
}

bool usesTargetRate(const PolicySpec& spec) {
    if (isGatePolicy(spec.name)) return spec.gateLookahead;
    // A threshold calibrated from calibration.json sits at the (1-ρ) quantile.
    if (spec.name == "threshold" && std::isnan(spec.threshold) && spec.calibration == "profile")
        return true;
    return spec.name != "advanced-threshold" && spec.name != "threshold" &&
           spec.name != "improvement-threshold" && spec.name != "skip" && spec.name != "update";
}

bool reportedAtOwnRate(const PolicySpec& spec) {
    if (spec.name == "skip" || spec.name == "update") return false;  // the fixed baselines
    return !usesTargetRate(spec) || spec.name == "advanced-budget";
}

bool forcesCalibrationUnits(const PolicySpec& spec) {
    return spec.calibration == "paper" && policyInfo(spec.name).ema;
}

double AdvancedScore::next(double improvement, double entropyUpdate, double confidenceUpdate) {
    static constexpr double kWeights[3] = {1.0, 0.3, 0.2};
    const double x[3] = {improvement, entropyUpdate, 1.0 - confidenceUpdate};
    double combined = 0;
    for (int k = 0; k < 3; ++k)
        combined += kWeights[k] / (1.0 + std::exp(-(x[k] - m_mean[k]) / (m_sigma[k] + 1e-6)));
    combined /= kWeights[0] + kWeights[1] + kWeights[2];
    for (int k = 0; k < 3; ++k) {
        m_seen[k].add(x[k]);  // this unit included
        const double deviation = m_publishedStd ? 0.0 : m_seen[k].deviation();
        m_mean[k] = 0.99 * m_mean[k] + 0.01 * x[k];
        m_sigma[k] = 0.99 * m_sigma[k] + 0.01 * (deviation + 1e-6);
    }
    return combined;
}

EmaGate::EmaGate(const PolicySpec& spec) : EmaGate(spec, EmaRule::published()) {
    if (spec.name == "recon-ema-paper")
        m_rule = EmaRule::printedEquation();
    else if (spec.name == "recon-ema-inverted")
        m_rule = EmaRule::inverted();
    else if (spec.name != "recon-ema")
        throw InputError("policy '" + spec.name + "' cannot decide one unit at a time",
                         "use recon-ema, recon-ema-paper or recon-ema-inverted");
}

EmaGate::EmaGate(const PolicySpec& spec, const EmaRule& rule) : m_spec(spec), m_rule(rule) {
    validatePolicy(spec);
    if (spec.calibration == "profile") {
        // The rule runs on direction·s: the inverted one starts at -(ρ quantile).
        m_tau = m_rule.direction < 0 ? -spec.profileTau0Low : spec.profileTau0;
        m_rate = spec.rate;
        m_calibrated = true;
    }
}

EmaGate::Step EmaGate::decide(double rawScore) {
    const double rho = m_spec.rate, alpha = m_spec.alpha;
    const double score = m_rule.direction * rawScore;
    Step step;
    if (!m_calibrated) {
        m_calibration.push_back(score);
        if (m_calibration.size() >= static_cast<std::size_t>(m_spec.calibrationUnits)) {
            m_tau = empiricalThreshold(m_calibration, rho);
            m_rate = rho;
            m_calibrated = true;
        }
    } else {
        step.decision = score > m_tau ? 1 : 0;
    }
    step.threshold = m_rule.direction * m_tau;  // on the score's own scale
    step.rateEma = m_rate;
    if (!m_calibrated) return step;
    const double d = step.decision;
    if (m_rule.preUpdateRate) {
        m_tau += alpha * (m_rate - rho) * std::max(m_rule.scaleFloor, std::abs(m_tau));
        m_rate = (1 - alpha) * m_rate + alpha * d;
    } else {
        m_rate = (1 - alpha) * m_rate + alpha * d;
        m_tau += alpha * (m_rate - rho) * std::max(m_rule.scaleFloor, std::abs(m_tau));
    }
    m_tau = std::max(m_rule.tauFloor, m_tau);
    return step;
}

}  // namespace ponder::core
