// The batch exporter's thread: one stored run per file (through EvalWorker), then tables and
// figures per rate. Cancel is checked between units (by the evaluator) and between exports.
#include "app/studio/state/batch_export.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <sstream>
#include <utility>

#include "core/data/corpus_files.h"
#include "core/model/model_dir.h"
#include "core/report/exports.h"
#include "core/store/run_store.h"
#include "core/text/text_input.h"
#include "core/util/errors.h"

namespace ponder::studio {

namespace fs = std::filesystem;

std::vector<double> parseRates(const std::string& text) {
    std::string spaced = text;
    for (char& c : spaced)
        if (c == ',' || c == ';') c = ' ';
    std::stringstream stream(spaced);
    std::vector<double> rates;
    std::string word;
    while (stream >> word) {
        double rate = 0;
        try {
            std::size_t used = 0;
            rate = std::stod(word, &used);
            if (used != word.size()) throw std::invalid_argument(word);
        } catch (const std::exception&) {
            throw core::InputError("'" + word + "' is not a rate",
                                   "give target rates between 0 and 1, e.g. 0.25, 0.5, 0.75");
        }
        if (!(rate >= 0 && rate <= 1))
            throw core::InputError("rate " + word + " is outside [0, 1]",
                                   "give target rates between 0 and 1");
        rates.push_back(rate);
    }
    if (rates.empty())
        throw core::InputError("no rates given", "give target rates, e.g. 0.25, 0.5, 0.75");
    return rates;
}

BatchExporter::~BatchExporter() {
    cancel();
    join();
}

void BatchExporter::join() {
    if (m_thread.joinable()) m_thread.join();
}

void BatchExporter::start(BatchRequest request) {
    cancel();
    join();
    m_cancel.store(false);
    m_progress.store(0);
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_written.clear();
        m_step.clear();
    }
    m_phase.store(Phase::Running);
    m_thread =
        std::thread([this, request = std::move(request)]() mutable { work(std::move(request)); });
}

std::string BatchExporter::step() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_step;
}

std::vector<LogLine> BatchExporter::takeLog() {
    std::lock_guard<std::mutex> lock(m_mutex);
    return std::exchange(m_log, {});
}

std::vector<fs::path> BatchExporter::written() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_written;
}

void BatchExporter::setStep(std::string text) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_step = std::move(text);
}

void BatchExporter::log(LogLine::Level level, std::string text, std::string hint) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_log.push_back({level, std::move(text), std::move(hint)});
}

namespace {

// Folders become their text files with a wanted extension (--ext, as a live run's plan takes
// them), one run each; binary and other unreadable files are left out here rather than
// failing one by one.
std::vector<fs::path> inputFiles(const std::vector<std::string>& inputs,
                                 const std::vector<std::string>& extensions) {
    std::vector<fs::path> files;
    for (const auto& input : inputs) {
        if (!fs::is_directory(input)) {
            files.push_back(input);
            continue;
        }
        for (const auto& file : core::listCorpusFiles(input)) {
            if (!core::matchesExtension(file, extensions)) continue;
            try {
                core::readCodeFile(file);
                files.push_back(file);
            } catch (const core::PonderError&) {
            }
        }
    }
    return files;
}

}  // namespace

std::optional<core::StoredRun> BatchExporter::evaluateFile(EvalWorker& worker,
                                                           const BatchRequest& request,
                                                           const fs::path& file, std::size_t index,
                                                           std::size_t count, double steps,
                                                           std::size_t& failed) {
    setStep("evaluating " + file.filename().string() + " (" + std::to_string(index + 1) + "/" +
            std::to_string(count) + ")");
    RunRequest one = request.run;
    one.inputs = {file};
    worker.start(one);
    std::optional<std::int64_t> runId;
    // Per-file problems go to the log only; one summary warning follows.
    const auto takeInbox = [&] {
        auto inbox = worker.take();
        if (inbox.runId) runId = inbox.runId;
        for (auto& line : inbox.log)
            if (line.level != LogLine::Level::Info)
                log(LogLine::Level::Info, file.string() + ": " + line.text, line.hint);
    };
    while (true) {
        takeInbox();
        if (!worker.busy()) break;
        if (m_cancel.load()) worker.cancel();
        const double within = worker.total() ? double(worker.done()) / worker.total() : 0;
        m_progress.store((double(index) + within) / steps);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    worker.join();
    takeInbox();
    m_progress.store(double(index + 1) / steps);
    if (worker.phase() == EvalWorker::Phase::Failed) ++failed;
    if (worker.phase() != EvalWorker::Phase::Finished || !runId) return std::nullopt;
    core::StoreOptions options;
    options.create = false;
    return core::RunStore(request.run.database, options).loadRun(*runId);
}

// Per rate, with the settings `ponder export --run ... --rate R` takes (the stored ones at
// that rate: a profile start is that rate's quantile, not the Tune pane's).
void BatchExporter::exportAtRate(const std::vector<core::StoredRun>& runs,
                                 const BatchRequest& request, std::size_t index) {
    char name[32];
    std::snprintf(name, sizeof name, "rate-%.2f", request.rates[index]);
    setStep(std::string("exporting ") + name);
    core::SettingsOverrides atRate;
    atRate.rate = request.rates[index];
    const auto settings = core::replaySettings(runs.front(), atRate);
    const fs::path dir = request.outDir / name;
    auto written = core::exportRuns(runs, settings, dir);
    for (const auto& run : runs) {
        if (m_cancel.load()) break;
        const auto figureDir =
            runs.size() == 1 ? dir : dir / ("run-" + std::to_string(run.summary.id));
        const auto paths = app::writeRunFigures(core::analyseStoredRun(run, settings), settings,
                                                request.formats, figureDir, request.dpi);
        written.insert(written.end(), paths.begin(), paths.end());
    }
    std::lock_guard<std::mutex> lock(m_mutex);
    m_written.insert(m_written.end(), written.begin(), written.end());
}

void BatchExporter::work(BatchRequest request) {
    try {
        if (request.run.database.empty())
            throw core::InputError("batch export needs the run database",
                                   "set XDG_DATA_HOME or HOME so the studio can store runs");
        setStep("listing files");
        const auto files = inputFiles(request.run.inputs, request.run.extensions);
        const double steps = double(files.size() + request.rates.size());
        // Evaluation: one stored run per file, so the tables get one row per file. One worker
        // for all of them, so the model is loaded once.
        EvalWorker worker;
        std::vector<core::StoredRun> runs;
        std::size_t failed = 0;
        for (std::size_t i = 0; i < files.size() && !m_cancel.load(); ++i)
            if (auto run = evaluateFile(worker, request, files[i], i, files.size(), steps, failed))
                runs.push_back(std::move(*run));
        if (failed)
            log(LogLine::Level::Warning,
                "batch export: " + std::to_string(failed) + " of " + std::to_string(files.size()) +
                    " files could not be evaluated",
                "see the Log for each file's reason");
        if (m_cancel.load()) {
            log(LogLine::Level::Info,
                "batch export cancelled after " + std::to_string(runs.size()) + " evaluated files");
            m_phase.store(Phase::Cancelled);
            return;
        }
        if (runs.empty())
            throw core::InputError("no file could be evaluated", "see the log for each file");
        for (std::size_t r = 0; r < request.rates.size() && !m_cancel.load(); ++r) {
            exportAtRate(runs, request, r);
            m_progress.store(double(files.size() + r + 1) / steps);
        }
        const bool cancelled = m_cancel.load();
        log(LogLine::Level::Info,
            std::string(cancelled ? "batch export cancelled: " : "batch export: ") +
                std::to_string(written().size()) + " files for " + std::to_string(runs.size()) +
                " runs in " + request.outDir.string());
        m_phase.store(cancelled ? Phase::Cancelled : Phase::Finished);
    } catch (...) {
        auto line = errorLine(std::current_exception(), LogLine::Level::Error, "batch export");
        log(line.level, std::move(line.text), std::move(line.hint));
        m_phase.store(Phase::Failed);
    }
}

}  // namespace ponder::studio
