// A run's analysis (core) turned into the plain inputs of the run figures (viz), and the
// figures written to files: `ponder export --figures`, the studio's plots and its exports.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/gating/run_analysis.h"
#include "core/report/exports.h"
#include "viz/figure_export.h"
#include "viz/run_figures.h"

namespace ponder::app {

// Ours (the chosen policy), the extra policies, Oracle, its signal, correlation and a sweep
// over rates 0, 0.05, ..., 1 with the analysis' other settings. With `slice` (unit indices,
// core/gating/slices.h) only those units, at their own chunk numbers on the x axis.
// `sweep`: the points runFigureSweep gives for the same analysis, settings and slice, when the
// caller kept them (the studio, while only the target rate moves); else computed here.
// `scatterPart`: the advantage the scatter and its correlation read (algorithm.md §4.1); a part
// on a run without the static path falls back to the whole advantage.
viz::RunFigureData runFigureData(const core::RunAnalysis& analysis,
                                 const core::AnalysisSettings& settings, const std::string& title,
                                 const std::vector<std::size_t>& slice = {},
                                 const std::vector<core::SweepPoint>* sweep = nullptr,
                                 core::AdvantagePart scatterPart = core::AdvantagePart::Whole);
// The sweep of the figure: rates 0, 0.05, ..., 1 (the target rate itself plays no part).
std::vector<core::SweepPoint> runFigureSweep(const core::RunAnalysis& analysis,
                                             const core::AnalysisSettings& settings,
                                             const std::vector<std::size_t>& slice = {});

struct FigureFormats {
    std::vector<viz::ImageFormat> images;
    bool csv = false;  // each figure's series as CSV beside it

    bool empty() const { return images.empty() && !csv; }
};

// "png,svg,pdf,csv" (any subset, any order, case-insensitive); throws UsageError naming a bad
// one.
FigureFormats parseFigureFormats(const std::string& list);

// fig_signal, fig_advantage, fig_decisions, fig_scatter and fig_sweep in each format into
// `dir`, plus fig_overview with the four main ones as 2 x 2 panels (the thin decision strip
// left out), written atomically; returns the paths. Throws
// core::OutputError when a file cannot be written.
std::vector<std::filesystem::path> writeFigures(const viz::RunFigureData& data,
                                                const FigureFormats& formats,
                                                const std::filesystem::path& dir, double dpi = 200);
// The same for a stored run's analysis.
std::vector<std::filesystem::path> writeRunFigures(const core::AnalysedRun& run,
                                                   const core::AnalysisSettings& settings,
                                                   const FigureFormats& formats,
                                                   const std::filesystem::path& dir,
                                                   double dpi = 200);

}  // namespace ponder::app
