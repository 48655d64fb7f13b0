// `ponder export` (design.md §8, algorithm.md §8): from stored runs, the published code's four
// files (detailed_results.csv, summary.csv, summary.json, correlation.json), our per-unit
// table with indices, and paper-layout tables (Tables 1, 2/7, 3, 5, 8, 9, 10/11) as CSV,
// Markdown and LaTeX. Every file is written atomically. Torch-free.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/gating/run_analysis.h"
#include "core/gating/settings_resolve.h"
#include "core/report/table_format.h"
#include "core/store/run_store.h"

namespace ponder::core {

struct AnalysedRun {
    const StoredRun* stored = nullptr;
    std::string name;  // the run's label, else "run <id>"
    RunAnalysis analysis;
};

AnalysedRun analyseStoredRun(const StoredRun& run, const AnalysisSettings& settings);

// The settings a stored run replays with: those stored with it (the calibration used, its τ0,
// each policy) with `overrides` on top, resolved by core (settings_resolve.h). With no
// overrides it gives back the numbers the run showed; `ponder export`, `sweep --db`, the
// studio's reopen and compare and its batch export all call it.
AnalysisSettings replaySettings(const StoredRun& run, const SettingsOverrides& overrides = {});
// The result points at `run`: a temporary would dangle (ASan found one in the tests).
AnalysedRun analyseStoredRun(StoredRun&& run, const AnalysisSettings& settings) = delete;

// Language of a source path from its extension ("Python", "JavaScript", "Go", "Java", ...;
// otherwise the extension itself).
std::string languageOfPath(const std::string& path);

// The published files for one run, in algorithm.md §8's column order.
std::string detailedResultsCsv(const AnalysedRun& run);
std::string summaryCsv(const AnalysedRun& run);
std::string summaryJson(const AnalysedRun& run, double rate);
std::string correlationJson(const AnalysedRun& run);
// Ours: one row per unit with batch/chunk/file indices, every signal and each policy's
// decision, plus Ours' threshold and rate EMA (so Table 5 needs no row order).
std::string unitsCsv(const AnalysedRun& run);
// One row per file (core::perFileRows, the studio's Files tab): units, the mean loss of SKIP,
// UPDATE, Ours and the Oracle, both rates and Ours' recovery on the file, with the decisions
// made on the whole run.
std::string perFileCsv(const AnalysedRun& run);

// Paper-layout tables over one or more runs (one row per run or per run and language).
TextTable table1(const std::vector<AnalysedRun>& runs);  // SKIP/Oracle/Ours/Recovery/rate/cost
TextTable table2(const std::vector<AnalysedRun>& runs,
                 const AnalysisSettings& settings);             // per language (also Table 7)
TextTable table3(const std::vector<AnalysedRun>& runs);         // signal vs advantage correlations
TextTable table5(const std::vector<AnalysedRun>& runs);         // decision agreement with Oracle
TextTable table8(const std::vector<AnalysedRun>& runs);         // Random vs Ours vs Oracle, McNemar
TextTable table9(const std::vector<AnalysedRun>& runs);         // with UPDATE_1
TextTable ablationTable(const std::vector<AnalysedRun>& runs);  // Tables 10/11 side by side
// Ours and every extra policy (gates) each beside Random (expected) and the Oracle at the
// rate it realized, with its oracle capture (L_random - L)/(L_random - L_oracle): a gate
// that ignores the target is compared at the budget it spent (gates.md §2).
TextTable sameRateTable(const std::vector<AnalysedRun>& runs);
// Per run: the mean advantage, its static and inner parts and the inner share, the Oracle and
// the adaptation oracle, Ours' capture of each gap at its rate (algorithm.md §4.1).
TextTable advantageSplitTable(const std::vector<AnalysedRun>& runs);

// Writes everything into `outDir` (created if missing): with one run the per-run files at
// the top, with several in run-<id>/ folders; tables at the top as .csv, .md and .tex.
// Returns the files written. Throws OutputError naming the path when it cannot write.
std::vector<std::filesystem::path> exportRuns(const std::vector<StoredRun>& runs,
                                              const AnalysisSettings& settings,
                                              const std::filesystem::path& outDir);

// Shortest decimal text that reads back as the same double (like Python's repr).
std::string shortestDouble(double value);

}  // namespace ponder::core
