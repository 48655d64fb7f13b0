// The studio's evaluation worker: loads the model, builds the plan and
// evaluates on its own thread; units, log lines and errors are handed to the UI through a
// mutex-protected inbox the UI drains once per frame; progress is published through atomics.
#pragma once
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app/studio/state/log_line.h"
#include "app/studio/state/studio_state.h"
#include "core/eval/eval_plan.h"
#include "core/eval/evaluator.h"
#include "core/gating/calibration.h"
#include "core/gating/run_analysis.h"

namespace ponder::studio {

struct RunRequest {
    std::filesystem::path modelDir;
    std::vector<std::filesystem::path> inputs;
    std::int64_t chunk = 512;
    int threads = 0;
    std::string device = "cpu";
    core::AnalysisSettings settings;  // stored with the run, replayed for its policies
    std::filesystem::path database;   // empty: not stored
};

// What the UI takes from the worker each frame.
struct WorkerInbox {
    std::optional<std::vector<core::PlanFile>> files;  // set once the plan is built
    std::optional<core::Calibration> calibration;
    std::vector<core::UnitRecord> units;
    std::vector<LogLine> log;
    std::optional<std::int64_t> runId;
};

// The state's part of taking the inbox (plan files, calibration, streamed units), shared by
// the UI's frame loop and the headless tests. True when something changed.
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
    std::size_t modelLoads() const { return m_modelLoads.load(); }

private:
    void work(RunRequest request);
    // The evaluator of the last run when the model is unchanged (batch export evaluates many
    // files with one model), else a freshly loaded one. Used on the worker thread only.
    core::Evaluator& loadedEvaluator(const RunRequest& request);
    void log(LogLine::Level level, std::string text, std::string hint = {});

    std::thread m_thread;
    std::atomic<bool> m_cancel{false};
    std::atomic<Phase> m_phase{Phase::Idle};
    std::atomic<std::size_t> m_done{0}, m_total{0}, m_modelLoads{0};
    std::atomic<double> m_tokensPerSecond{0}, m_eta{0};
    std::mutex m_mutex;
    WorkerInbox m_inbox;
    std::unique_ptr<core::Evaluator> m_evaluator;
    std::string m_evaluatorKey;
};

}  // namespace ponder::studio
