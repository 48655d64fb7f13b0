// `ponder export`: result files and paper tables from stored runs (design.md §8).
#include <iostream>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "app/cli/policy_args.h"
#include "app/common/run_figure_data.h"
#include "core/report/exports.h"
#include "core/store/run_store.h"

namespace ponder::app {

int runExport(const Arguments& rawArgs) {
    auto specs = policyOptionSpecs();
    specs.push_back({"--db", true});
    specs.push_back({"--run", true, true});
    specs.push_back({"--out", true});
    specs.push_back({"--figures", true});
    specs.push_back({"--dpi", true});
    const ParsedArgs args(rawArgs, specs);
    const auto db = args.value("--db");
    const auto out = args.value("--out");
    if (!db) throw UsageError("--db FILE is required");
    if (!out) throw UsageError("--out DIR is required");
    const auto figures = args.value("--figures");
    const auto formats = figures ? parseFigureFormats(*figures) : FigureFormats{};
    const double dpi = args.numberOr("--dpi", 200);
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
