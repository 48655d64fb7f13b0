// Runs an evaluation for a CLI command: options, plan, progress, Ctrl-C, batching.
#include "app/cli/eval_runner.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "app/cli/launcher.h"
#include "core/dist/rank_session.h"

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

Options evaluationOptionSpecs() {
    const core::EvalRequest defaults;
    return {
        option("--model", "DIR", "the model folder (GPT-2 or Gemma 3 with its TTT layer)"),
        option("--mode", "file|paper",
               "file: each file in chunks; paper: files joined, 2-chunk windows", "file"),
        option("--chunk", "N", "tokens per chunk", shown(defaults.chunk)),
        extensionOption(),
        option("--max-units", "N", "evaluate only the first N units (data order)", "all"),
        flag("--shuffle", "sanity ablation: tokens shuffled within each chunk"),
        option("--causal-k", "0|-1", "diagonal ablation -1: the TTT mask drops its diagonal", "0"),
        option("--dtype", "f32|bf16", "the backbone's dtype (TTT layer and losses: f32)", "f32"),
        deviceOption(defaults.device),
        threadsOption(),
        forceCheckpointOption(),
        quietOption()};
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

core::EvalRequest evalRequestFrom(const ParsedArgs& args) {
    const auto modelDir = args.value("--model");
    if (!modelDir) throw UsageError("--model DIR is required");
    if (args.positionals().empty()) throw UsageError("expected at least one FILE or DIR");
    const auto modeName = args.valueOr("--mode", "file");
    if (modeName != "file" && modeName != "paper") throw UsageError("--mode must be file or paper");
    core::EvalRequest request;
    request.modelDir = *modelDir;
    request.inputs = args.positionals();
    request.mode = modeName == "paper" ? core::EvalMode::Paper : core::EvalMode::File;
    request.chunk = args.integerOr("--chunk", request.chunk);
    if (request.chunk <= 0) throw UsageError("--chunk must be a positive number of tokens");
    request.extensions = extensionsFrom(args);
    if (args.value("--max-units")) {
        const auto limit = args.integerOr("--max-units", 0);
        if (limit < 1) throw UsageError("--max-units must be positive");
        request.maxUnits = std::size_t(limit);
    }
    request.shuffle = args.flag("--shuffle");
    if (const auto causalK = args.value("--causal-k")) {
        if (*causalK != "0" && *causalK != "-1") throw UsageError("--causal-k must be 0 or -1");
        request.causalK = std::stoll(*causalK);
    }
    const long long threads = args.integerOr("--threads", 0);
    if (threads < 0) throw UsageError("--threads must be 0 (all cores) or positive");
    request.threads = int(threads);
    const auto load = modelLoadOptions(args, args.valueOr("--device", request.device));
    request.device = load.device;
    request.bf16 = load.bf16;
    request.forceCheckpoint = load.forceCheckpoint;
    return request;
}

PreparedEvaluation prepareEvaluation(const ParsedArgs& args, bool keepTokenLosses) {
    const auto request = evalRequestFrom(args);
    PreparedEvaluation prepared;
    prepared.modelDir = request.modelDir.string();
    prepared.modeName = args.valueOr("--mode", "file");
    prepared.chunk = request.chunk;
    prepared.threads = applyThreads(args);
    auto withLosses = request;
    withLosses.keepTokenLosses = keepTokenLosses;
    prepared.options = core::evalOptionsOf(withLosses);
    prepared.evaluator = std::make_unique<core::Evaluator>(request.modelDir, prepared.options);
    prepared.plan = core::planRequest(request, *prepared.evaluator);
    if (!args.flag("--quiet")) {
        for (const auto& line : core::skippedReport(prepared.plan))
            std::cerr << line << "\n";
        std::cerr << "eval: "
                  << core::planSummary(prepared.plan, prepared.modeName, prepared.chunk,
                                       prepared.evaluator->device(), prepared.threads)
                  << "\n";
    }
    return prepared;
}

core::EvalOutcome runEvaluation(const ParsedArgs& args, core::EvalRequest request,
                                const core::EvalCallbacks& extra) {
    const bool quiet = args.flag("--quiet");
    // Rank r's "cuda" is cuda:LOCAL_RANK; only rank 0 prints.
    request.device = rankDevice(request.device, request.ranks);
    const bool prints = !quiet && (!request.ranks || request.ranks->isRoot());
    core::EvalSession session(
        std::move(request));  // settings and store checked: nothing loaded yet
    InterruptGuard interruptGuard;
    ProgressLine progressLine(!prints);
    core::EvalCallbacks callbacks = extra;
    callbacks.cancel = InterruptGuard::flag();
    callbacks.onProgress = [&](const core::EvalProgress& progress) {
        progressLine.show(progress);
        if (extra.onProgress) extra.onProgress(progress);
    };
    callbacks.onLog = [&](int level, const std::string& text, const std::string& hint) {
        if (!prints) return;  // skipped files and the plan's line, as before any unit
        std::cerr << text << "\n";
        if (!hint.empty() && level > 0) std::cerr << "hint: " << hint << "\n";
    };
    auto outcome = session.run(callbacks);
    if (outcome.cancelled && prints)
        std::cerr << "cancelled after " << outcome.evaluated << " units\n";
    return outcome;
}

}  // namespace ponder::app
