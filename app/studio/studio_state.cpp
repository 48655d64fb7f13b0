// Replays the tune settings over the cached units: policies, summary rows and figure data.
#include "app/studio/studio_state.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/errors.h"
#include "core/run_analysis.h"

namespace ponder::studio {

std::string decisionReason(double signal, double threshold, bool update, bool calibrating) {
    if (calibrating) return "UPDATE: calibration unit (paper calibration forces it)";
    char text[160];
    if (std::isnan(threshold)) {
        std::snprintf(text, sizeof text, "%s: fixed policy (signal %.4g)",
                      update ? "UPDATE" : "SKIP", signal);
    } else {
        std::snprintf(text, sizeof text, "%s: signal %.4g %s threshold %.4g",
                      update ? "UPDATE" : "SKIP", signal,
                      signal > threshold ? ">" : "<=", threshold);
    }
    return text;
}

void StudioState::reset(std::vector<core::PlanFile> files) {
    m_files = std::move(files);
    m_units.clear();
    selected.reset();
    replay();
}

void StudioState::appendUnits(const std::vector<core::UnitRecord>& units) {
    if (units.empty()) return;
    m_units.insert(m_units.end(), units.begin(), units.end());
    replay();
}

void StudioState::setUnits(std::vector<core::UnitRecord> units) {
    m_units = std::move(units);
    replay();
}

void StudioState::setTune(const TuneSettings& tune) {
    if (tune == m_tune) return;
    m_tune = tune;
    replay();
}

void StudioState::setCalibration(std::optional<core::Calibration> calibration) {
    m_calibration = std::move(calibration);
    replay();
}

core::PolicySpec StudioState::oursSpec() const {
    core::PolicySpec spec;
    spec.name = m_tune.policy;
    spec.rate = m_tune.rate;
    spec.alpha = m_tune.alpha;
    spec.signal = m_tune.signal;
    spec.calibration = m_tune.calibration;
    if (spec.calibration == "profile") {
        if (m_calibration)
            spec.profileTau0 =
                m_calibration->thresholdForRate(core::signalName(spec.signal), spec.rate);
        else
            throw core::InputError(
                "profile calibration needs the model's calibration.json",
                "run `ponder calibrate` for this model, or use paper calibration");
    }
    // `threshold` needs a fixed τ: the run's own (1-ρ) quantile is the natural default here.
    if (spec.name == "threshold")
        spec.threshold = core::empiricalThreshold(m_table.signal(spec.signal), spec.rate);
    return spec;
}

core::PolicySpec StudioState::oursSpecOr() const {
    try {
        return oursSpec();
    } catch (const core::PonderError&) {
        core::PolicySpec spec;
        spec.name = m_tune.policy;
        spec.rate = m_tune.rate;
        spec.alpha = m_tune.alpha;
        spec.signal = m_tune.signal;
        return spec;
    }
}

std::optional<std::int64_t> StudioState::unitAtByte(std::int64_t fileIndex,
                                                    std::uint64_t offset) const {
    if (fileIndex < 0 || std::size_t(fileIndex) >= m_files.size()) return std::nullopt;
    const auto& starts = m_files[std::size_t(fileIndex)].tokenByteStart;
    for (std::size_t i = 0; i < m_units.size(); ++i) {
        const auto& u = m_units[i];
        if (u.fileIndex != fileIndex || u.tokens <= 0) continue;
        const auto first = std::size_t(u.tokenStart);
        const auto last = std::size_t(u.tokenStart + u.tokens);
        if (first >= starts.size()) continue;
        const std::uint64_t begin = starts[first];
        const std::uint64_t end = last < starts.size() ? starts[last] : UINT64_MAX;
        if (offset >= begin && offset < end) return std::int64_t(i);
    }
    return std::nullopt;
}

void StudioState::replay() {
    ++m_version;
    m_replayError.clear();
    m_table = core::unitTableFrom(m_units);
    m_summary.clear();
    m_figureData = viz::RunFigureData{};
    m_figureData.title = title;
    m_ours = core::PolicyRun{};
    m_oracle = core::PolicyRun{};
    if (m_units.empty()) {
        m_figures = viz::runFigures(m_figureData);
        return;
    }
    try {
        const auto spec = oursSpec();
        core::runPolicyInto(spec, m_table, m_ours);
        core::PolicySpec oracleSpec = spec;
        oracleSpec.name = "oracle";
        core::runPolicyInto(oracleSpec, m_table, m_oracle);
        const auto row = [&](const std::string& method, const std::string& name) {
            core::PolicySpec one = spec;
            one.name = name;
            const auto run = core::runPolicy(one, m_table);
            m_summary.push_back({method, core::summarise(run, m_table, m_oracle)});
        };
        row("SKIP", "skip");
        row("UPDATE_1", "update");
        row("Random", "random");
        m_summary.push_back({"Oracle", core::summarise(m_oracle, m_table, m_oracle)});
        m_summary.push_back(
            {"Ours (" + spec.name + ")", core::summarise(m_ours, m_table, m_oracle)});

        auto& data = m_figureData;
        data.signalName = core::signalName(spec.signal);
        data.policyName = "Ours";
        data.signal = m_table.signal(spec.signal);
        data.threshold = m_ours.threshold;
        data.advantage = m_table.advantage;
        data.decisions = m_ours.decisions;
        data.oracleDecisions = m_oracle.decisions;
        if (core::forcesCalibrationUnits(spec))
            data.calibrationUnits = std::min<std::size_t>(
                std::size_t(std::max(0, spec.calibrationUnits)), m_table.size());
        const auto correlation = core::signalCorrelation(spec.signal, m_table);
        data.pearson = correlation.pearson;
        data.spearman = correlation.spearman;
        data.correlationUnits = correlation.n;
        core::AnalysisSettings settings;
        settings.ours = spec;
        std::vector<double> rates;
        for (int i = 0; i <= 20; ++i)
            rates.push_back(i / 20.0);
        for (const auto& p : core::sweepRates(m_table, settings, rates))
            data.sweep.push_back(
                {p.targetRate, p.oursLoss, p.randomLoss, p.randomExpectedLoss, p.oracleLoss});
        data.currentRate = spec.rate;
        data.lossSkip = m_summary[0].summary.loss;
        data.lossUpdate = m_summary[1].summary.loss;
    } catch (const std::exception& error) {
        m_replayError = error.what();
        m_summary.clear();
    }
    m_figures = viz::runFigures(m_figureData);
}

}  // namespace ponder::studio
