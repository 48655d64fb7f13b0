// The studio's workers on a real file and a tiny model, without a window: cancelling a live run
// (prompt stop, stored as cancelled with whole units, state consistent), reopening that run
// with the token heat map recomputed only for unchanged files, and the batch exporter.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <sys/resource.h>

#include "app/studio/state/batch_export.h"
#include "app/studio/state/eval_worker.h"
#include "app/studio/state/reopen.h"
#include "core/data/corpus_files.h"
#include "core/model/model_dir.h"
#include "core/store/run_store.h"
#include "tests/test_support.h"

using namespace ponder;
using namespace ponder::studio;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// A 2-layer, 32-wide GPT-2 with a random TTT layer and a 512-token BPE trained on json/.
struct TinySetup {
    testing::TempDir dir{"ponder_studio_worker"};
    fs::path model = dir.path / "model";
    fs::path input = dir.path / "typing.py";  // a copy, so the test may change it
    fs::path database = dir.path / "runs.sqlite";

    TinySetup() {
        ::setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
        auto options = testing::tinyModelOptions();
        options.seed = 0;
        options.positions = 1024;
        options.vocab = 512;
        options.corpus = core::listCorpusFiles("/usr/lib/python3.11/json");
        core::makeTestModel(model, options);
        fs::copy_file("/usr/lib/python3.11/typing.py", input);
    }

    RunRequest request(std::int64_t chunk) const {
        RunRequest r;
        r.modelDir = model;
        r.inputs = {input};
        r.chunk = chunk;
        r.threads = 1;
        r.database = database;
        return r;
    }
};

// Drains the worker into `state` until `until` holds or `seconds` pass; returns the runId seen.
template <class Until>
std::optional<std::int64_t> drain(EvalWorker& worker, StudioState& state, Until until,
                                  double seconds) {
    std::optional<std::int64_t> runId;
    const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < deadline) {
        auto inbox = worker.take();
        if (inbox.runId) runId = inbox.runId;
        applyInbox(inbox, state);
        if (until()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return runId;
}

}  // namespace

TEST_CASE("studio: cancelling a live run stops it promptly and stores whole units", "[studio]") {
    TinySetup setup;
    EvalWorker worker;
    StudioState state;
    // typing.py at 32 tokens per chunk is ~1400 units (seconds of work): cancel comes early.
    worker.start(setup.request(32));
    auto runId = drain(
        worker, state, [&] { return state.units().size() >= 3; }, 120);
    REQUIRE(state.units().size() >= 3);
    REQUIRE(worker.phase() == EvalWorker::Phase::Running);
    const auto total = worker.total();
    const auto asked = Clock::now();
    worker.cancel();
    const auto stopped = drain(
        worker, state, [&] { return !worker.busy(); }, 30);
    const double seconds = std::chrono::duration<double>(Clock::now() - asked).count();
    if (stopped) runId = stopped;
    worker.join();
    auto last = worker.take();  // what arrived between the last drain and the join
    if (last.runId) runId = last.runId;
    applyInbox(last, state);

    INFO("stopped " << seconds << " s after cancel");
    CHECK(seconds < 2.0);
    CHECK(worker.phase() == EvalWorker::Phase::Cancelled);
    CHECK_FALSE(worker.busy());
    CHECK(state.units().size() < total);

    // Stored as cancelled, with exactly the units the UI received, each one whole.
    REQUIRE(runId);
    core::RunStore store(setup.database);
    const auto run = store.loadRun(*runId);
    CHECK(run.summary.status == core::RunStatus::Cancelled);
    REQUIRE(run.units.size() == state.units().size());
    for (std::size_t i = 0; i < run.units.size(); ++i) {
        const auto& u = run.units[i];
        INFO("unit " << i);
        CHECK(u.unit == std::int64_t(i));
        CHECK(u.tokens == 32);
        CHECK_FALSE(u.tokenLossSkip.empty());
        CHECK(u.tokenLossSkip.size() == u.tokenLossUpdate.size());
        CHECK(u.lossSkip == Approx(state.units()[i].lossSkip));
    }
    CHECK(run.policies.size() >= 5);  // the analysis of the units it has

    // The UI's state agrees: every received unit replayed, a summary and no error.
    CHECK(state.replayError().empty());
    CHECK(state.table().size() == state.units().size());
    CHECK(state.ours().decisions.size() == state.units().size());
    // SKIP, UPDATE_1, Random, Oracle, the Adaptation Oracle (a studio run has the static path,
    // algorithm.md §4.1) and Ours.
    REQUIRE(state.summary().size() == 6);
    CHECK(state.summary()[4].method == "Adaptation Oracle");
    CHECK(std::isfinite(state.advantageSplit().advInner));
    CHECK(std::isfinite(state.units()[0].lossStatic));
    CHECK(state.summary()[0].summary.units == state.units().size());
    REQUIRE(state.files().size() == 1);
    CHECK(state.files()[0].path == setup.input);

    // Reopening it: the same units, and the heat map's token offsets recomputed exactly.
    const auto files = reopenFiles(run);
    REQUIRE(files.size() == 1);
    INFO(files[0].note);
    CHECK(files[0].note.empty());
    CHECK(files[0].file.tokenByteStart == state.files()[0].tokenByteStart);
    CHECK(files[0].file.lineStarts == state.files()[0].lineStarts);

    // The file changed since the run: text shown, heat map withheld with a reason.
    { std::ofstream(setup.input, std::ios::app) << "\n# edited\n"; }
    const auto changed = reopenFiles(run);
    REQUIRE(changed.size() == 1);
    CHECK(changed[0].file.tokenByteStart.empty());
    CHECK(changed[0].file.text.find("# edited") != std::string::npos);
    CHECK(changed[0].note.find("changed since the run") != std::string::npos);

    // Gone: a note, no exception.
    fs::remove(setup.input);
    const auto gone = reopenFiles(run);
    REQUIRE(gone.size() == 1);
    CHECK(gone[0].note.find("not shown") != std::string::npos);
}

TEST_CASE("studio: a reopened run without stored token losses says so", "[studio]") {
    core::StoredRun run;
    core::StoredInputFile input;
    input.path = "/usr/lib/python3.11/json/tool.py";
    input.sha256 = "0";
    run.inputFiles.push_back(input);
    core::UnitRecord u;
    u.fileIndex = 0;
    u.tokens = 16;
    run.units.push_back(u);
    const auto files = reopenFiles(run);
    REQUIRE(files.size() == 1);
    CHECK_FALSE(files[0].file.text.empty());
    CHECK(files[0].file.lineStarts.size() > 10);
    CHECK(files[0].note.find("not stored") != std::string::npos);
}

TEST_CASE("studio: batch export writes tables and figures per rate, and cancels", "[studio]") {
    TinySetup setup;
    const auto folder = setup.dir.path / "inputs";
    fs::create_directories(folder);
    fs::copy_file("/usr/lib/python3.11/json/decoder.py", folder / "decoder.py");
    fs::copy_file("/usr/lib/python3.11/json/scanner.py", folder / "scanner.py");
    { std::ofstream(folder / "blob.bin", std::ios::binary) << std::string("\0\1\2\3", 4); }
    // Code, but not of the extension asked for: --ext holds in a batch as in a live run.
    fs::copy_file("/usr/lib/python3.11/json/encoder.py", folder / "encoder.js");

    BatchRequest request;
    request.run = setup.request(64);
    request.run.inputs = {folder};
    request.run.extensions = {"py"};
    request.rates = {0.25, 0.75};
    request.outDir = setup.dir.path / "out";
    request.formats = app::FigureFormats{{viz::ImageFormat::Png}, true};
    request.dpi = 40;
    BatchExporter batch;
    batch.start(request);
    const auto deadline = Clock::now() + std::chrono::seconds(300);
    double lastProgress = 0;
    bool monotonic = true;
    while (batch.busy() && Clock::now() < deadline) {
        monotonic = monotonic && batch.progress() >= lastProgress;
        lastProgress = batch.progress();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    batch.join();
    std::string log;
    for (const auto& line : batch.takeLog())
        log += line.text + "\n";
    INFO(log);
    REQUIRE(batch.phase() == BatchExporter::Phase::Finished);
    CHECK(monotonic);
    CHECK(batch.progress() == Approx(1.0));
    for (const char* rate : {"rate-0.25", "rate-0.75"}) {
        const auto dir = request.outDir / rate;
        INFO(dir);
        CHECK(fs::exists(dir / "table1_main.csv"));
        CHECK(fs::exists(dir / "table1_main.md"));
        int runDirs = 0;
        for (const auto& entry : fs::directory_iterator(dir))
            if (entry.is_directory() && entry.path().filename().string().rfind("run-", 0) == 0) {
                ++runDirs;
                CHECK(fs::exists(entry.path() / "fig_decisions.png"));
                CHECK(fs::exists(entry.path() / "fig_overview.png"));
                CHECK(fs::exists(entry.path() / "summary.csv"));
            }
        CHECK(runDirs == 2);  // decoder.py and scanner.py; the binary file and encoder.js left out
    }
    // The two rates differ in Ours' realized rate.
    CHECK(testing::readText(request.outDir / "rate-0.25/table1_main.csv") !=
          testing::readText(request.outDir / "rate-0.75/table1_main.csv"));
    CHECK(batch.written().size() > 20);

    // Cancelled while evaluating: stops, says so, writes no rate folder.
    request.run.inputs = {setup.input};
    request.run.chunk = 32;
    request.outDir = setup.dir.path / "cancelled";
    batch.start(request);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const auto asked = Clock::now();
    batch.cancel();
    batch.join();
    CHECK(std::chrono::duration<double>(Clock::now() - asked).count() < 5.0);
    CHECK(batch.phase() == BatchExporter::Phase::Cancelled);
    CHECK_FALSE(fs::exists(request.outDir / "rate-0.25"));
}

TEST_CASE("studio: the worker loads a model once for runs on it, and again after it changes",
          "[studio]") {
    TinySetup setup;
    EvalWorker worker;
    auto request = setup.request(256);
    request.inputs = {"/usr/lib/python3.11/json/decoder.py"};
    request.database.clear();
    const auto runOnce = [&] {
        worker.start(request);
        worker.join();
        REQUIRE(worker.phase() == EvalWorker::Phase::Finished);
    };
    runOnce();
    runOnce();
    CHECK(worker.modelLoads() == 1);  // batch export evaluates file after file like this
    // A retrained checkpoint (newer file time) is loaded again.
    const auto checkpoint = setup.model / "ttt.safetensors";
    fs::last_write_time(checkpoint, fs::last_write_time(checkpoint) + std::chrono::seconds(5));
    runOnce();
    CHECK(worker.modelLoads() == 2);
}

namespace {

// The process's address space now (VmSize), in bytes.
std::uint64_t addressSpaceBytes() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmSize:", 0) == 0) return std::stoull(line.substr(7)) * 1024;
    return 0;
}

}  // namespace

TEST_CASE("studio: a run whose evaluation throws is stored as failed, with the units before it",
          "[studio]") {
#ifdef PONDER_SANITIZED
    SUCCEED("skipped: an address-space limit leaves no room for ASan's shadow memory");
#else
    // A real error mid-run: a 32,768-token unit's attention mask (4 GiB) does not fit under an
    // address-space limit 2 GiB above what the process holds, after a small file's unit did.
    auto options = testing::tinyModelOptions();
    options.layers = 1;
    options.positions = 32768;
    testing::TinyModel tiny(options, "ponder_studio_failed");
    const auto small = tiny.dir.path / "a_small.py", large = tiny.dir.path / "b_large.py";
    {
        std::ofstream a(small), b(large);
        for (int i = 0; i < 300; ++i)
            a << "y = 2\n";
        for (int i = 0; i < 7000; ++i)
            b << "x = 1\n";
    }
    RunRequest request;
    request.modelDir = tiny.model;
    request.inputs = {small, large};
    request.chunk = 32768;
    request.threads = 1;
    request.database = tiny.dir.path / "runs.sqlite";

    EvalWorker worker;
    rlimit previous{};
    REQUIRE(::getrlimit(RLIMIT_AS, &previous) == 0);
    rlimit limited = previous;
    limited.rlim_cur = rlim_t(addressSpaceBytes() + (std::uint64_t(2) << 30));
    REQUIRE(::setrlimit(RLIMIT_AS, &limited) == 0);
    worker.start(request);
    worker.join();
    ::setrlimit(RLIMIT_AS, &previous);

    CHECK(worker.phase() == EvalWorker::Phase::Failed);
    std::string errors;
    for (const auto& line : worker.take().log)
        if (line.level == LogLine::Level::Error) errors += line.text + "\n";
    CHECK(errors == "out of memory\n");
    const auto runs = core::RunStore(request.database).listRuns();
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].status == core::RunStatus::Failed);
    CHECK(runs[0].units == 1);
#endif
}
