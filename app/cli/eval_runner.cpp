// Runs an evaluation for a CLI command: options, plan, progress, Ctrl-C, batching.
#include "app/cli/eval_runner.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "app/cli/launcher.h"
#include "core/eval/online_gate.h"
#include "core/model/ttt_config.h"

namespace ponder::app {

namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void onInterrupt(int signal) {
    g_interrupted.store(true);
    std::signal(signal, SIG_DFL);  // a second one ends the process
}

std::string formatted(const char* format, double value) {
    char text[64];
    std::snprintf(text, sizeof text, format, value);
    return text;
}

}  // namespace

InterruptGuard::InterruptGuard() {
    g_interrupted.store(false);
    m_previousInt = std::signal(SIGINT, onInterrupt);
    m_previousTerm = std::signal(SIGTERM, onInterrupt);
}

InterruptGuard::~InterruptGuard() {
    std::signal(SIGINT, m_previousInt);
    std::signal(SIGTERM, m_previousTerm);
}

const std::atomic<bool>* InterruptGuard::flag() {
    return &g_interrupted;
}

void ProgressLine::show(const core::EvalProgress& progress) {
    const bool done = progress.done == progress.total;
    if (m_quiet || (!done && progress.elapsedSeconds - m_lastPrinted < 2.0)) return;
    m_lastPrinted = progress.elapsedSeconds;
    std::cerr << "  " << progress.done << "/" << progress.total << " units, "
              << formatted("%.0f", progress.tokensPerSecond) << " tokens/s, ETA "
              << formatted("%.0f", progress.etaSeconds) << " s\n";
}

std::vector<OptionSpec> evaluationOptionSpecs() {
    return {{"--model", true},    {"--mode", true},
            {"--chunk", true},    {"--device", true},
            {"--threads", true},  {"--ext", true, true},
            {"--quiet", false},   {"--force-checkpoint", false},
            {"--shuffle", false}, {"--causal-k", true},
            {"--max-units", true}, {"--dtype", true}};
}

core::EvalOptions modelLoadOptions(const ParsedArgs& args, const std::string& device) {
    core::EvalOptions options;
    options.device = device;
    options.forceCheckpoint = args.flag("--force-checkpoint");
    const auto dtype = args.valueOr("--dtype", "f32");
    if (dtype != "f32" && dtype != "bf16") throw UsageError("--dtype must be f32 or bf16");
    options.bf16 = dtype == "bf16";
    return options;
}

PreparedEvaluation prepareEvaluation(const ParsedArgs& args, bool keepTokenLosses,
                                     const core::RankSession* session) {
    const auto modelDir = args.value("--model");
    if (!modelDir) throw UsageError("--model DIR is required");
    if (args.positionals().empty()) throw UsageError("expected at least one FILE or DIR");
    const auto modeName = args.valueOr("--mode", "file");
    if (modeName != "file" && modeName != "paper") throw UsageError("--mode must be file or paper");
    const auto chunk = args.integerOr("--chunk", 512);
    if (chunk <= 0) throw UsageError("--chunk must be a positive number of tokens");
    std::vector<std::string> extensions;
    for (auto ext : args.values("--ext"))
        extensions.push_back(ext[0] == '.' ? ext : "." + ext);

    PreparedEvaluation prepared;
    prepared.modelDir = *modelDir;
    prepared.modeName = modeName;
    prepared.chunk = chunk;
    prepared.threads = applyThreads(args);
    core::EvalOptions& options = prepared.options;
    options = modelLoadOptions(args, rankDevice(args.valueOr("--device", "cpu"), session));
    options.keepTokenLosses = keepTokenLosses;
    options.shuffle = args.flag("--shuffle");
    if (const auto causalK = args.value("--causal-k")) {
        if (*causalK != "0" && *causalK != "-1") throw UsageError("--causal-k must be 0 or -1");
        options.causalK = std::stoll(*causalK);
    }
    prepared.evaluator = std::make_unique<core::Evaluator>(*modelDir, options);
    auto& evaluator = *prepared.evaluator;

    const auto mode = modeName == "paper" ? core::EvalMode::Paper : core::EvalMode::File;
    std::vector<std::filesystem::path> inputs(args.positionals().begin(), args.positionals().end());
    auto& plan = prepared.plan;
    plan = core::buildEvalPlan(evaluator.tokenizer(), inputs, evaluator.planOptions(mode, chunk),
                               extensions);
    // The published evaluation takes the first N batches (algorithm.md §7); --max-units
    // keeps the first N units in data order.
    if (args.value("--max-units")) {
        const auto limit = args.integerOr("--max-units", 0);
        if (limit < 1) throw UsageError("--max-units must be positive");
        if (std::size_t(limit) < plan.units.size()) {
            plan.units.resize(std::size_t(limit));
            plan.totalTokens = 0;  // the tokens actually evaluated
            for (const auto& unit : plan.units)
                plan.totalTokens += unit.tokens * unit.sequences;
        }
    }
    if (!args.flag("--quiet") && (!session || session->isRoot())) {
        for (const auto& line : core::skippedReport(plan))
            std::cerr << line << "\n";
        std::cerr << "eval: " << plan.files.size() << " files, " << plan.totalTokens << " tokens, "
                  << plan.units.size() << " units (" << modeName << " mode, chunk " << chunk << ", "
                  << plan.droppedTokens << " tokens in no unit), device " << evaluator.device()
                  << ", " << prepared.threads << " threads"
                  << (session ? " per rank, " + std::to_string(session->world().size) + " ranks"
                              : std::string())
                  << "\n";
    }
    return prepared;
}

EvaluationResult runEvaluation(const ParsedArgs& args, const EvaluationHooks& hooks) {
    auto prepared = prepareEvaluation(args, hooks.keepTokenLosses, hooks.session);
    auto& evaluator = *prepared.evaluator;
    const auto& plan = prepared.plan;
    const bool quiet = args.flag("--quiet");

    EvaluationResult result;
    auto& run = result.run;
    run = core::describeRun(evaluator, plan, prepared.modelDir);
    run.threads = prepared.threads;
    run.inputs = args.positionals();
    run.shuffle = prepared.options.shuffle;
    // The fast path's gate is built (and refused) before the run is stored.
    std::optional<core::Evaluator::Gate> fastGate;
    if (hooks.fastGate) {
        fastGate = core::onlineGate(*hooks.fastGate, plan, evaluator.tttSha256());
        run.fastGate = hooks.fastGate->name;
    }
    if (hooks.session) {
        runDistributedEvaluation(prepared, hooks, quiet, result);
        return result;
    }
    if (hooks.onStart) hooks.onStart(run, plan);

    InterruptGuard interruptGuard;
    core::EvalProgress last;
    ProgressLine progressLine(quiet);
    const auto onUnit = [&](const core::UnitRecord& record) {
        ++result.evaluated;
        if (hooks.keepUnits) result.units.push_back(record);
        if (hooks.onUnit) hooks.onUnit(record);
    };
    const auto onProgress = [&](const core::EvalProgress& progress) {
        last = progress;
        progressLine.show(progress);
    };
    const bool statistics =
        hooks.fastGate && (hooks.fastStatistics || core::needsSkipStatistics(*hooks.fastGate));
    const bool finished =
        fastGate ? evaluator.runGated(plan, *fastGate, statistics, onUnit, onProgress,
                                      InterruptGuard::flag())
                 : evaluator.run(plan, onUnit, onProgress, InterruptGuard::flag());
    result.cancelled = !finished;
    run.cancelled = result.cancelled;
    run.seconds = last.elapsedSeconds;
    run.tokensPerSecond = last.tokensPerSecond;
    if (result.cancelled && !quiet)
        std::cerr << "cancelled after " << result.evaluated << " of " << plan.units.size()
                  << " units\n";
    return result;
}

}  // namespace ponder::app
