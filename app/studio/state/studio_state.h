// The studio's state layer without any window: cached unit records, the tune settings, and the
// instant replay of the policies into plot data and the summary table (design.md §5, §10).
// Torch-free and ImGui-free, so UI behaviour is tested without pixels.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/eval/evaluator.h"
#include "core/gating/calibration.h"
#include "core/gating/metrics.h"
#include "core/gating/policies.h"
#include "viz/run_figures.h"

namespace ponder::studio {

// What the Tune pane edits; every change replays over the cached units.
struct TuneSettings {
    double rate = 0.5;
    std::string policy = "recon-ema";
    core::Signal signal = core::Signal::ReconStep0;
    double alpha = 0.1;
    std::string calibration = "paper";  // paper | profile (needs the model's calibration.json)
    bool operator==(const TuneSettings& o) const {
        return rate == o.rate && policy == o.policy && signal == o.signal && alpha == o.alpha &&
               calibration == o.calibration;
    }
    bool operator!=(const TuneSettings& o) const { return !(*this == o); }
};

// One row of the summary table.
struct SummaryRow {
    std::string method;
    core::PolicySummary summary;
    // Percentile block-bootstrap CIs (files are the blocks), when the run has several files.
    std::optional<core::BootstrapInterval> lossCi, recoveryCi;
    std::optional<core::PolicySummary> compare;  // the same method on the compared run
    // Random's row: `summary` is the expectation at ρ, this the one seeded draw behind it.
    std::optional<core::PolicySummary> seededDraw;
};

// A second stored run overlaid on the plots and summarised beside the current one; it is
// replayed with the current tune settings, so both columns compare like with like.
struct CompareRun {
    std::int64_t id = 0;
    std::string title;
    std::vector<core::UnitRecord> units;
    std::string tttSha256;  // its TTT checkpoint, for gate:DIR policies
    std::int64_t updateSteps = 1;  // its ttt.json's UPDATE_N, for the cost column
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
    void setCalibration(std::optional<core::Calibration> calibration);
    void setCompare(std::optional<CompareRun> compare);
    const std::optional<CompareRun>& compare() const { return m_compare; }

    const TuneSettings& tune() const { return m_tune; }
    const std::vector<core::UnitRecord>& units() const { return m_units; }
    const std::vector<core::PlanFile>& files() const { return m_files; }
    const core::UnitTable& table() const { return m_table; }
    const core::PolicyRun& ours() const { return m_ours; }
    const core::PolicyRun& oracle() const { return m_oracle; }
    const std::vector<SummaryRow>& summary() const { return m_summary; }
    const viz::RunFigureData& figureData() const { return m_figureData; }
    const std::vector<viz::NamedFigure>& figures() const { return m_figures; }
    // A one-line message when the last replay could not run (bad settings), else empty.
    const std::string& replayError() const { return m_replayError; }
    std::size_t calibrationUnits() const { return m_figureData.calibrationUnits; }
    // Bumped on each replay, so panes can cache what they derive.
    std::uint64_t version() const { return m_version; }

    std::optional<std::int64_t> selected;  // selected unit index (plots and source)
    std::string title = "no run";
    // SHA-256 of the current run's ttt.safetensors: a gate:DIR policy refuses another layer's
    // run. Set before reset() (the caller knows the model or the stored run).
    std::string tttSha256;
    std::int64_t updateSteps = 1;  // the same run's ttt.json UPDATE_N: the cost column's 1 + 2N

    // The spec "Ours" uses for the current settings (profile τ0 filled in when available).
    core::PolicySpec oursSpec() const { return specFor(m_table); }
    // The same, falling back to paper calibration when profile cannot be used (to store).
    core::PolicySpec oursSpecOr() const;
    // The unit containing byte `offset` of file `fileIndex`, if any.
    std::optional<std::int64_t> unitAtByte(std::int64_t fileIndex, std::uint64_t offset) const;

private:
    void replay();
    void replayUnits();  // policies, CIs, the compared run and figure data of m_units
    // The tune settings as a spec for `table` (a fixed-threshold policy takes its τ from it).
    core::PolicySpec specFor(const core::UnitTable& table) const;

    std::vector<core::PlanFile> m_files;
    std::vector<core::UnitRecord> m_units;
    TuneSettings m_tune;
    std::optional<core::Calibration> m_calibration;
    std::optional<CompareRun> m_compare;
    core::UnitTable m_table;
    core::PolicyRun m_ours, m_oracle;
    std::vector<SummaryRow> m_summary;
    viz::RunFigureData m_figureData;
    std::vector<viz::NamedFigure> m_figures;
    std::string m_replayError;
    std::uint64_t m_version = 0;
};

}  // namespace ponder::studio
