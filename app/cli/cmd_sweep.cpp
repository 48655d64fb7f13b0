// `ponder sweep`: loss against target update rate for Ours, Random and Oracle, replayed over
// a stored run's units (--db) or over a fresh evaluation (--model FILE...).
#include <iostream>
#include <sstream>

#include "app/cli/commands.h"
#include "app/cli/eval_runner.h"
#include "app/cli/policy_args.h"
#include "core/model/ttt_config.h"
#include "core/report/table_format.h"
#include "core/store/run_store.h"
#include "core/util/file_io.h"

namespace ponder::app {

namespace {

const char* const kDefaultRates = "0.1:0.9:0.1";

// "0.1:0.9:0.1" -> 0.1, 0.2, ..., 0.9 (end inclusive, to within rounding); "0.3,0.5" -> both.
std::vector<double> parseRates(const std::string& text) {
    std::vector<double> rates;
    try {
        if (text.find(':') != std::string::npos) {
            std::vector<double> parts;
            std::stringstream stream(text);
            for (std::string part; std::getline(stream, part, ':');)
                parts.push_back(std::stod(part));
            if (parts.size() != 3 || parts[2] <= 0 || parts[1] < parts[0])
                throw std::invalid_argument("");
            for (int i = 0; parts[0] + i * parts[2] <= parts[1] + 1e-9; ++i)
                rates.push_back(parts[0] + i * parts[2]);
        } else {
            for (const auto& part : commaList(text, true))
                rates.push_back(std::stod(part));
        }
    } catch (const std::exception&) {
        throw UsageError("--rates must be START:STOP:STEP (e.g. 0.1:0.9:0.1) or a list 0.3,0.5");
    }
    for (double rate : rates)
        if (!(rate >= 0 && rate <= 1)) throw UsageError("--rates must lie in [0, 1]");
    if (rates.empty()) throw UsageError("--rates gave no rate");
    return rates;
}

}  // namespace

Command sweepCommand() {
    const Options own = {
        option("--rates", "FROM:TO:STEP|R,R,...", "the target rates", kDefaultRates),
        option("--out", "sweep.csv", "write the CSV here", "stdout")};
    const Options stored = {databaseOption("replay a stored run"),
                            option("--run", "ID|latest", "the stored run", "latest")};
    const char* columns =
        "CSV columns: target_rate, ours_loss, ours_rate, ours_recovery, random_loss (seeded),\n"
        "random_expected_loss, oracle_loss.";
    return {"sweep",
            "loss against target update rate for Ours, Random and Oracle",
            {{"--db FILE", stored + own + policyOptionSpecs(),
              std::string("Replays the policies at each rate over a stored run's units (no model\n"
                          "work).\n") +
                  columns},
             {"--model DIR FILE|DIR...", own + evaluationOptionSpecs() + policyOptionSpecs(),
              std::string("Evaluates the files once, then replays the policies at each rate.\n") +
                  columns}},
            runSweep};
}

int runSweep(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, allOptions(sweepCommand()));
    const auto rates = parseRates(args.valueOr("--rates", kDefaultRates));

    core::UnitTable table;
    core::AnalysisSettings settings;
    if (const auto db = args.value("--db")) {
        if (!args.positionals().empty()) throw UsageError("give --db or FILEs, not both");
        core::StoreOptions options;
        options.create = false;
        const core::RunStore store(*db, options);
        const auto run = store.loadRun(store.resolveRunId(args.valueOr("--run", "latest")));
        settings = analysisSettingsFrom(args, core::analysisSettingsFromJson(run.settingsJson),
                                        run.description.modelDir);
        table = core::unitTableFrom(run.units, run.description.tttSha256,
                                    core::updateStepsOf(run.description.tttConfigJson));
    } else {
        auto request = evalRequestFrom(args);
        request.gating = newRunGating(args, request.modelDir.string());
        const auto result = runEvaluation(args, std::move(request));
        settings = result.settings;  // as the session resolved them
        table = result.analysis.table;
    }

    core::TextTable out;
    out.columns = {"target_rate",   "ours_loss",   "ours_rate",
                   "ours_recovery", "random_loss", "random_expected_loss",
                   "oracle_loss"};
    for (const auto& point : core::sweepRates(table, settings, rates))
        out.addRow({core::fixedCell(point.targetRate, 4), core::fixedCell(point.oursLoss, 6),
                    core::fixedCell(point.oursRate, 4), core::fixedCell(point.oursRecovery, 4),
                    core::fixedCell(point.randomLoss, 6),
                    core::fixedCell(point.randomExpectedLoss, 6),
                    core::fixedCell(point.oracleLoss, 6)});
    const auto csv = core::toCsv(out);
    if (const auto path = args.value("--out")) {
        core::writeFileAtomic(*path, csv);
        std::cerr << "wrote " << *path << "\n";
    } else {
        std::cout << csv;
    }
    return 0;
}

}  // namespace ponder::app
