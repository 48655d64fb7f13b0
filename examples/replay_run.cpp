// Reopens a stored run and replays its policies at another target rate, without the model:
// the run keeps the settings it was shown with (the calibration used included), so a replay
// at another rate starts where `ponder export --rate` starts. A client of include/ponder/ponder.h.
//
//   example_replay_run runs.sqlite RUN_ID RATE
#include <cstdio>
#include <iostream>
#include <string>

#include <ponder/ponder.h>

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: example_replay_run runs.sqlite RUN_ID RATE\n";
        return 2;
    }
    namespace core = ponder::core;
    try {
        core::StoreOptions options;
        options.create = false;
        const core::RunStore store(argv[1], options);
        const auto run = store.loadRun(store.resolveRunId(argv[2]));
        core::SettingsOverrides atRate;
        atRate.rate = std::stod(argv[3]);
        const auto settings = core::replaySettings(run, atRate);
        const auto analysed = core::analyseStoredRun(run, settings);
        std::printf("run %lld at rate %.2f (%s calibration, %zu units)\n",
                    static_cast<long long>(run.summary.id), settings.ours.rate,
                    settings.ours.calibration.c_str(), run.units.size());
        for (const auto& row : core::summaryRows(analysed.analysis))
            std::printf("%-24s %8.4f %6.2f %8.1f%%\n", row.label.c_str(), row.summary.loss,
                        row.summary.rate, 100 * row.summary.recovery);
        return 0;
    } catch (const core::PonderError& error) {
        std::cerr << "error: " << error.what() << "\nhint: " << error.hint() << "\n";
        return 1;
    }
}
