// Replays the tune settings over the cached units: policies, summary rows and figure data.
#include "app/studio/state/studio_state.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "app/common/run_figure_data.h"
#include "core/gating/run_analysis.h"
#include "core/util/errors.h"

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

// The same checks as the CLI's (core::validatePolicy): e.g. multi-signal has no profile
// calibration, so the studio says so instead of starting it from another signal's quantile.
core::PolicySpec StudioState::specFor(const core::UnitTable& table) const {
    core::PolicySpec spec;
    spec.name = m_tune.policy;
    spec.rate = m_tune.rate;
    spec.alpha = m_tune.alpha;
    spec.signal = m_tune.signal;
    spec.calibration = m_tune.calibration;
    if (spec.calibration == "profile") {
        if (m_calibration)
            core::setProfileThresholds(*m_calibration, spec);
        else
            throw core::InputError(
                "profile calibration needs the model's calibration.json",
                "run `ponder calibrate` for this model, or use paper calibration");
    }
    // `threshold` needs a fixed τ: the run's own (1-ρ) quantile is the natural default here.
    if (spec.name == "threshold")
        spec.threshold = core::empiricalThreshold(table.signal(spec.signal), spec.rate);
    core::validatePolicy(spec);
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
    core::AnalysisSettings settings;
    core::RunAnalysis analysis;
    std::vector<SummaryRow> rows;
};

// The rows are core's analysis (the CLI's and the exports' labels and numbers), except that
// Random shows its expectation at ρ with the seeded draw beside it, as `ponder eval` prints.
Replayed replayMethods(const core::PolicySpec& spec, const core::UnitTable& table) {
    Replayed out;
    out.settings.ours = spec;
    out.analysis = core::analyseUnits(table, out.settings);
    for (const auto& policy : out.analysis.policies) {
        SummaryRow row;
        row.method = core::displayName(policy);
        row.summary = policy.summary;
        if (policy.method == "Random Skip") {
            row.seededDraw = policy.summary;
            row.summary = core::expectedRandomSummary(out.analysis);
        }
        out.rows.push_back(std::move(row));
    }
    return out;
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
    m_table = core::unitTableFrom(m_units, tttSha256, updateSteps);
    m_summary.clear();
    m_figureData = viz::RunFigureData{};
    m_figureData.title = title;
    m_ours = core::PolicyRun{};
    m_oracle = core::PolicyRun{};
    if (!m_units.empty()) replayUnits();
    m_figures = viz::runFigures(m_figureData);
    // Stacked and x-linked in the studio, the chunk plots share one axis whose ticks say
    // "chunk" plainly enough: without the axis title row each keeps more of its height.
    // (Exports render figureData() afresh, with every label: app::writeFigures.)
    for (auto& figure : m_figures)
        if (figure.stem == "fig_signal" || figure.stem == "fig_advantage" ||
            figure.stem == "fig_decisions")
            figure.figure.x.label.clear();
}

void StudioState::replayUnits() {
    try {
        auto replayed = replayMethods(oursSpec(), m_table);
        const auto& policies = replayed.analysis.policies;
        // One file is one block, and a CI over a single block would be a point: CIs only for
        // several files. Decisions stay fixed; which files enter the mean is resampled.
        if (distinctBlocks(m_table.block) > 1)
            for (std::size_t i = 0; i < replayed.rows.size(); ++i) {
                if (replayed.rows[i].seededDraw) continue;  // a CI of one draw, not of Random
                replayed.rows[i].lossCi = core::bootstrapMeanLoss(policies[i].run, m_table);
                replayed.rows[i].recoveryCi = core::bootstrapRecovery(
                    policies[i].run, replayed.analysis.find("Oracle").run, m_table);
            }
        m_ours = replayed.analysis.find("Ours").run;
        m_oracle = replayed.analysis.find("Oracle").run;
        m_summary = std::move(replayed.rows);
        m_figureData = app::runFigureData(replayed.analysis, replayed.settings, title);

        if (m_compare && !m_compare->units.empty()) {
            const auto table = core::unitTableFrom(m_compare->units, m_compare->tttSha256,
                                                     m_compare->updateSteps);
            const auto other = replayMethods(specFor(table), table);
            for (std::size_t i = 0; i < m_summary.size() && i < other.rows.size(); ++i)
                m_summary[i].compare = other.rows[i].summary;
            const auto compareData =
                app::runFigureData(other.analysis, other.settings, m_compare->title);
            m_figureData.compareName = m_compare->title;
            m_figureData.compareSignal = compareData.signal;
            m_figureData.compareThreshold = compareData.threshold;
            m_figureData.compareSweep = compareData.sweep;
        }
    } catch (const std::exception& error) {
        m_replayError = error.what();
        m_summary.clear();
    }
}

}  // namespace ponder::studio
