// Batch export (design.md §10): many files × several target rates → one folder of tables and
// figures, on a worker thread with progress and cancel. Each file is evaluated by the studio's
// own EvalWorker and stored as a run; each rate is then exported the way `ponder export
// --figures` does it (core::exportRuns + writeRunFigures), into <out>/rate-<ρ>/.
#pragma once
#include <atomic>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app/common/run_figure_data.h"
#include "app/studio/state/eval_worker.h"
#include "core/store/run_store.h"

namespace ponder::studio {

struct BatchRequest {
    RunRequest run;  // model, device, threads, gating, database; `inputs`: files or folders
    std::vector<double> rates;
    std::filesystem::path outDir;
    app::FigureFormats formats{{viz::ImageFormat::Png, viz::ImageFormat::Svg}, true};
    double dpi = 150;
};

// "0.25, 0.5 0.75" → {0.25, 0.5, 0.75}; throws core::InputError for text that is not a list of
// rates in [0, 1].
std::vector<double> parseRates(const std::string& text);

class BatchExporter {
public:
    enum class Phase { Idle, Running, Finished, Cancelled, Failed };

    ~BatchExporter();
    // Cancels and joins any previous batch first.
    void start(BatchRequest request);
    void cancel() { m_cancel.store(true); }
    void join();

    Phase phase() const { return m_phase.load(); }
    bool busy() const { return phase() == Phase::Running; }
    double progress() const { return m_progress.load(); }  // 0..1
    std::string step() const;                              // what it is doing now
    std::vector<LogLine> takeLog();
    std::vector<std::filesystem::path> written() const;  // every file written so far

private:
    void work(BatchRequest request);
    // One file as a stored run (none when it failed or was cancelled); `index` of `count`.
    std::optional<core::StoredRun> evaluateFile(EvalWorker& worker, const BatchRequest& request,
                                                const std::filesystem::path& file,
                                                std::size_t index, std::size_t count, double steps,
                                                std::size_t& failed);
    // The tables over all runs and each run's figures at request.rates[index], into rate-R/.
    void exportAtRate(const std::vector<core::StoredRun>& runs, const BatchRequest& request,
                      std::size_t index);
    void setStep(std::string text);
    void log(LogLine::Level level, std::string text, std::string hint = {});

    std::thread m_thread;
    std::atomic<bool> m_cancel{false};
    std::atomic<Phase> m_phase{Phase::Idle};
    std::atomic<double> m_progress{0};
    mutable std::mutex m_mutex;
    std::string m_step;
    std::vector<LogLine> m_log;
    std::vector<std::filesystem::path> m_written;
};

}  // namespace ponder::studio
