// Replays the tune settings over the cached units: policies, summary rows and figure data.
#include "app/studio/state/studio_state.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "core/util/errors.h"
#include "core/gating/run_analysis.h"

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

void StudioState::setCompare(std::optional<CompareRun> compare) {
    m_compare = std::move(compare);
    replay();
}

core::PolicySpec StudioState::specFor(const core::UnitTable& table) const {
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
        spec.threshold = core::empiricalThreshold(table.signal(spec.signal), spec.rate);
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

namespace {

// The summary table's methods replayed over one table, in display order.
struct Replayed {
    core::PolicyRun ours, oracle;
    std::vector<SummaryRow> rows;
    std::vector<core::PolicyRun> runs;  // of each row
};

Replayed replayMethods(const core::PolicySpec& spec, const core::UnitTable& table) {
    Replayed out;
    core::runPolicyInto(spec, table, out.ours);
    core::PolicySpec oracleSpec = spec;
    oracleSpec.name = "oracle";
    core::runPolicyInto(oracleSpec, table, out.oracle);
    for (const auto& [method, name] : {std::pair<const char*, const char*>{"SKIP", "skip"},
                                       {"UPDATE_1", "update"},
                                       {"Random", "random"}}) {
        core::PolicySpec one = spec;
        one.name = name;
        out.runs.push_back(core::runPolicy(one, table));
        out.rows.push_back(
            {method, core::summarise(out.runs.back(), table, out.oracle), {}, {}, {}});
    }
    out.runs.push_back(out.oracle);
    out.rows.push_back({"Oracle", core::summarise(out.oracle, table, out.oracle), {}, {}, {}});
    out.runs.push_back(out.ours);
    out.rows.push_back(
        {"Ours (" + spec.name + ")", core::summarise(out.ours, table, out.oracle), {}, {}, {}});
    return out;
}

std::vector<viz::SweepRow> sweepOf(const core::UnitTable& table, const core::PolicySpec& spec) {
    core::AnalysisSettings settings;
    settings.ours = spec;
    std::vector<double> rates;
    for (int i = 0; i <= 20; ++i)
        rates.push_back(i / 20.0);
    std::vector<viz::SweepRow> rows;
    for (const auto& p : core::sweepRates(table, settings, rates))
        rows.push_back(
            {p.targetRate, p.oursLoss, p.randomLoss, p.randomExpectedLoss, p.oracleLoss});
    return rows;
}

std::size_t distinctBlocks(const std::vector<std::int64_t>& block) {
    std::vector<std::int64_t> sorted = block;
    std::sort(sorted.begin(), sorted.end());
    return std::size_t(std::unique(sorted.begin(), sorted.end()) - sorted.begin());
}

}  // namespace

void StudioState::replay() {
    ++m_version;
    m_replayError.clear();
    m_table = core::unitTableFrom(m_units);
    m_summary.clear();
    m_figureData = viz::RunFigureData{};
    m_figureData.title = title;
    m_ours = core::PolicyRun{};
    m_oracle = core::PolicyRun{};
    if (!m_units.empty()) replayUnits();
    m_figures = viz::runFigures(m_figureData);
    // Stacked and x-linked in the studio, the chunk plots share one axis whose ticks say
    // "chunk" plainly enough: without the axis title row each keeps more of its height.
    for (auto& figure : m_figures)
        if (figure.stem == "fig_signal" || figure.stem == "fig_advantage" ||
            figure.stem == "fig_decisions")
            figure.figure.x.label.clear();
}

void StudioState::replayUnits() {
    try {
        const auto spec = oursSpec();
        auto replayed = replayMethods(spec, m_table);
        // One file is one block, and a CI over a single block would be a point: CIs only for
        // several files. Decisions stay fixed; which files enter the mean is resampled.
        if (distinctBlocks(m_table.block) > 1)
            for (std::size_t i = 0; i < replayed.rows.size(); ++i) {
                replayed.rows[i].lossCi = core::bootstrapMeanLoss(replayed.runs[i], m_table);
                replayed.rows[i].recoveryCi =
                    core::bootstrapRecovery(replayed.runs[i], replayed.oracle, m_table);
            }
        m_ours = std::move(replayed.ours);
        m_oracle = std::move(replayed.oracle);
        m_summary = std::move(replayed.rows);

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
        data.sweep = sweepOf(m_table, spec);
        data.currentRate = spec.rate;
        data.lossSkip = m_summary[0].summary.loss;
        data.lossUpdate = m_summary[1].summary.loss;

        if (m_compare && !m_compare->units.empty()) {
            const auto table = core::unitTableFrom(m_compare->units);
            const auto compareSpec = specFor(table);
            const auto other = replayMethods(compareSpec, table);
            for (std::size_t i = 0; i < m_summary.size() && i < other.rows.size(); ++i)
                m_summary[i].compare = other.rows[i].summary;
            data.compareName = m_compare->title;
            data.compareSignal = table.signal(compareSpec.signal);
            data.compareThreshold = other.ours.threshold;
            data.compareSweep = sweepOf(table, compareSpec);
        }
    } catch (const std::exception& error) {
        m_replayError = error.what();
        m_summary.clear();
    }
}

}  // namespace ponder::studio
