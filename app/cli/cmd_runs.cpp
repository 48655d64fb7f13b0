// `ponder runs`: the runs stored in a database, one per line, id first (design.md §9).
#include <cstdio>
#include <iostream>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "core/store/run_store.h"

namespace ponder::app {

Command runsCommand() {
    return {"runs",
            "list the runs stored in a database",
            {{"--db FILE",
              {databaseOption("where the runs are")},
              "One run per line: id, start time, status, mode, units, files, tokens, seconds,\n"
              "model directory and label."}},
            runRuns};
}

int runRuns(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, runsCommand().forms.front().options);
    const auto db = args.value("--db");
    if (!db) throw UsageError("--db FILE is required");
    core::StoreOptions options;
    options.create = false;
    const core::RunStore store(*db, options);
    const auto runs = store.listRuns();
    if (runs.empty()) std::cerr << "no runs in " << *db << "\n";
    for (const auto& run : runs) {
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%.1f", run.seconds);
        std::cout << run.id << "\t" << run.startedAt << "\t" << core::runStatusName(run.status)
                  << "\t" << run.mode << "\t" << run.units << " units\t" << run.files << " files\t"
                  << run.tokens << " tokens\t" << seconds << " s\t" << run.modelDir
                  << (run.label.empty() ? "" : "\t" + run.label) << "\n";
    }
    return 0;
}

}  // namespace ponder::app
