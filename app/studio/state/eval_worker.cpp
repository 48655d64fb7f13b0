// The worker thread's body: model, plan, evaluation, the run store (one transaction per batch).
#include "app/studio/state/eval_worker.h"

#include <chrono>
#include <cstdio>

#include "core/util/errors.h"
#include "core/store/run_store.h"
#include "core/runtime/runtime.h"
#include "core/model/ttt_config.h"

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

void EvalWorker::work(RunRequest request) {
    // Errors end the run as a log line (and a toast in the UI), never the process.
    std::optional<core::RunStore> store;
    std::int64_t runId = -1;
    std::vector<core::UnitRecord> all, pending;
    core::EvalProgress last;
    try {
        // OpenMP's thread count is per thread: set it where the tensors run.
        const int threads = core::configureThreads(request.threads);
        core::EvalOptions options;
        options.device = request.device;
        options.keepTokenLosses = true;  // the source pane's per-token heat map
        core::Evaluator evaluator(request.modelDir, options);
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
        for (const auto& skipped : plan.skipped)
            log(LogLine::Level::Warning, "skipped " + skipped);
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
        if (!request.database.empty()) {
            try {
                store.emplace(request.database);
                runId = store->beginRun(run, core::analysisSettingsJson(request.settings),
                                        request.settings.ours.seed, core::storedInputFiles(plan));
                std::lock_guard<std::mutex> lock(m_mutex);
                m_inbox.runId = runId;
            } catch (const core::PonderError& error) {
                store.reset();
                log(LogLine::Level::Warning, std::string("run not stored: ") + error.what(),
                    error.hint());
            }
        }
        m_phase.store(Phase::Running);
        auto lastFlush = std::chrono::steady_clock::now();
        const auto flush = [&] {
            if (store && !pending.empty()) {
                try {
                    store->appendUnits(runId, pending);
                } catch (const core::PonderError& error) {
                    store.reset();
                    log(LogLine::Level::Warning, std::string("run store: ") + error.what(),
                        error.hint());
                }
            }
            pending.clear();
            lastFlush = std::chrono::steady_clock::now();
        };
        const bool finished = evaluator.run(
            plan,
            [&](const core::UnitRecord& record) {
                all.push_back(record);
                pending.push_back(record);
                {
                    std::lock_guard<std::mutex> lock(m_mutex);
                    m_inbox.units.push_back(record);
                }
                if (pending.size() >= 32 ||
                    std::chrono::steady_clock::now() - lastFlush >= std::chrono::seconds(1))
                    flush();
            },
            [&](const core::EvalProgress& progress) {
                last = progress;
                m_done.store(progress.done);
                m_tokensPerSecond.store(progress.tokensPerSecond);
                m_eta.store(progress.etaSeconds);
            },
            &m_cancel);
        flush();
        if (store) {
            try {
                if (!all.empty()) {
                    const auto analysis =
                        core::analyseUnits(core::unitTableFrom(all), request.settings);
                    store->savePolicies(runId, core::storedPolicies(analysis, request.settings));
                }
                store->finishRun(runId,
                                 finished ? core::RunStatus::Complete : core::RunStatus::Cancelled,
                                 last.elapsedSeconds, last.tokensPerSecond);
            } catch (const std::exception& error) {
                log(LogLine::Level::Warning, std::string("run store: ") + error.what());
            }
        }
        char text[128];
        std::snprintf(text, sizeof text, "%s: %zu units in %.1f s (%.0f tokens/s)",
                      finished ? "finished" : "cancelled", all.size(), last.elapsedSeconds,
                      last.tokensPerSecond);
        log(LogLine::Level::Info, text);
        m_phase.store(finished ? Phase::Finished : Phase::Cancelled);
    } catch (const core::PonderError& error) {
        log(LogLine::Level::Error, error.what(), error.hint());
        if (store) {
            try {
                store->finishRun(runId, core::RunStatus::Failed, last.elapsedSeconds, 0);
            } catch (...) {
            }
        }
        m_phase.store(Phase::Failed);
    } catch (const std::exception& error) {
        log(LogLine::Level::Error, error.what(), "check the model directory and the input files");
        m_phase.store(Phase::Failed);
    }
}

}  // namespace ponder::studio
