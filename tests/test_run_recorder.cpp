// core::RunRecorder, the run lifecycle both front ends use: batches committed as they fill,
// one ending per run (complete, cancelled, failed whatever was thrown), store errors either
// thrown (CLI) or reported while the run goes on (studio). A LibTorch error thrown mid-run is
// tested in test_evaluator.cpp, which links Torch.
#include <catch2/catch.hpp>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/store/run_recorder.h"
#include "core/store/run_store.h"
#include "core/util/errors.h"
#include "tests/test_support.h"

namespace fs = std::filesystem;
using ponder::testing::TempDir;
using namespace ponder::core;

namespace {

RunDescription description() {
    RunDescription run;
    run.modelDir = "/models/tiny";
    run.mode = "file";
    run.chunk = 64;
    run.device = "cpu";
    run.startedAt = "2024-05-01T12:00:00Z";
    return run;
}

// Unit i of one file: advantage i/10, the signal rising with it.
UnitRecord unitAt(std::int64_t i) {
    UnitRecord u;
    u.unit = i;
    u.fileIndex = 0;
    u.file = "a.py";
    u.tokenStart = 64 * i;
    u.tokens = 64;
    u.lossSkip = 3.0;
    u.lossUpdate = 3.0 - 0.1 * double(i);
    u.advantage = u.lossSkip - u.lossUpdate;
    u.reconStep0 = u.reconInit = 1.0 + double(i);
    return u;
}

RunSummary onlyRun(const fs::path& database) {
    StoreOptions options;
    options.create = false;
    const auto runs = RunStore(database, options).listRuns();
    REQUIRE(runs.size() == 1);
    return runs.front();
}

RecorderOptions storedIn(const fs::path& database, std::size_t batchUnits = 32) {
    RecorderOptions options;
    options.database = database;
    options.batchUnits = batchUnits;
    options.batchAge = std::chrono::hours(1);  // batches close by size only, deterministically
    return options;
}

}  // namespace

TEST_CASE("store: a recorded run commits each full batch and ends complete with its policies",
          "[recorder]") {
    TempDir dir("ponder_recorder");
    const auto db = dir.path / "runs.sqlite";
    RunRecorder recorder(AnalysisSettings{}, storedIn(db, 4));
    recorder.begin(description(), EvalPlan{});
    REQUIRE(recorder.runId());
    for (std::int64_t i = 0; i < 3; ++i)
        recorder.add(unitAt(i));
    CHECK(onlyRun(db).units == 0);  // a batch of 4 is not full yet
    recorder.add(unitAt(3));
    CHECK(onlyRun(db).units == 4);
    CHECK(onlyRun(db).status == RunStatus::Running);
    for (std::int64_t i = 4; i < 10; ++i)
        recorder.add(unitAt(i));
    CHECK(onlyRun(db).units == 8);
    const auto analysis = recorder.finish(false, 1.5, 100);
    CHECK(analysis.table.size() == 10);
    const auto run = onlyRun(db);
    CHECK(run.units == 10);
    CHECK(run.status == RunStatus::Complete);
    const auto stored = RunStore(db).loadRun(*recorder.runId());
    // SKIP, UPDATE_1, Random, Oracle and Ours (recon-ema), each over every unit.
    REQUIRE(stored.policies.size() == 5);
    CHECK(stored.policies[3].name == "oracle");
    CHECK(stored.policies[3].decisions.size() == 10);
}

TEST_CASE(
    "store: a run whose Ours is a baseline, with baselines and repeats beside it, stores "
    "one row per policy",
    "[recorder]") {
    // `ponder eval --policy oracle --policy random --policy recon-ema --policy recon-ema`: the
    // store refused the second "oracle" row (UNIQUE) and the run ended failed.
    TempDir dir("ponder_recorder");
    const auto db = dir.path / "runs.sqlite";
    AnalysisSettings settings;
    settings.ours.name = "oracle";
    settings.extraPolicies = {"random", "recon-ema", "oracle", "recon-ema"};
    RunRecorder recorder(settings, storedIn(db));
    recorder.begin(description(), EvalPlan{});
    for (std::int64_t i = 0; i < 10; ++i)
        recorder.add(unitAt(i));
    const auto analysis = recorder.finish(false, 1.0, 100);
    // SKIP, UPDATE_1, Random Skip, Oracle, Ours (oracle), then recon-ema once.
    std::vector<std::string> methods;
    for (const auto& policy : analysis.policies)
        methods.push_back(policy.method);
    CHECK(methods == std::vector<std::string>{"SKIP", "UPDATE_1", "Random Skip", "Oracle", "Ours",
                                              methodName("recon-ema")});
    CHECK(onlyRun(db).status == RunStatus::Complete);
    std::vector<std::string> names;
    for (const auto& policy : RunStore(db).loadRun(*recorder.runId()).policies)
        names.push_back(policy.name);
    CHECK(names == std::vector<std::string>{"skip", "update", "random", "oracle", "recon-ema"});
}

TEST_CASE("store: a cancelled run keeps the units that arrived and ends cancelled", "[recorder]") {
    TempDir dir("ponder_recorder");
    const auto db = dir.path / "runs.sqlite";
    RecorderOptions options = storedIn(db);
    options.label = "half";
    RunRecorder recorder(AnalysisSettings{}, options);
    recorder.begin(description(), EvalPlan{});
    for (std::int64_t i = 0; i < 5; ++i)
        recorder.add(unitAt(i));
    recorder.finish(true, 0.5, 10);
    const auto run = onlyRun(db);
    CHECK(run.status == RunStatus::Cancelled);
    CHECK(run.units == 5);
    CHECK(run.label == "half");
}

TEST_CASE(
    "store: an exception between begin and finish leaves the run failed with every unit it got",
    "[recorder]") {
    TempDir dir("ponder_recorder");
    const auto db = dir.path / "runs.sqlite";
    try {
        RunRecorder recorder(AnalysisSettings{}, storedIn(db));
        recorder.begin(description(), EvalPlan{});
        for (std::int64_t i = 0; i < 3; ++i)
            recorder.add(unitAt(i));  // all three still pending (batch of 32)
        throw std::runtime_error("the evaluation broke");
    } catch (const std::runtime_error&) {
    }
    const auto run = onlyRun(db);
    CHECK(run.status == RunStatus::Failed);
    CHECK(run.units == 3);
}

TEST_CASE("store: a run that fails in its own finish is failed, not running", "[recorder]") {
    TempDir dir("ponder_recorder");
    const auto db = dir.path / "runs.sqlite";
    AnalysisSettings settings;
    settings.ours.name = "threshold";  // without a threshold: the replay in finish() throws
    {
        RunRecorder recorder(settings, storedIn(db));
        recorder.begin(description(), EvalPlan{});
        recorder.add(unitAt(0));
        CHECK_THROWS_AS(recorder.finish(false, 1, 1), InputError);
    }
    CHECK(onlyRun(db).status == RunStatus::Failed);
}

TEST_CASE("store: without a database nothing is stored and the analysis still comes back",
          "[recorder]") {
    RunRecorder recorder(AnalysisSettings{}, RecorderOptions{});
    recorder.begin(description(), EvalPlan{});
    CHECK_FALSE(recorder.storing());
    CHECK_FALSE(recorder.runId());
    for (std::int64_t i = 0; i < 4; ++i)
        recorder.add(unitAt(i));
    const auto analysis = recorder.finish(false, 1, 1);
    CHECK(recorder.units().size() == 4);
    // Oracle at rate 0.5 updates the two largest advantages (units 2, 3): 3.0 - (0.2 + 0.3)/4.
    CHECK(analysis.find("Oracle").summary.loss == Approx(3.0 - 0.5 / 4));
}

TEST_CASE("store: a store that cannot open is thrown to the CLI and reported to the studio",
          "[recorder]") {
    TempDir dir("ponder_recorder");
    const auto unreachable = dir.path / "missing-folder" / "runs.sqlite";
    CHECK_THROWS_AS(RunRecorder(AnalysisSettings{}, storedIn(unreachable)), StoreError);

    auto options = storedIn(unreachable);
    std::vector<std::string> reported;
    options.onStoreError = [&](const PonderError& error) {
        CHECK(error.kind() == ErrorKind::Store);
        reported.push_back(error.what());
    };
    RunRecorder recorder(AnalysisSettings{}, options);
    CHECK(reported.size() == 1);
    CHECK_FALSE(recorder.storing());
    recorder.begin(description(), EvalPlan{});
    recorder.add(unitAt(0));
    CHECK(recorder.finish(false, 1, 1).table.size() == 1);
    CHECK(reported.size() == 1);
}
