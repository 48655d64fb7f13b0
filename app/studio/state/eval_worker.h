// The studio's evaluation worker: runs core's run session (core/eval/eval_session.h) on its own
// thread, the same session `ponder eval` runs; plan, resolved settings, units, log lines and
// errors reach the UI through a mutex-protected inbox it drains once per frame, progress
// through atomics. The worker evaluates, calibrates and analyses nothing itself.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app/studio/state/log_line.h"
#include "app/studio/state/studio_state.h"
#include "core/eval/eval_session.h"

namespace ponder::studio {

using RunRequest = core::EvalRequest;

// What the UI takes from the worker each frame.
struct WorkerInbox {
    std::optional<std::vector<core::PlanFile>> files;  // set once the plan is built
    std::optional<core::RunDescription> run;           // with the files: the run's facts
    std::vector<std::string> fileSha256;               // with the files: each one's SHA-256
    std::optional<core::AnalysisSettings> settings;    // as the session resolved and stored them
    std::vector<core::UnitRecord> units;
    std::vector<LogLine> log;
    std::optional<std::int64_t> runId;
};

// The state's part of taking the inbox (plan files, settings, streamed units), shared by the
// UI's frame loop and the headless tests. True when something changed.
bool applyInbox(WorkerInbox& inbox, StudioState& state);

class EvalWorker {
public:
    enum class Phase { Idle, Loading, Running, Finished, Cancelled, Failed };

    ~EvalWorker();
    // Cancels and joins any previous run first.
    void start(RunRequest request);
    void cancel() { m_cancel.store(true); }
    // Blocks until the thread ended (shutdown).
    void join();
    WorkerInbox take();

    Phase phase() const { return m_phase.load(); }
    bool busy() const {
        const auto p = phase();
        return p == Phase::Loading || p == Phase::Running;
    }
    std::size_t done() const { return m_done.load(); }
    std::size_t total() const { return m_total.load(); }
    double tokensPerSecond() const { return m_tokensPerSecond.load(); }
    double etaSeconds() const { return m_eta.load(); }
    // How many times a model was loaded (a run on an unchanged model reuses the last one).
    std::size_t modelLoads() const { return m_models.loads(); }

private:
    void work(RunRequest request);
    void log(LogLine::Level level, std::string text, std::string hint = {});

    std::thread m_thread;
    std::atomic<bool> m_cancel{false};
    std::atomic<Phase> m_phase{Phase::Idle};
    std::atomic<std::size_t> m_done{0}, m_total{0};
    std::atomic<double> m_tokensPerSecond{0}, m_eta{0};
    std::mutex m_mutex;
    WorkerInbox m_inbox;
    // The last model, kept for the next run on it (batch export evaluates many files with
    // one model). Used on the worker thread only.
    core::EvaluatorCache m_models;
};

}  // namespace ponder::studio
