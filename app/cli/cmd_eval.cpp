// `ponder eval`: SKIP/UPDATE evaluation of files or folders, streamed unit by unit into the
// run store (--db), then every requested policy replayed and summarised, and the JSON contract
// of design.md §9 written on request.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include "app/cli/commands.h"
#include "app/cli/eval_runner.h"
#include "app/cli/launcher.h"
#include "app/cli/policy_args.h"
#include "core/report/eval_json.h"
#include "core/store/run_recorder.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"

namespace ponder::app {

namespace {

std::string formatted(const char* format, double value) {
    if (!std::isfinite(value)) return "n/a";
    char text[64];
    std::snprintf(text, sizeof text, format, value);
    return text;
}

void printRow(const std::string& label, const core::PolicySummary& s, const std::string& note) {
    std::string name = label;
    name.resize(std::max<std::size_t>(name.size(), 16), ' ');
    std::cout << name << "  " << formatted("%.4f", s.loss) << "   " << formatted("%.2f", s.rate)
              << "   " << formatted("%.2f", s.cost) << "   "
              << formatted("%6.1f%%", 100 * s.recovery) << "   "
              << formatted("%6.1f%%", 100 * s.agreement) << note << "\n";
}

// Random's row is its expectation at ρ; the seeded draw the JSON and the store keep is shown
// beside it, since on a few units one draw can land far from ρ.
void printSummary(const core::RunAnalysis& analysis) {
    std::cout << "\nmethod            loss     rate   cost   recovery  agreement   ("
              << analysis.table.size() << " units)\n";
    for (const auto& policy : analysis.policies) {
        if (policy.method == "Random Skip") {
            printRow(policy.method, core::expectedRandomSummary(analysis),
                     "   expected; seeded draw " + formatted("%.4f", policy.summary.loss) +
                         " at rate " + formatted("%.2f", policy.summary.rate));
            continue;
        }
        printRow(core::displayName(policy), policy.summary, "");
    }
}

}  // namespace

int evaluateAndReport(const ParsedArgs& args, const core::AnalysisSettings& settings,
                      core::RankSession* session);

int runEval(const Arguments& rawArgs) {
    auto specs = evaluationOptionSpecs();
    for (const auto& spec : policyOptionSpecs())
        specs.push_back(spec);
    specs.push_back({"--json", true});
    specs.push_back({"--db", true});
    specs.push_back({"--label", true});
    specs.push_back({"--token-losses", false});
    specs.push_back({"--fast", false});
    for (const auto& spec : distributedOptionSpecs())
        specs.push_back(spec);
    const ParsedArgs args(rawArgs, specs);
    const auto modelDir = args.value("--model");
    if (!modelDir) throw UsageError("--model DIR is required");
    // Settings are checked before any model work, so a typo costs nothing.
    const auto settings = analysisSettingsFrom(args, {}, *modelDir);
    checkGatesFit(settings, *modelDir);
    const auto start = distributedStart(args);
    if (start.role != DistributedStart::Role::Alone && args.flag("--fast"))
        throw UsageError("--fast decides each unit from the units before it, so it runs in one "
                         "process: drop --fast or --nproc");
    if (start.role == DistributedStart::Role::Launcher) return launchRanks("eval", rawArgs, start);
    std::unique_ptr<core::RankSession> session;
    if (start.role == DistributedStart::Role::Rank) {
        session = std::make_unique<core::RankSession>(start.world);
        if (!session->isRoot()) {
            // The other ranks evaluate and send; rank 0 stores, replays and reports.
            EvaluationHooks hooks;
            hooks.keepUnits = false;
            hooks.keepTokenLosses = args.flag("--token-losses");
            hooks.session = session.get();
            return runEvaluation(args, hooks).cancelled ? 1 : 0;
        }
    }
    try {
        return evaluateAndReport(args, settings, session.get());
    } catch (...) {
        if (session && !session->failure())
            session->abort("rank 0 failed: " +
                           core::describeError(std::current_exception()).what);
        throw;
    }
}

int evaluateAndReport(const ParsedArgs& args, const core::AnalysisSettings& settings,
                      core::RankSession* session) {
    const auto jsonPath = args.value("--json");
    const bool quiet = args.flag("--quiet");

    // Opens the database before any model work (a locked or damaged one costs nothing); a run
    // whose evaluation throws is marked failed by the recorder, never left `running`.
    core::RecorderOptions recording;
    if (const auto db = args.value("--db")) recording.database = *db;
    recording.label = args.valueOr("--label", "");
    core::RunRecorder recorder(settings, recording);
    EvaluationHooks hooks;
    hooks.keepTokenLosses = args.flag("--token-losses");
    hooks.onStart = [&](const core::RunDescription& run, const core::EvalPlan& plan) {
        auto description = run;
        description.rate = settings.ours.rate;
        recorder.begin(description, plan);
    };
    hooks.onUnit = [&](const core::UnitRecord& unit) { recorder.add(unit); };
    hooks.keepUnits = false;  // the recorder keeps them
    hooks.session = session;
    if (args.flag("--fast")) {
        hooks.fastGate = settings.ours;
        // A learned gate replayed beside Ours reads the SKIP path's gate features.
        for (const auto& extra : settings.extraPolicies)
            hooks.fastStatistics = hooks.fastStatistics || core::isGatePolicy(extra);
    }
    auto result = runEvaluation(args, hooks);
    auto& run = result.run;
    run.rate = settings.ours.rate;

    const auto analysis = recorder.finish(result.cancelled, run.seconds, run.tokensPerSecond);
    const bool stored = recorder.runId().has_value();
    if (stored && !quiet)
        std::cerr << "stored as run " << *recorder.runId() << " in " << recording.database.string()
                  << "\n";
    const auto& units = recorder.units();
    if (!units.empty()) printSummary(analysis);
    if (jsonPath) {
        core::writeFileAtomic(*jsonPath, core::evalJson(run, units, analysis));
        if (!quiet) std::cerr << "wrote " << *jsonPath << "\n";
    }
    if (result.cancelled) {
        std::cerr << "error: cancelled after " << units.size() << " units"
                  << (stored ? " (they are stored)" : "") << "\nhint: run it again to finish\n";
        return 1;
    }
    return 0;
}

}  // namespace ponder::app
