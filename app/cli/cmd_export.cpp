// `ponder export`: result files and paper tables from stored runs (design.md §8).
#include <iostream>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "app/cli/policy_args.h"
#include "app/common/run_figure_data.h"
#include "core/report/exports.h"
#include "core/store/run_store.h"
#include "viz/figure_export.h"

namespace ponder::app {

Command exportCommand() {
    const Options own = {
        databaseOption("where the runs are"),
        repeated("--run", "ID|latest", "a run to export; several give one table row each",
                 "latest"),
        option("--out", "DIR", "the folder the files go to"),
        option("--figures", "png,svg,pdf,csv", "also write the run's figures in these formats"),
        option("--dpi", "N", "PNG pixels per inch", shown(viz::ExportOptions{}.dpi))};
    return {"export",
            "result files and paper tables (CSV, Markdown, LaTeX) from stored runs",
            {{"--db FILE --out DIR", own + policyOptionSpecs(),
              "Writes the published detailed_results.csv, summary.csv, summary.json and\n"
              "correlation.json, units.csv (per unit, with indices and every decision), and\n"
              "table1_main, table2_languages, table3_correlation, table5_agreement,\n"
              "table8_random, table9_update1 and table10_11_ablations as .csv, .md and .tex.\n"
              "Policy options default to those stored with the (first) run. Several --run give\n"
              "one table row per run and per-run files in run-ID/ folders. --figures also writes\n"
              "fig_signal, fig_advantage, fig_decisions, fig_scatter, fig_sweep and a 2x2\n"
              "fig_overview in each format (csv: each figure's series)."}},
            runExport};
}

int runExport(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, exportCommand().forms.front().options);
    const auto db = args.value("--db");
    const auto out = args.value("--out");
    if (!db) throw UsageError("--db FILE is required");
    if (!out) throw UsageError("--out DIR is required");
    const auto figures = args.value("--figures");
    const auto formats = figures ? parseFigureFormats(*figures) : FigureFormats{};
    const double dpi = args.numberOr("--dpi", viz::ExportOptions{}.dpi);
    if (!(dpi >= 10 && dpi <= 1200)) throw UsageError("--dpi must be between 10 and 1200");
    auto runIds = args.values("--run");
    if (runIds.empty()) runIds.push_back("latest");

    core::StoreOptions options;
    options.create = false;
    const core::RunStore store(*db, options);
    std::vector<core::StoredRun> runs;
    for (const auto& id : runIds)
        runs.push_back(store.loadRun(store.resolveRunId(id)));
    // Each run's stored settings, with the flags given here applied on top; one settings
    // object for all runs so their tables compare like with like (the first run's base).
    const auto settings =
        analysisSettingsFrom(args, core::analysisSettingsFromJson(runs.front().settingsJson),
                             runs.front().description.modelDir);
    auto written = core::exportRuns(runs, settings, *out);
    // Figures beside each run's files (run-ID/ folders when there are several runs).
    for (const auto& run : runs) {
        if (formats.empty()) break;
        const auto dir = runs.size() == 1 ? std::filesystem::path(*out)
                                          : std::filesystem::path(*out) /
                                                ("run-" + std::to_string(run.summary.id));
        const auto paths =
            writeRunFigures(core::analyseStoredRun(run, settings), settings, formats, dir, dpi);
        written.insert(written.end(), paths.begin(), paths.end());
    }
    for (const auto& run : runs)
        if (run.summary.status != core::RunStatus::Complete)
            std::cerr << "note: run " << run.summary.id << " is "
                      << core::runStatusName(run.summary.status) << " (" << run.units.size()
                      << " units stored)\n";
    std::cout << "wrote " << written.size() << " files to " << *out << "\n";
    return 0;
}

}  // namespace ponder::app
