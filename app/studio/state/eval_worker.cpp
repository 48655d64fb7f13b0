// The worker thread's body: core's run session, its callbacks turned into inbox entries.
#include "app/studio/state/eval_worker.h"

#include <cstdio>

#include "core/model/ttt_config.h"
#include "core/util/errors.h"
#include "core/util/sha256.h"

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
    if (inbox.files) {
        if (inbox.run)
            state.setRunFacts(inbox.run->tttSha256, core::updateStepsOf(inbox.run->tttConfigJson));
        state.reset(std::move(*inbox.files));
        state.setFileSha256(std::move(inbox.fileSha256));
    }
    if (inbox.settings) state.setRunSettings(std::move(*inbox.settings));
    if (!inbox.units.empty()) state.appendUnits(inbox.units);
    return inbox.files || inbox.settings || !inbox.units.empty();
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
    // Errors end the run as a log line (and a toast in the UI), never the process. A stored
    // run is marked failed by the session whatever was thrown.
    try {
        request.keepTokenLosses = true;         // the source pane's per-token heat map
        request.staticPath = true;              // the advantage split (algorithm.md §4.1)
        request.storeErrorsAreWarnings = true;  // the run goes on on screen, unstored
        core::EvalSession session(std::move(request));
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_inbox.settings = session.settings();
        }
        if (m_cancel.load()) {
            m_phase.store(Phase::Cancelled);
            return;
        }
        core::EvalCallbacks callbacks;
        callbacks.cancel = &m_cancel;
        callbacks.onLog = [&](int level, const std::string& text, const std::string& hint) {
            log(level > 0 ? LogLine::Level::Warning : LogLine::Level::Info, text, hint);
        };
        callbacks.onPlan = [&](const core::RunDescription& run, const core::EvalPlan& plan) {
            m_total.store(plan.units.size());
            // As the store keys the files: a compared run is joined on them.
            std::vector<std::string> sha256;
            for (const auto& file : plan.files)
                sha256.push_back(core::sha256Hex(file.text));
            std::lock_guard<std::mutex> lock(m_mutex);
            m_inbox.fileSha256 = std::move(sha256);
            m_inbox.files = plan.files;
            m_inbox.run = run;
            m_inbox.settings = session.settings();  // after the files, which reset the state
            m_phase.store(Phase::Running);
        };
        callbacks.onStored = [&](std::int64_t id) {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_inbox.runId = id;
        };
        callbacks.onUnit = [&](const core::UnitRecord& record) {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_inbox.units.push_back(record);
        };
        callbacks.onProgress = [&](const core::EvalProgress& progress) {
            m_done.store(progress.done);
            m_tokensPerSecond.store(progress.tokensPerSecond);
            m_eta.store(progress.etaSeconds);
        };
        const auto outcome = session.run(callbacks, &m_models);
        char text[128];
        std::snprintf(text, sizeof text, "%s: %zu units in %.1f s (%.0f tokens/s)",
                      outcome.cancelled ? "cancelled" : "finished", outcome.units.size(),
                      outcome.run.seconds, outcome.run.tokensPerSecond);
        log(LogLine::Level::Info, text);
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            if (outcome.runId) m_inbox.runId = outcome.runId;
        }
        m_phase.store(outcome.cancelled ? Phase::Cancelled : Phase::Finished);
    } catch (...) {
        auto line = errorLine(std::current_exception());
        log(line.level, std::move(line.text), std::move(line.hint));
        m_phase.store(Phase::Failed);
    }
}

}  // namespace ponder::studio
