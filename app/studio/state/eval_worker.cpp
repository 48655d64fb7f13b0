// The worker thread's body: model, plan, evaluation, the run store (one transaction per batch).
#include "app/studio/state/eval_worker.h"

#include <chrono>
#include <cstdio>

#include "core/model/ttt_config.h"
#include "core/runtime/runtime.h"
#include "core/store/run_recorder.h"
#include "core/util/errors.h"

namespace ponder::studio {

EvalWorker::~EvalWorker() {
    cancel();
    join();
}

void EvalWorker::join() {
    if (m_thread.joinable()) m_thread.join();
}

void EvalWorker::start(RunRequest request) {
    cancel();
    join();
    m_cancel.store(false);
    m_done.store(0);
    m_total.store(0);
    m_tokensPerSecond.store(0);
    m_eta.store(0);
    m_phase.store(Phase::Loading);
    m_thread =
        std::thread([this, request = std::move(request)]() mutable { work(std::move(request)); });
}

bool applyInbox(WorkerInbox& inbox, StudioState& state) {
    // Files first: they reset the state, and the units that follow belong to them.
    if (inbox.files) state.reset(std::move(*inbox.files));
    if (inbox.calibration) state.setCalibration(std::move(inbox.calibration));
    if (!inbox.units.empty()) state.appendUnits(inbox.units);
    return inbox.files || inbox.calibration || !inbox.units.empty();
}

WorkerInbox EvalWorker::take() {
    std::lock_guard<std::mutex> lock(m_mutex);
    WorkerInbox out = std::move(m_inbox);
    m_inbox = WorkerInbox{};
    return out;
}

void EvalWorker::log(LogLine::Level level, std::string text, std::string hint) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_inbox.log.push_back({level, std::move(text), std::move(hint)});
}

namespace {

// What a loaded evaluator depends on: the directory, the device, and when its files last
// changed (a retrained checkpoint is loaded again, an unchanged model is not).
std::string evaluatorKey(const RunRequest& request) {
    std::string key = request.modelDir.string() + "|" + request.device;
    for (const char* name : {"config.json", "model.safetensors", "ttt.json", "ttt.safetensors",
                             "vocab.json", "merges.txt", "encoder.json", "vocab.bpe"}) {
        std::error_code error;
        const auto time = std::filesystem::last_write_time(request.modelDir / name, error);
        key += "|" + (error ? std::string("-") : std::to_string(time.time_since_epoch().count()));
    }
    return key;
}

}  // namespace

core::Evaluator& EvalWorker::loadedEvaluator(const RunRequest& request) {
    const auto key = evaluatorKey(request);
    if (!m_evaluator || key != m_evaluatorKey) {
        m_evaluator.reset();
        core::EvalOptions options;
        options.device = request.device;
        options.keepTokenLosses = true;  // the source pane's per-token heat map
        m_evaluator = std::make_unique<core::Evaluator>(request.modelDir, options);
        m_evaluatorKey = key;
        ++m_modelLoads;
    }
    return *m_evaluator;
}

void EvalWorker::work(RunRequest request) {
    // Errors end the run as a log line (and a toast in the UI), never the process. A stored
    // run is marked failed by its recorder whatever was thrown (core::RunRecorder).
    core::EvalProgress last;
    try {
        // OpenMP's thread count is per thread: set it where the tensors run.
        const int threads = core::configureThreads(request.threads);
        core::Evaluator& evaluator = loadedEvaluator(request);
        if (m_cancel.load()) {
            m_phase.store(Phase::Cancelled);
            return;
        }
        auto plan = core::buildEvalPlan(evaluator.tokenizer(), request.inputs,
                                        evaluator.planOptions(core::EvalMode::File, request.chunk));
        std::optional<core::Calibration> calibration;
        const auto calibrationFile = request.modelDir / "calibration.json";
        if (std::filesystem::exists(calibrationFile)) {
            try {
                calibration = core::loadCalibration(calibrationFile);
            } catch (const core::PonderError& error) {
                log(LogLine::Level::Warning, error.what(), error.hint());
            }
        }
        for (const auto& line : core::skippedReport(plan))
            log(LogLine::Level::Warning, line);
        m_total.store(plan.units.size());
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_inbox.files = plan.files;
            m_inbox.calibration = calibration;
        }

        auto run = core::describeRun(evaluator, plan, request.modelDir.string());
        run.threads = threads;
        for (const auto& input : request.inputs)
            run.inputs.push_back(input.string());
        run.rate = request.settings.ours.rate;
        log(LogLine::Level::Info,
            "run: " + std::to_string(plan.files.size()) + " files, " +
                std::to_string(plan.totalTokens) + " tokens, " + std::to_string(plan.units.size()) +
                " units on " + evaluator.device() + ", " + std::to_string(threads) + " threads");
        // A store that fails is a warning: the run goes on on screen, unstored.
        core::RecorderOptions recording;
        recording.database = request.database;
        bool begun = false;
        recording.onStoreError = [&](const core::PonderError& error) {
            log(LogLine::Level::Warning,
                std::string(begun ? "run store: " : "run not stored: ") + error.what(),
                error.hint());
        };
        core::RunRecorder recorder(request.settings, recording);
        recorder.begin(run, plan);
        begun = true;
        if (recorder.runId()) {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_inbox.runId = *recorder.runId();
        }
        m_phase.store(Phase::Running);
        const bool finished = evaluator.run(
            plan,
            [&](const core::UnitRecord& record) {
                recorder.add(record);
                std::lock_guard<std::mutex> lock(m_mutex);
                m_inbox.units.push_back(record);
            },
            [&](const core::EvalProgress& progress) {
                last = progress;
                m_done.store(progress.done);
                m_tokensPerSecond.store(progress.tokensPerSecond);
                m_eta.store(progress.etaSeconds);
            },
            &m_cancel);
        recorder.finish(!finished, last.elapsedSeconds, last.tokensPerSecond);
        char text[128];
        std::snprintf(text, sizeof text, "%s: %zu units in %.1f s (%.0f tokens/s)",
                      finished ? "finished" : "cancelled", recorder.units().size(),
                      last.elapsedSeconds, last.tokensPerSecond);
        log(LogLine::Level::Info, text);
        m_phase.store(finished ? Phase::Finished : Phase::Cancelled);
    } catch (...) {
        auto line = errorLine(std::current_exception());
        log(line.level, std::move(line.text), std::move(line.hint));
        m_phase.store(Phase::Failed);
    }
}

}  // namespace ponder::studio
