// `ponder eval`: SKIP/UPDATE evaluation of files or folders, streamed unit by unit, with the
// basic policies summarised and the JSON contract of design.md §9 written on request.
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "app/cli_args.h"
#include "app/commands.h"
#include "core/errors.h"
#include "core/eval_json.h"
#include "core/evaluator.h"
#include "core/file_io.h"
#include "core/ttt_config.h"

namespace ponder::app {

namespace {

std::string utcNow() {
    const std::time_t now = std::time(nullptr);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    return text;
}

std::string formatted(const char* format, double value) {
    char text[64];
    std::snprintf(text, sizeof text, format, value);
    return text;
}

void printSummary(const std::vector<core::PolicyOutcome>& policies, std::size_t units) {
    std::cout << "\npolicy     loss     rate   cost   recovery   (" << units << " units)\n";
    for (const auto& policy : policies)
        std::cout << policy.name
                  << std::string(11 - policy.name.size(), ' ') << formatted("%.4f", policy.loss)
                  << "   " << formatted("%.2f", policy.rate) << "   "
                  << formatted("%.2f", policy.cost) << "   "
                  << (std::isfinite(policy.recovery) ? formatted("%.1f%%", 100 * policy.recovery)
                                                     : std::string("n/a"))
                  << "\n";
}

}  // namespace

int runEval(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, {{"--model", true}, {"--mode", true}, {"--chunk", true},
                                    {"--json", true}, {"--device", true}, {"--threads", true},
                                    {"--rate", true}, {"--ext", true, true}, {"--quiet", false},
                                    {"--force-checkpoint", false}});
    const auto modelDir = args.value("--model");
    if (!modelDir) throw UsageError("--model DIR is required");
    if (args.positionals().empty()) throw UsageError("expected at least one FILE or DIR");
    const auto modeName = args.valueOr("--mode", "file");
    if (modeName != "file" && modeName != "paper") throw UsageError("--mode must be file or paper");
    const auto chunk = args.integerOr("--chunk", 512);
    const double rate = args.numberOr("--rate", 0.5);
    if (!(rate >= 0.0 && rate <= 1.0)) throw UsageError("--rate must be in [0, 1]");
    const bool quiet = args.flag("--quiet");
    const auto jsonPath = args.value("--json");
    std::vector<std::string> extensions;
    for (auto ext : args.values("--ext")) extensions.push_back(ext[0] == '.' ? ext : "." + ext);
    const int threads = applyThreads(args);

    core::EvalOptions options;
    options.device = args.valueOr("--device", "cpu");
    options.forceCheckpoint = args.flag("--force-checkpoint");
    options.keepTokenLosses = false;  // the CLI reports unit-level results only
    core::Evaluator evaluator(*modelDir, options);

    const auto mode = modeName == "paper" ? core::EvalMode::Paper : core::EvalMode::File;
    std::vector<std::filesystem::path> inputs(args.positionals().begin(), args.positionals().end());
    const auto plan = core::buildEvalPlan(evaluator.tokenizer(), inputs,
                                          evaluator.planOptions(mode, chunk), extensions);
    if (!quiet) {
        for (const auto& skipped : plan.skipped) std::cerr << "skipped " << skipped << "\n";
        std::cerr << "eval: " << plan.files.size() << " files, " << plan.totalTokens << " tokens, "
                  << plan.units.size() << " units (" << modeName << " mode, chunk " << chunk
                  << ", " << plan.droppedTokens << " tokens in no unit), device "
                  << evaluator.device() << ", " << threads << " threads\n";
    }

    core::RunDescription run;
    run.startedAt = utcNow();
    std::vector<core::UnitRecord> units;
    core::EvalProgress last;
    double lastPrinted = -10.0;
    evaluator.run(
        plan, [&](const core::UnitRecord& record) { units.push_back(record); },
        [&](const core::EvalProgress& progress) {
            last = progress;
            const bool finished = progress.done == progress.total;
            if (quiet || (!finished && progress.elapsedSeconds - lastPrinted < 2.0)) return;
            lastPrinted = progress.elapsedSeconds;
            std::cerr << "  " << progress.done << "/" << progress.total << " units, "
                      << formatted("%.0f", progress.tokensPerSecond) << " tokens/s, ETA "
                      << formatted("%.0f", progress.etaSeconds) << " s\n";
        });

    const auto policies = core::basicPolicies(units, rate);
    printSummary(policies, units.size());
    if (jsonPath) {
        run.modelDir = *modelDir;
        run.mode = modeName;
        run.chunk = chunk;
        run.device = evaluator.device();
        run.threads = threads;
        run.inputs = args.positionals();
        run.files = plan.files.size();
        run.tokens = plan.totalTokens;
        run.droppedTokens = plan.droppedTokens;
        run.skippedFiles = plan.skipped;
        run.seconds = last.elapsedSeconds;
        run.tokensPerSecond = last.tokensPerSecond;
        run.rate = rate;
        run.backboneSha256 = evaluator.backboneSha256();
        run.tttConfigJson = core::tttConfigJson(evaluator.tttConfig());
        core::writeFileAtomic(*jsonPath, core::evalJson(run, units, policies));
        if (!quiet) std::cerr << "wrote " << *jsonPath << "\n";
    }
    return 0;
}

}  // namespace ponder::app
