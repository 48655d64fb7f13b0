// One evaluation run for every front end: settings, store, model, plan, units, replay.
#include "core/eval/eval_session.h"

#include <algorithm>
#include <cstdio>
#include <system_error>

#include "core/dist/rank_session.h"
#include "core/eval/eval_session_impl.h"
#include "core/eval/online_gate.h"
#include "core/model/model_dir.h"
#include "core/runtime/runtime.h"
#include "core/store/run_recorder.h"
#include "core/util/errors.h"
#include "core/util/sha256.h"

namespace ponder::core {

namespace fs = std::filesystem;

namespace {

std::string modeName(EvalMode mode) {
    return mode == EvalMode::Paper ? "paper" : "file";
}

// Every file of the model folder (tokenizer.model, shards, calibration.json included) with its
// size and time: a retrained checkpoint or a new tokenizer is loaded again, an unchanged
// model is not.
std::string modelKey(const fs::path& modelDir, const EvalOptions& options) {
    std::string key =
        fs::absolute(modelDir).lexically_normal().string() + "|" + options.device + "|" +
        (options.bf16 ? "bf16" : "f32") + "|" + (options.forceCheckpoint ? "force" : "") + "|" +
        std::to_string(options.causalK.value_or(99)) + "|" + (options.shuffle ? "shuffle" : "") +
        (options.keepTokenLosses ? "|tokens" : "") + (options.staticPath ? "|static" : "");
    std::error_code error;
    std::vector<std::string> entries;
    for (fs::directory_iterator it(modelDir, error), end; !error && it != end;
         it.increment(error)) {
        std::error_code statError;
        const auto size = it->is_regular_file(statError) ? it->file_size(statError) : 0;
        const auto time = it->last_write_time(statError).time_since_epoch().count();
        entries.push_back(it->path().filename().string() + ":" + std::to_string(size) + ":" +
                          std::to_string(time));
    }
    std::sort(entries.begin(), entries.end());
    for (const auto& entry : entries)
        key += "|" + entry;
    return key;
}

}  // namespace

Evaluator& EvaluatorCache::get(const fs::path& modelDir, const EvalOptions& options) {
    const auto key = modelKey(modelDir, options);
    if (!m_evaluator || key != m_key) {
        m_evaluator.reset();  // the old model's memory first
        m_evaluator = std::make_unique<Evaluator>(modelDir, options);
        m_key = key;
        ++m_loads;
    }
    return *m_evaluator;
}

EvalOptions evalOptionsOf(const EvalRequest& request) {
    EvalOptions options;
    options.device = request.device;
    options.forceCheckpoint = request.forceCheckpoint;
    options.keepTokenLosses = request.keepTokenLosses;
    options.shuffle = request.shuffle;
    options.causalK = request.causalK;
    options.bf16 = request.bf16;
    options.staticPath = request.staticPath && !request.fast;  // the fast path never computes it
    return options;
}

EvalPlan planRequest(const EvalRequest& request, const Evaluator& evaluator) {
    if (request.chunk <= 0)
        throw InputError("chunk must be a positive number of tokens", "e.g. {--chunk 512}");
    std::vector<fs::path> inputs(request.inputs.begin(), request.inputs.end());
    auto plan =
        buildEvalPlan(evaluator.tokenizer(), inputs,
                      evaluator.planOptions(request.mode, request.chunk), request.extensions);
    // The published evaluation takes the first N batches (algorithm.md §7); --max-units keeps
    // the first N units in data order.
    if (request.maxUnits && *request.maxUnits < plan.units.size()) {
        if (*request.maxUnits < 1)
            throw InputError("max units must be positive", "e.g. {--max-units 64}");
        plan.units.resize(*request.maxUnits);
        plan.totalTokens = 0;  // the tokens actually evaluated
        for (const auto& unit : plan.units)
            plan.totalTokens += unit.tokens * unit.sequences;
    }
    return plan;
}

std::string planSummary(const EvalPlan& plan, const std::string& mode, std::int64_t chunk,
                        const std::string& device, int threads) {
    return std::to_string(plan.files.size()) + " files, " + std::to_string(plan.totalTokens) +
           " tokens, " + std::to_string(plan.units.size()) + " units (" + mode + " mode, chunk " +
           std::to_string(chunk) + ", " + std::to_string(plan.droppedTokens) +
           " tokens in no unit), device " + device + ", " + std::to_string(threads) + " threads";
}

EvalSession::EvalSession(EvalRequest request) : m_request(std::move(request)) {
    if (m_request.modelDir.empty())
        throw InputError("no model directory given",
                         "pass {--model DIR} (a folder with config.json)");
    checkModelDirectory(m_request.modelDir);
    std::error_code error;
    if (m_request.inputs.empty())
        throw InputError("no input files", "give at least one FILE or DIR to evaluate");
    m_settings = resolveSettings({}, m_request.gating, m_request.modelDir);
    // A gate made for another TTT layer is refused before any model work (the checkpoint is
    // hashed only when a gate is named: a large layer costs a read of its whole file).
    const auto checkpoint = m_request.modelDir / "ttt.safetensors";
    if (!m_settings.gates.empty())
        checkGates(m_settings, fs::exists(checkpoint, error) ? sha256FileHex(checkpoint) : "");
    // LoRA fast weights (algorithm.md §2.7): refused where they lack what is asked, before
    // any model work.
    if (isLoraCheckpoint(m_request.modelDir)) {
        checkNoReconstruction(m_settings);
        if (m_request.fast)
            throw InputError(
                "the gated fast path decides on recon_init or the SKIP path before "
                "running the TTT layer; LoRA fast weights have no such path",
                "drop {--fast} for this model");
        if (m_request.causalK)
            throw InputError(
                "{--causal-k} is the dual form's mask, which LoRA fast weights do not "
                "have",
                "drop {--causal-k} for this model");
    }
    if (m_request.fast && m_request.ranks)
        throw InputError(
            "the gated fast path decides each unit from the units before it, so "
            "it runs in one process",
            "drop {--fast} or {--nproc}");
    if (m_request.ranks && !m_request.ranks->isRoot()) return;  // rank 0 stores
    RecorderOptions recording;
    recording.database = m_request.database;
    recording.label = m_request.label;
    if (m_request.storeErrorsAreWarnings)
        recording.onStoreError = [this](const PonderError& error) {
            m_storeWarnings.push_back({error.what(), error.hint()});
        };
    m_recorder = std::make_unique<RunRecorder>(m_settings, recording);
}

EvalSession::~EvalSession() = default;

namespace {

Evaluator& loadEvaluator(const EvalRequest& request, EvaluatorCache* cache,
                         std::unique_ptr<Evaluator>& own) {
    const auto options = evalOptionsOf(request);
    if (cache) return cache->get(request.modelDir, options);
    own = std::make_unique<Evaluator>(request.modelDir, options);
    return *own;
}

RunDescription describeRequest(const EvalRequest& request, const AnalysisSettings& settings,
                               const Evaluator& evaluator, const EvalPlan& plan, int threads) {
    // The absolute model path: a stored run is exported and reopened from any folder.
    std::error_code error;
    auto run = describeRun(evaluator, plan,
                           fs::absolute(request.modelDir, error).lexically_normal().string());
    run.threads = threads;
    run.inputs = request.inputs;
    run.shuffle = request.shuffle;
    run.rate = settings.ours.rate;
    return run;
}

}  // namespace

std::optional<EvalSession::FastPath> EvalSession::fastPathFor(const EvalPlan& plan,
                                                              const Evaluator& evaluator) const {
    if (!m_request.fast) return std::nullopt;
    FastPath fast;
    fast.gate = onlineGate(m_settings.ours, plan, evaluator.tttSha256());
    // A learned gate replayed beside Ours reads the SKIP path's gate features.
    fast.skipStatistics = needsSkipStatistics(m_settings.ours);
    for (const auto& extra : m_settings.extraPolicies)
        fast.skipStatistics = fast.skipStatistics || isGatePolicy(extra);
    return fast;
}

bool EvalSession::evaluateUnits(Evaluator& evaluator, const EvalPlan& plan,
                                const std::optional<FastPath>& fast, const EvalCallbacks& callbacks,
                                EvalOutcome& outcome, EvalProgress& last) {
    const std::function<void(const UnitRecord&)> onUnit = [&](const UnitRecord& record) {
        ++outcome.evaluated;
        m_recorder->add(record);
        if (callbacks.onUnit) callbacks.onUnit(record);
    };
    const auto onProgress = [&](const EvalProgress& progress) {
        last = progress;
        if (callbacks.onProgress) callbacks.onProgress(progress);
    };
    if (m_request.ranks) {
        const bool finished =
            evaluateAsRank(*m_request.ranks, evaluator, plan, callbacks, &onUnit, outcome);
        last.elapsedSeconds = outcome.run.seconds;
        last.tokensPerSecond = outcome.run.tokensPerSecond;
        return finished;
    }
    if (fast)
        return evaluator.runGated(plan, fast->gate, fast->skipStatistics, onUnit, onProgress,
                                  callbacks.cancel);
    return evaluator.run(plan, onUnit, onProgress, callbacks.cancel);
}

EvalOutcome EvalSession::run(const EvalCallbacks& callbacks, EvaluatorCache* cache) {
    const auto log = [&](int level, const std::string& text, const std::string& hint = {}) {
        if (callbacks.onLog) callbacks.onLog(level, text, hint);
    };
    EvalOutcome outcome;
    outcome.settings = m_settings;
    const int threads = configureThreads(m_request.threads);  // per thread for OpenMP
    std::unique_ptr<Evaluator> own;
    Evaluator& evaluator = loadEvaluator(m_request, cache, own);
    const auto plan = planRequest(m_request, evaluator);
    auto& run = outcome.run;
    run = describeRequest(m_request, m_settings, evaluator, plan, threads);
    const auto fast = fastPathFor(plan, evaluator);  // built (and refused) before the run is stored
    if (fast) run.fastGate = m_settings.ours.name;

    if (m_request.ranks && !m_request.ranks->isRoot()) {
        evaluateAsRank(*m_request.ranks, evaluator, plan, callbacks, nullptr, outcome);
        return outcome;
    }

    for (const auto& line : skippedReport(plan))
        log(1, line);
    log(0, "eval: " +
               planSummary(plan, modeName(m_request.mode), m_request.chunk, evaluator.device(),
                           threads) +
               (m_request.ranks
                    ? " per rank, " + std::to_string(m_request.ranks->world().size) + " ranks"
                    : std::string()));
    // Store problems the studio lives with: said once, then the run goes on unstored.
    const auto reportStoreWarnings = [&](const char* prefix) {
        for (const auto& [text, hint] : m_storeWarnings)
            log(1, prefix + text, hint);
        m_storeWarnings.clear();
    };
    reportStoreWarnings("run not stored: ");
    if (callbacks.onPlan) callbacks.onPlan(run, plan);
    m_recorder->begin(run, plan);
    reportStoreWarnings("run not stored: ");
    outcome.runId = m_recorder->runId();
    if (outcome.runId && callbacks.onStored) callbacks.onStored(*outcome.runId);

    EvalProgress last;
    outcome.cancelled = !evaluateUnits(evaluator, plan, fast, callbacks, outcome, last);
    run.cancelled = outcome.cancelled;
    run.seconds = last.elapsedSeconds;
    run.tokensPerSecond = last.tokensPerSecond;
    outcome.analysis = m_recorder->finish(outcome.cancelled, run.seconds, run.tokensPerSecond);
    reportStoreWarnings("run store: ");
    outcome.runId = m_recorder->runId();
    outcome.units = m_recorder->releaseUnits();
    return outcome;
}

}  // namespace ponder::core
