// The studio's state layer without any window: cached unit records, the tune settings, and the
// instant replay of the policies into plot data and the summary table (design.md §5, §10).
// Torch-free and ImGui-free, so UI behaviour is tested without pixels.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/eval/evaluator.h"
#include "core/gating/calibration.h"
#include "core/gating/metrics.h"
#include "core/gating/policies.h"
#include "core/gating/run_analysis.h"
#include "core/gating/settings_resolve.h"
#include "core/gating/slices.h"
#include "viz/run_figures.h"

namespace ponder::studio {

// What the Tune pane edits; every change replays over the cached units.
struct TuneSettings {
    double rate = 0.5;
    std::string policy = "recon-ema";
    core::Signal signal = core::Signal::ReconStep0;
    double alpha = 0.1;
    // paper | profile (needs a calibration.json) | auto (a new run's default: core resolves it,
    // and the run's settings then say which)
    std::string calibration = "paper";
    bool operator==(const TuneSettings& o) const {
        return rate == o.rate && policy == o.policy && signal == o.signal && alpha == o.alpha &&
               calibration == o.calibration;
    }
    bool operator!=(const TuneSettings& o) const { return !(*this == o); }
};

// One row of the summary table: core's row (core::summaryRows, the CLI's) with what the
// studio adds around it.
struct SummaryRow {
    std::string method;  // core's label: "Ours (recon-ema)", "Random Skip (expected)", ...
    std::string policy;  // the policy name behind it
    core::PolicySummary summary;
    // Percentile block-bootstrap CIs (files are the blocks), only when the run has enough files
    // for one to mean anything (core::kMinBootstrapBlocks); the Random expectation has none.
    std::optional<core::BootstrapInterval> lossCi, recoveryCi;
    std::optional<core::PolicySummary> compare;  // the same method on the compared run
    // Random's row: `summary` is the expectation at ρ, this the one seeded draw behind it.
    std::optional<core::PolicySummary> seededDraw;
    bool ownRate = false;  // compared with Random and the Oracle at the rate it realized
};

// A second stored run overlaid on the plots and summarised beside the current one; it is
// replayed with the current tune settings on top of its own stored ones, so both columns
// compare like with like.
struct CompareRun {
    std::int64_t id = 0;
    std::string title;
    std::vector<core::UnitRecord> units;
    std::string tttSha256;            // its TTT checkpoint, for gate:DIR policies
    std::int64_t updateSteps = 1;     // its ttt.json's UPDATE_N, for the cost column
    core::AnalysisSettings settings;  // as stored with it
    // The SHA-256 of each of its input files, by file index: units are joined on (file, unit).
    std::vector<std::string> fileSha256;
};

// Why a chunk was decided as it was, for tooltips.
std::string decisionReason(double signal, double threshold, bool update, bool calibrating);

class StudioState {
public:
    // A new run (live or reopened): forgets units, selection and view state.
    void reset(std::vector<core::PlanFile> files);
    // Appends finished units (the worker's stream) and replays.
    void appendUnits(const std::vector<core::UnitRecord>& units);
    void setUnits(std::vector<core::UnitRecord> units);
    void setTune(const TuneSettings& tune);
    // The run's facts a replay needs: its TTT checkpoint's hash (a gate:DIR policy refuses
    // another layer's run) and its ttt.json's UPDATE_N (the cost column's 1 + 2N). Before reset().
    void setRunFacts(std::string tttSha256, std::int64_t updateSteps);
    // The current run's settings as core resolved and stored them: the tune takes their policy,
    // rate, α, signal and calibration (so a reopened run shows what was stored), the replay
    // their extra policies and stored calibration.
    void setRunSettings(core::AnalysisSettings settings);
    // The model's calibration.json, for a profile start when the run's settings hold none.
    void setCalibration(std::optional<core::Calibration> calibration);
    // Policies replayed beside Ours (their own summary rows), until a run's settings say.
    void setExtraPolicies(std::vector<std::string> names);
    const std::vector<std::string>& extraPolicies() const { return m_runSettings.extraPolicies; }
    // The SHA-256 of each current input file, by file index (the compare join).
    void setFileSha256(std::vector<std::string> sha256);
    void setCompare(std::optional<CompareRun> compare);
    // Files (by index) the summary, the plots and the chunk table are restricted to; empty:
    // the whole run. The whole run's decisions, measured on their units (core/gating/slices.h).
    void setSlice(std::set<std::int64_t> files);
    const std::set<std::int64_t>& slice() const { return m_slice; }
    std::size_t sliceUnitCount() const { return m_sliceUnits.size(); }
    // Per file of the whole run: units, losses by path, Ours, Oracle, rates and recovery.
    const std::vector<core::FileSliceRow>& fileRows() const { return m_fileRows; }
    const std::optional<CompareRun>& compare() const { return m_compare; }

    const TuneSettings& tune() const { return m_tune; }
    const std::vector<core::UnitRecord>& units() const { return m_units; }
    const std::vector<core::PlanFile>& files() const { return m_files; }
    const core::UnitTable& table() const { return m_table; }
    const core::PolicyRun& ours() const { return m_ours; }
    const core::PolicyRun& oracle() const { return m_oracle; }
    // What the summary, plots and exports show: core's analysis with the resolved settings.
    const core::RunAnalysis& analysis() const { return m_analysis; }
    const core::AnalysisSettings& analysisSettings() const { return m_settings; }
    // Why the compared run is not overlaid chunk by chunk, or only in part (other inputs), else
    // empty; and how many of the current units matched one of it (same file SHA-256, chunk).
    const std::string& compareNote() const { return m_compareNote; }
    std::size_t compareMatched() const { return m_compareMatched; }
    const std::vector<SummaryRow>& summary() const { return m_summary; }
    // The advantage split of what the summary shows (the slice's units when there is one);
    // NaN for a run without the static path (algorithm.md §4.1).
    const core::AdvantageSplit& advantageSplit() const { return m_advantageSplit; }
    // What the scatter's y axis and its correlation read (the Scatter tab's choice); a part
    // on a run without the static path shows the whole advantage.
    void setScatterPart(core::AdvantagePart part);
    core::AdvantagePart scatterPart() const { return m_scatterPart; }
    const viz::RunFigureData& figureData() const { return m_figureData; }
    const std::vector<viz::NamedFigure>& figures() const { return m_figures; }
    // A one-line message when the last replay could not run (bad settings), else empty.
    const std::string& replayError() const { return m_replayError; }
    std::size_t calibrationUnits() const { return m_figureData.calibrationUnits; }
    // Bumped on each replay, so panes can cache what they derive.
    std::uint64_t version() const { return m_version; }

    std::optional<std::int64_t> selected;  // selected unit index (plots and source)
    std::string title = "no run";
    // Whether the rate control applies to the chosen policy (core::usesTargetRate: not for a
    // learned gate or a fixed threshold; a `threshold` at profile's τ0 follows the rate).
    bool rateApplies() const;
    // The overrides the tune stands for, as a new run's request takes them (`auto` calibration
    // stays until core resolves it).
    core::SettingsOverrides tuneOverrides() const;
    // The unit containing byte `offset` of file `fileIndex`, if any.
    std::optional<std::int64_t> unitAtByte(std::int64_t fileIndex, std::uint64_t offset) const;

private:
    void replay();
    void replayUnits();  // policies, CIs, the compared run and figure data of m_units
    // `base` resolved with the tune on top.
    core::AnalysisSettings settingsFor(core::AnalysisSettings base) const;
    void replayCompare();

    std::vector<core::PlanFile> m_files;
    std::vector<core::UnitRecord> m_units;
    TuneSettings m_tune;
    std::shared_ptr<const core::Calibration> m_calibration;
    std::optional<CompareRun> m_compare;
    std::set<std::int64_t> m_slice;
    std::vector<std::size_t> m_sliceUnits;  // the slice's unit indices (empty: no slice)
    std::vector<core::FileSliceRow> m_fileRows;
    // The figure's sweep and what it was computed from (units, settings but the rate, slice).
    std::uint64_t m_unitsGeneration = 0;  // bumped whenever the units or the run's facts change
    std::string m_sweepKey;
    std::vector<core::SweepPoint> m_sweep;
    std::string m_compareNote;
    std::size_t m_compareMatched = 0;
    std::vector<std::string> m_fileSha256;
    std::string m_tttSha256;
    std::int64_t m_updateSteps = 1;
    core::AnalysisSettings m_runSettings, m_settings;
    core::RunAnalysis m_analysis;
    core::UnitTable m_table;
    core::PolicyRun m_ours, m_oracle;
    std::vector<SummaryRow> m_summary;
    core::AdvantageSplit m_advantageSplit;
    core::AdvantagePart m_scatterPart = core::AdvantagePart::Whole;
    viz::RunFigureData m_figureData;
    std::vector<viz::NamedFigure> m_figures;
    std::string m_replayError;
    std::uint64_t m_version = 0;
};

}  // namespace ponder::studio
