// `ponder eval`: SKIP/UPDATE evaluation of files or folders, streamed unit by unit into the
// run store (--db), then every requested policy replayed and summarised, and the JSON contract
// of design.md §9 written on request.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>

#include "app/cli/commands.h"
#include "app/cli/eval_runner.h"
#include "app/cli/policy_args.h"
#include "core/util/errors.h"
#include "core/report/eval_json.h"
#include "core/util/file_io.h"
#include "core/store/run_store.h"

namespace ponder::app {

namespace {

std::string formatted(const char* format, double value) {
    if (!std::isfinite(value)) return "n/a";
    char text[64];
    std::snprintf(text, sizeof text, format, value);
    return text;
}

void printSummary(const core::RunAnalysis& analysis) {
    std::cout << "\nmethod            loss     rate   cost   recovery  agreement   ("
              << analysis.table.size() << " units)\n";
    for (const auto& policy : analysis.policies) {
        const auto& s = policy.summary;
        std::string name = policy.method;
        if (policy.method == "Ours") name += " (" + policy.spec.name + ")";
        name.resize(std::max<std::size_t>(name.size(), 16), ' ');
        std::cout << name << "  " << formatted("%.4f", s.loss) << "   " << formatted("%.2f", s.rate)
                  << "   " << formatted("%.2f", s.cost) << "   "
                  << formatted("%6.1f%%", 100 * s.recovery) << "   "
                  << formatted("%6.1f%%", 100 * s.agreement) << "\n";
    }
}

}  // namespace

int runEval(const Arguments& rawArgs) {
    auto specs = evaluationOptionSpecs();
    for (const auto& spec : policyOptionSpecs())
        specs.push_back(spec);
    specs.push_back({"--json", true});
    specs.push_back({"--db", true});
    specs.push_back({"--label", true});
    specs.push_back({"--token-losses", false});
    const ParsedArgs args(rawArgs, specs);
    const auto modelDir = args.value("--model");
    if (!modelDir) throw UsageError("--model DIR is required");
    // Settings are checked before any model work, so a typo costs nothing.
    const auto settings = analysisSettingsFrom(args, {}, *modelDir);
    const auto jsonPath = args.value("--json");
    const bool quiet = args.flag("--quiet");

    std::optional<core::RunStore> store;
    std::int64_t runId = -1;
    if (const auto db = args.value("--db")) store.emplace(*db);
    EvaluationHooks hooks;
    hooks.keepTokenLosses = args.flag("--token-losses");
    if (store) {
        hooks.onStart = [&](const core::RunDescription& run, const core::EvalPlan& plan) {
            auto description = run;
            description.rate = settings.ours.rate;
            runId = store->beginRun(description, core::analysisSettingsJson(settings),
                                    settings.ours.seed, core::storedInputFiles(plan));
            if (const auto label = args.value("--label")) store->setLabel(runId, *label);
        };
        hooks.onBatch = [&](const std::vector<core::UnitRecord>& units) {
            store->appendUnits(runId, units);
        };
    }
    auto result = runEvaluation(args, hooks);
    auto& run = result.run;
    run.rate = settings.ours.rate;

    const auto analysis = core::analyseUnits(core::unitTableFrom(result.units), settings);
    if (store) {
        store->savePolicies(runId, core::storedPolicies(analysis, settings));
        store->finishRun(runId,
                         result.cancelled ? core::RunStatus::Cancelled : core::RunStatus::Complete,
                         run.seconds, run.tokensPerSecond);
        if (!quiet) std::cerr << "stored as run " << runId << " in " << *args.value("--db") << "\n";
    }
    if (!result.units.empty()) printSummary(analysis);
    if (jsonPath) {
        core::writeFileAtomic(*jsonPath, core::evalJson(run, result.units, analysis));
        if (!quiet) std::cerr << "wrote " << *jsonPath << "\n";
    }
    if (result.cancelled) {
        std::cerr << "error: cancelled after " << result.units.size() << " units"
                  << (store ? " (they are stored)" : "") << "\nhint: run it again to finish\n";
        return 1;
    }
    return 0;
}

}  // namespace ponder::app
