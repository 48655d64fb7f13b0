// Replays the tune settings over the cached units: policies, summary rows and figure data.
#include "app/studio/state/studio_state.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
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
    ++m_unitsGeneration;
    m_slice.clear();  // another run's file indices
    selected.reset();
    replay();
}

void StudioState::appendUnits(const std::vector<core::UnitRecord>& units) {
    if (units.empty()) return;
    m_units.insert(m_units.end(), units.begin(), units.end());
    ++m_unitsGeneration;
    replay();
}

void StudioState::setUnits(std::vector<core::UnitRecord> units) {
    m_units = std::move(units);
    ++m_unitsGeneration;
    replay();
}

void StudioState::setTune(const TuneSettings& tune) {
    if (tune == m_tune) return;
    m_tune = tune;
    replay();
}

void StudioState::setCalibration(std::optional<core::Calibration> calibration) {
    m_calibration =
        calibration ? std::make_shared<const core::Calibration>(std::move(*calibration)) : nullptr;
    replay();
}

void StudioState::setCompare(std::optional<CompareRun> compare) {
    m_compare = std::move(compare);
    replay();
}

void StudioState::setRunFacts(std::string tttSha256, std::int64_t updateSteps) {
    m_tttSha256 = std::move(tttSha256);
    m_updateSteps = updateSteps;
    ++m_unitsGeneration;  // the table the sweep replays over changes with them
}

void StudioState::setExtraPolicies(std::vector<std::string> names) {
    m_runSettings.extraPolicies = std::move(names);
    replay();
}

void StudioState::setFileSha256(std::vector<std::string> sha256) {
    m_fileSha256 = std::move(sha256);
    replay();
}

void StudioState::setRunSettings(core::AnalysisSettings settings) {
    m_runSettings = std::move(settings);
    const auto& ours = m_runSettings.ours;
    m_tune.policy = ours.name;
    m_tune.rate = ours.rate;
    m_tune.alpha = ours.alpha;
    m_tune.signal = ours.signal;
    m_tune.calibration = ours.calibration;
    replay();
}

bool StudioState::rateApplies() const {
    auto spec = m_runSettings.ours;  // its τ, lookahead and the like
    spec.name = m_tune.policy;
    spec.calibration = m_tune.calibration;
    return core::usesTargetRate(spec);
}

core::SettingsOverrides StudioState::tuneOverrides() const {
    core::SettingsOverrides overrides;
    overrides.policies = {m_tune.policy};
    for (const auto& extra : m_runSettings.extraPolicies)
        overrides.policies.push_back(extra);
    overrides.rate = m_tune.rate;
    overrides.alpha = m_tune.alpha;
    overrides.signal = m_tune.signal;
    overrides.calibration = m_tune.calibration;
    return overrides;
}

// Core resolves the settings (the CLI's and the exports' rules): the tune over the run's
// stored settings; a profile start reads the run's stored calibration, else the model's. A
// `threshold` keeps the run's τ, or under profile calibration takes τ0 (core's rule).
core::AnalysisSettings StudioState::settingsFor(core::AnalysisSettings base) const {
    auto overrides = tuneOverrides();
    if (overrides.calibration == "auto") overrides.calibration = base.ours.calibration;
    if (!base.calibration && m_calibration) base.calibration = m_calibration;
    return core::resolveSettings(std::move(base), overrides, {});
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

// core's summary rows with the studio's intervals: only from enough files to mean anything.
std::vector<SummaryRow> rowsOf(const core::RunAnalysis& analysis) {
    std::vector<SummaryRow> rows;
    const auto& oracle = analysis.find("Oracle").run;
    const auto core = core::summaryRows(analysis);
    std::size_t policy = 0;  // the row's place in analysis.policies
    for (std::size_t i = 0; i < core.size(); ++i) {
        SummaryRow row;
        row.method = core[i].label;
        row.policy = core[i].policy;
        row.summary = core[i].summary;
        row.seededDraw = core[i].seededDraw;
        row.ownRate = core[i].ownRate;
        // Decisions stay fixed; which files enter the mean is resampled. A CI of one Random
        // draw is not a CI of Random, and a policy at its own rate has its own Oracle.
        // Every row is one of analysis.policies in order, but the adaptation oracle's.
        const bool adaptation = row.policy == "adaptation-oracle" && analysis.adaptationOracle;
        const auto& run =
            adaptation ? analysis.adaptationOracle->run : analysis.policies.at(policy++).run;
        if (!row.seededDraw && !row.ownRate) {
            const auto loss = core::bootstrapMeanLoss(run, analysis.table);
            const auto recovery = core::bootstrapRecovery(run, oracle, analysis.table);
            if (core::showableInterval(loss)) row.lossCi = loss;
            if (core::showableInterval(recovery)) row.recoveryCi = recovery;
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

// For each unit of `units`, the unit of `other` with the same file (by SHA-256) and the same
// chunk of it, or -1: chunk 5 of another file is not comparable with chunk 5 of this one.
std::vector<std::int64_t> joinUnits(const std::vector<core::UnitRecord>& units,
                                    const std::vector<std::string>& sha256,
                                    const std::vector<core::UnitRecord>& other,
                                    const std::vector<std::string>& otherSha256) {
    const auto keyOf = [](const core::UnitRecord& u, const std::vector<std::string>& sha) {
        const bool known = u.fileIndex >= 0 && std::size_t(u.fileIndex) < sha.size() &&
                           !sha[std::size_t(u.fileIndex)].empty();
        return known ? sha[std::size_t(u.fileIndex)] + "#" + std::to_string(u.chunkIndex) + "@" +
                           std::to_string(u.tokenStart)
                     : std::string();
    };
    std::map<std::string, std::int64_t> index;
    for (std::size_t j = 0; j < other.size(); ++j)
        if (const auto key = keyOf(other[j], otherSha256); !key.empty())
            index.emplace(key, std::int64_t(j));
    std::vector<std::int64_t> match(units.size(), -1);
    for (std::size_t i = 0; i < units.size(); ++i)
        if (const auto found = index.find(keyOf(units[i], sha256)); found != index.end())
            match[i] = found->second;
    return match;
}

// The first unit of each file (of the slice, when there is one) by its name: the chunk axis'
// file boundaries. None for a single file or paper mode.
std::vector<std::pair<double, std::string>> fileStarts(const std::vector<core::UnitRecord>& units,
                                                       const std::set<std::int64_t>& slice) {
    std::vector<std::pair<double, std::string>> starts;
    std::int64_t last = -2;
    for (std::size_t i = 0; i < units.size(); ++i) {
        const auto file = units[i].fileIndex;
        if (file == last || file < 0 || (!slice.empty() && !slice.count(file))) continue;
        last = file;
        starts.emplace_back(double(i), std::filesystem::path(units[i].file).filename().string());
    }
    if (starts.size() < 2) starts.clear();
    return starts;
}

std::string sliceKey(const std::vector<std::size_t>& units) {
    std::string key;
    for (auto unit : units)
        key += std::to_string(unit) + ",";
    return key;
}

}  // namespace

void StudioState::setScatterPart(core::AdvantagePart part) {
    if (part == m_scatterPart) return;
    m_scatterPart = part;
    replay();
}

void StudioState::setSlice(std::set<std::int64_t> files) {
    if (files == m_slice) return;
    m_slice = std::move(files);
    replay();
}

void StudioState::replay() {
    ++m_version;
    m_replayError.clear();
    m_table = core::unitTableFrom(m_units, m_tttSha256, m_updateSteps);
    m_summary.clear();
    m_advantageSplit = {};
    m_analysis = core::RunAnalysis{};
    m_figureData = viz::RunFigureData{};
    m_figureData.title = title;
    m_ours = core::PolicyRun{};
    m_oracle = core::PolicyRun{};
    m_compareNote.clear();
    m_compareMatched = 0;
    m_fileRows.clear();
    m_sliceUnits.clear();
    if (!m_units.empty()) replayUnits();
    m_figures = viz::runFigures(m_figureData);
    // Stacked and x-linked in the studio, the chunk plots share one axis whose ticks say
    // "chunk" plainly enough: without the axis title row each keeps more of its height.
    // (Exports render figureData() afresh, with every label: app::writeFigures.)
    for (auto& figure : m_figures)
        if (figure.figure.x.integerTicks) figure.figure.x.label.clear();  // a chunk axis
}

void StudioState::replayUnits() {
    try {
        m_settings = settingsFor(m_runSettings);
        m_analysis = core::analyseUnits(m_table, m_settings);
        m_ours = m_analysis.find("Ours").run;
        m_oracle = m_analysis.find("Oracle").run;
        m_fileRows = core::perFileRows(m_analysis, m_units);
        m_sliceUnits = core::unitsOfFiles(m_units, m_slice);
        std::optional<core::RunAnalysis> sliced;
        if (!m_sliceUnits.empty()) sliced = core::sliceAnalysis(m_analysis, m_sliceUnits);
        const auto& shown = sliced ? *sliced : m_analysis;
        m_summary = rowsOf(shown);
        m_advantageSplit = core::advantageSplit(shown.table);
        // The sweep replays every policy at 21 rates, the bulk of a replay; the target rate
        // plays no part in it, so moving the rate slider keeps it.
        const std::string sweepKey =
            std::to_string(m_unitsGeneration) + "|" +
            core::analysisSettingsJson(core::settingsAtRate(m_settings, 0)) + "|" +
            sliceKey(m_sliceUnits);
        if (sweepKey != m_sweepKey) {
            m_sweep = app::runFigureSweep(m_analysis, m_settings, m_sliceUnits);
            m_sweepKey = sweepKey;
        }
        m_figureData = app::runFigureData(m_analysis, m_settings, title, m_sliceUnits, &m_sweep,
                                          m_scatterPart);
        m_figureData.fileStarts = fileStarts(m_units, m_slice);
        if (m_compare && !m_compare->units.empty()) replayCompare();
    } catch (const std::exception& error) {
        m_replayError = error.what();
        m_summary.clear();
    }
}

void StudioState::replayCompare() {
    const auto table =
        core::unitTableFrom(m_compare->units, m_compare->tttSha256, m_compare->updateSteps);
    const auto settings = settingsFor(m_compare->settings);
    const auto other = core::analyseUnits(table, settings);
    // By label: one run may have rows the other has not (the adaptation oracle).
    for (const auto& row : core::summaryRows(other))
        for (auto& mine : m_summary)
            if (mine.method == row.label) mine.compare = row.summary;
    const auto compareData = app::runFigureData(other, settings, m_compare->title);
    m_figureData.compareName = m_compare->title;
    m_figureData.compareSweep = compareData.sweep;
    // Chunk by chunk only where both runs evaluated the same chunk of the same file (joined on
    // file SHA-256 and chunk); the summaries always compare.
    const auto match = joinUnits(m_units, m_fileSha256, m_compare->units, m_compare->fileSha256);
    m_compareMatched = 0;
    std::vector<double> signal(m_units.size(), core::kNaN), threshold(m_units.size(), core::kNaN);
    for (std::size_t i = 0; i < match.size(); ++i) {
        if (match[i] < 0) continue;
        ++m_compareMatched;
        const auto j = std::size_t(match[i]);
        if (j < compareData.signal.size()) signal[i] = compareData.signal[j];
        if (j < compareData.threshold.size()) threshold[i] = compareData.threshold[j];
    }
    const auto which = "run " + std::to_string(m_compare->id);
    if (m_compareMatched == 0) {
        m_compareNote = which +
                        " evaluated other files: compared by summary and sweep only, "
                        "not chunk by chunk";
        return;
    }
    if (!m_sliceUnits.empty()) {  // the plots show the slice's units only
        std::vector<double> slicedSignal, slicedThreshold;
        for (auto unit : m_sliceUnits) {
            slicedSignal.push_back(signal[unit]);
            slicedThreshold.push_back(threshold[unit]);
        }
        signal = std::move(slicedSignal);
        threshold = std::move(slicedThreshold);
    }
    m_figureData.compareSignal = std::move(signal);
    m_figureData.compareThreshold = std::move(threshold);
    if (m_compareMatched < m_units.size() || m_compareMatched < m_compare->units.size())
        m_compareNote = std::to_string(m_compareMatched) + " of " + std::to_string(m_units.size()) +
                        " units matched " + which +
                        "'s (same file and chunk); the others have no overlay";
}

}  // namespace ponder::studio
