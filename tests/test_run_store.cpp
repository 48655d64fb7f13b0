// Tests for the SQLite run store: round trips, migrations from v1, refusal of foreign, newer
// and damaged files, readers beside a writer, lock timeouts. (Crash safety: store/*.sh.)
#include <SQLiteCpp/SQLiteCpp.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <thread>

#include "core/gating/policies.h"
#include "core/store/run_store.h"
#include "core/util/errors.h"
#include "tests/test_support.h"

namespace fs = std::filesystem;
using ponder::testing::readText;
using ponder::testing::TempDir;
using namespace ponder::core;

namespace {

RunDescription sampleRun() {
    RunDescription run;
    run.modelDir = "/models/tiny";
    run.mode = "file";
    run.chunk = 256;
    run.device = "cpu";
    run.threads = 2;
    run.inputs = {"a.py", "src/"};
    run.files = 2;
    run.tokens = 1234;
    run.droppedTokens = 17;
    run.skippedFiles = {"src/blob.bin: binary"};
    run.rate = 0.25;
    run.backboneSha256 = std::string(64, 'a');
    run.tttConfigJson = R"({"format": "ponderttt-ttt/1", "heads": 2})";
    run.startedAt = "2024-05-01T12:00:00Z";
    run.shuffle = true;
    run.causalK = -1;
    run.dtype = "bfloat16";
    return run;
}

UnitRecord sampleUnit(std::int64_t index, bool tokenLosses = true) {
    UnitRecord u;
    u.unit = index;
    u.fileIndex = index % 2;
    u.file = index % 2 ? "src/b.py" : "a.py";
    u.batchIndex = index;
    u.chunkIndex = index % 2;
    u.tokenStart = 256 * index;
    u.tokens = 256;
    u.sequences = 1;
    u.lineStart = 10 * index + 1;
    u.lineEnd = 10 * index + 9;
    u.lossSkip = 2.5 + 0.1 * index;
    u.lossUpdate = 2.0 + 0.1 * index;
    u.advantage = u.lossSkip - u.lossUpdate;
    u.reconStep0 = 0.75 + index;
    u.reconInit = 0.8 + index;
    u.reconStep1 = 0.5 + index;
    u.improvement = u.reconStep0 - u.reconStep1;
    u.entropy = 1.25;
    u.confidence = 0.4;
    u.entropyUpdate = 1.125;
    u.confidenceUpdate = 0.45;
    u.lossStatic = u.lossUpdate + 0.01 * double(index % 3);  // v8: the static path's loss
    u.seconds = 0.01 * index;
    if (tokenLosses) {
        for (int t = 0; t < 255; ++t) {
            u.tokenLossSkip.push_back(1.0f / static_cast<float>(t + 1) + index);
            u.tokenLossUpdate.push_back(-3.5e-7f * static_cast<float>(t) - index);
        }
    }
    return u;
}

std::vector<UnitRecord> sampleUnits(std::int64_t from, std::int64_t count) {
    std::vector<UnitRecord> units;
    for (std::int64_t i = from; i < from + count; ++i)
        units.push_back(sampleUnit(i));
    return units;
}

// Equal, with NaN equal to NaN (SQLite stores NaN as NULL; the store must give it back).
bool sameDouble(double a, double b) {
    return (std::isnan(a) && std::isnan(b)) || a == b;
}

bool sameBits(const std::vector<float>& a, const std::vector<float>& b) {
    // data() of an empty vector may be null, and memcmp on null is undefined even for 0 bytes.
    return a.size() == b.size() &&
           (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

void checkSameUnit(const UnitRecord& a, const UnitRecord& b) {
    CHECK(a.unit == b.unit);
    CHECK(a.fileIndex == b.fileIndex);
    CHECK(a.file == b.file);
    CHECK(a.batchIndex == b.batchIndex);
    CHECK(a.chunkIndex == b.chunkIndex);
    CHECK(a.tokenStart == b.tokenStart);
    CHECK(a.tokens == b.tokens);
    CHECK(a.sequences == b.sequences);
    CHECK(a.lineStart == b.lineStart);
    CHECK(a.lineEnd == b.lineEnd);
    CHECK(sameDouble(a.lossSkip, b.lossSkip));
    CHECK(sameDouble(a.lossUpdate, b.lossUpdate));
    CHECK(sameDouble(a.advantage, b.advantage));
    CHECK(sameDouble(a.reconStep0, b.reconStep0));
    CHECK(sameDouble(a.reconInit, b.reconInit));
    CHECK(sameDouble(a.reconStep1, b.reconStep1));
    CHECK(sameDouble(a.improvement, b.improvement));
    CHECK(sameDouble(a.entropy, b.entropy));
    CHECK(sameDouble(a.confidence, b.confidence));
    CHECK(sameDouble(a.entropyUpdate, b.entropyUpdate));
    CHECK(sameDouble(a.confidenceUpdate, b.confidenceUpdate));
    CHECK(sameDouble(a.lossStatic, b.lossStatic));
    CHECK(sameDouble(a.seconds, b.seconds));
    CHECK(sameBits(a.tokenLossSkip, b.tokenLossSkip));  // float32 blobs are bit-exact
    CHECK(sameBits(a.tokenLossUpdate, b.tokenLossUpdate));
}

template <typename F>
StoreError storeErrorOf(F&& f) {
    try {
        f();
    } catch (const StoreError& e) {
        return e;
    }
    FAIL("expected a StoreError");
    return StoreError("", "");
}

}  // namespace

TEST_CASE("store: a new database is created at the current schema version in WAL mode", "[store]") {
    TempDir dir("ponder_store_test");
    const fs::path path = dir.path / "runs.sqlite";
    {
        RunStore store(path);
        CHECK(store.schemaVersion() == currentSchemaVersion());
        CHECK(store.listRuns().empty());
        CHECK(store.integrityCheck() == "ok");
    }
    SQLite::Database raw(path);
    CHECK(raw.execAndGet("PRAGMA journal_mode").getString() == "wal");
    SQLite::Statement versions(raw, "SELECT version FROM schema_version ORDER BY version");
    std::vector<int> applied;
    while (versions.executeStep())
        applied.push_back(versions.getColumn(0).getInt());
    CHECK(applied == std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8});
    // Reopening an up-to-date database changes nothing.
    RunStore again(path);
    CHECK(again.schemaVersion() == currentSchemaVersion());
}

TEST_CASE("store: a run round-trips with units, token losses, files and policies", "[store]") {
    TempDir dir("ponder_store_test");
    RunStore store(dir.path / "runs.sqlite");
    const std::vector<StoredInputFile> files = {
        {0, "a.py", 1000, 300, std::string(64, 'b'), {}, {}, {}},
        {1, "src/b.py", 2000, 600, "", {}, {}, {}}};
    const std::uint64_t seed = 0xfedcba9876543210ull;  // above INT64_MAX: bits must survive
    const std::string settings = R"({"mode": "file", "chunk": 256, "shuffle": false})";
    const std::int64_t id = store.beginRun(sampleRun(), settings, seed, files);

    std::vector<UnitRecord> units = sampleUnits(0, 3);
    units[1].reconStep1 = std::numeric_limits<double>::quiet_NaN();
    units[1].improvement = std::numeric_limits<double>::infinity();
    units[2].tokenLossSkip.clear();  // paper-mode-like unit: no per-token rows
    units[2].tokenLossUpdate.clear();
    units[0].tokenLossSkip[3] = std::numeric_limits<float>::quiet_NaN();
    store.appendUnits(id, {units[0], units[1]});
    store.appendUnits(id, {units[2]});
    store.appendUnits(id, {});  // an empty batch is a no-op

    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<StoredPolicy> policies = {{"skip", "{}", {0, 0, 0}, {}, {}},
                                          {"recon-ema",
                                           R"({"rate": 0.25, "alpha": 0.1})",
                                           {1, 0, 1},
                                           {nan, 0.5, 0.625},
                                           {1.0, 0.5, 0.6666}}};
    store.savePolicies(id, {{"old", "{}", {1, 1, 1}, {}, {}}});
    store.savePolicies(id, policies);  // replaces "old"
    store.finishRun(id, RunStatus::Complete, 12.5, 98.75);

    const StoredRun run = store.loadRun(id);
    const RunDescription want = sampleRun();
    const RunDescription& got = run.description;
    CHECK(got.modelDir == want.modelDir);
    CHECK(got.mode == want.mode);
    CHECK(got.chunk == want.chunk);
    CHECK(got.device == want.device);
    CHECK(got.threads == want.threads);
    CHECK(got.inputs == want.inputs);
    CHECK(got.files == want.files);
    CHECK(got.tokens == want.tokens);
    CHECK(got.droppedTokens == want.droppedTokens);
    CHECK(got.skippedFiles == want.skippedFiles);
    CHECK(got.rate == want.rate);
    CHECK(got.backboneSha256 == want.backboneSha256);
    CHECK(got.tttConfigJson == want.tttConfigJson);
    CHECK(got.startedAt == want.startedAt);
    CHECK(got.shuffle);
    CHECK(got.causalK == -1);
    CHECK(got.dtype == "bfloat16");
    CHECK(got.seconds == 12.5);
    CHECK(got.tokensPerSecond == 98.75);
    CHECK_FALSE(got.cancelled);
    CHECK(run.settingsJson == settings);
    CHECK(run.seed == seed);
    CHECK(run.summary.status == RunStatus::Complete);
    CHECK_FALSE(run.summary.finishedAt.empty());
    CHECK(run.summary.units == 3);

    REQUIRE(run.inputFiles.size() == 2);
    CHECK(run.inputFiles[0].path == "a.py");
    CHECK(run.inputFiles[0].bytes == 1000);
    CHECK(run.inputFiles[0].tokens == 300);
    CHECK(run.inputFiles[0].sha256 == std::string(64, 'b'));
    CHECK(run.inputFiles[1].fileIndex == 1);
    CHECK(run.inputFiles[1].sha256.empty());

    REQUIRE(run.units.size() == 3);
    for (std::size_t i = 0; i < 3; ++i)
        checkSameUnit(run.units[i], units[i]);
    CHECK(std::isnan(run.units[0].tokenLossSkip[3]));

    REQUIRE(run.policies.size() == 2);
    CHECK(run.policies[0].name == "skip");
    CHECK(run.policies[0].decisions == policies[0].decisions);
    CHECK(run.policies[0].threshold.empty());
    CHECK(run.policies[1].name == "recon-ema");
    CHECK(run.policies[1].specJson == policies[1].specJson);
    CHECK(run.policies[1].decisions == policies[1].decisions);
    REQUIRE(run.policies[1].threshold.size() == 3);
    CHECK(std::isnan(run.policies[1].threshold[0]));
    CHECK(run.policies[1].threshold[2] == 0.625);
    CHECK(run.policies[1].rateEma == policies[1].rateEma);
}

TEST_CASE("store: a generated stream is stored whole with its tokens, a file by reference",
          "[store]") {
    TempDir dir("ponder_store_test");
    const fs::path path = dir.path / "runs.sqlite";
    // Schema 7 on a file written by version 6: the stream columns are added, empty for old rows.
    createStoreAtVersion(path, 6);
    RunStore store(path);
    StoredInputFile stream{0, "generation: prompt.py", 9, 3, std::string(64, 'c'), {}, {}, {}};
    stream.text = std::string("a\xE2\x82") + "\xAC\nb";  // a token may end mid-character
    stream.tokenIds = {97, 8364, -1 + 2147483647};
    stream.tokenStarts = {0, 1, 5};
    const StoredInputFile file{1, "x.py", 100, 30, "", {}, {}, {}};
    const std::int64_t id = store.beginRun(sampleRun(), "", 1, {stream, file});
    const auto loaded = store.loadRun(id).inputFiles;
    REQUIRE(loaded.size() == 2);
    CHECK(loaded[0].text == stream.text);
    CHECK(loaded[0].tokenIds == stream.tokenIds);
    CHECK(loaded[0].tokenStarts == stream.tokenStarts);
    CHECK(loaded[1].text.empty());
    CHECK(loaded[1].tokenIds.empty());
    CHECK(loaded[1].tokenStarts.empty());
}

TEST_CASE("store: listRuns summarises runs, finishRun and setLabel update them", "[store]") {
    TempDir dir("ponder_store_test");
    RunStore store(dir.path / "runs.sqlite");
    const std::int64_t first = store.beginRun(sampleRun(), "", 1);
    store.appendUnits(first, sampleUnits(0, 4));
    store.finishRun(first, RunStatus::Cancelled, 3.0, 10.0);
    RunDescription paper = sampleRun();
    paper.mode = "paper";
    paper.startedAt.clear();  // the store stamps it
    const std::int64_t second = store.beginRun(paper, "{}", 2);
    store.appendUnits(second, sampleUnits(0, 2));
    store.setLabel(second, "baseline, 16 windows");

    const auto runs = store.listRuns();
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].id == first);
    CHECK(runs[0].status == RunStatus::Cancelled);
    CHECK(runs[0].units == 4);
    CHECK(runs[0].files == 2);
    CHECK(runs[0].tokens == 1234);
    CHECK(runs[0].seconds == 3.0);
    CHECK(runs[0].mode == "file");
    CHECK(runs[0].modelDir == "/models/tiny");
    CHECK(runs[0].label.empty());
    CHECK(runs[1].id == second);
    CHECK(runs[1].status == RunStatus::Running);
    CHECK(runs[1].finishedAt.empty());
    CHECK(runs[1].startedAt.size() == 20);  // 2024-05-01T12:00:00Z
    CHECK(runs[1].mode == "paper");
    CHECK(runs[1].units == 2);
    CHECK(runs[1].label == "baseline, 16 windows");
    CHECK(store.loadRun(first).description.cancelled);
    CHECK(std::string(runStatusName(RunStatus::Failed)) == "failed");
}

TEST_CASE("store: resolveRunId takes latest or an id and refuses unknown ones with a hint",
          "[store]") {
    TempDir dir("ponder_store_test");
    const fs::path path = dir.path / "runs.sqlite";
    RunStore store(path);
    const StoreError empty = storeErrorOf([&] { store.resolveRunId("latest"); });
    CHECK_THAT(empty.what(), Catch::Contains("no runs"));
    const std::int64_t a = store.beginRun(sampleRun(), "", 1);
    const std::int64_t b = store.beginRun(sampleRun(), "", 1);
    CHECK(store.resolveRunId("latest") == b);
    CHECK(store.resolveRunId(std::to_string(a)) == a);
    const StoreError unknown = storeErrorOf([&] { store.resolveRunId("12"); });
    CHECK_THAT(unknown.what(), Catch::Contains("no run 12"));
    CHECK_THAT(unknown.hint(), Catch::Contains("ponder runs --db " + path.string()));
    for (const char* bad : {"", "abc", "3x", "-", " 1"})
        CHECK_THROWS_AS(store.resolveRunId(bad), StoreError);
    CHECK_THROWS_AS(store.loadRun(99), StoreError);
}

TEST_CASE("store: a v1 database is upgraded with its data kept and v2 tables usable", "[store]") {
    TempDir dir("ponder_store_test");
    const fs::path path = dir.path / "old.sqlite";
    createStoreAtVersion(path, 1);
    {
        // What an older ponder wrote: v1 columns only, no label, no per-token table.
        SQLite::Database raw(path, SQLite::OPEN_READWRITE);
        CHECK_FALSE(raw.tableExists("unit_token_loss"));
        raw.exec(
            "INSERT INTO run (id, model_dir, backbone_sha256, ttt_json, settings_json, seed, "
            "mode, chunk, rate, device, threads, inputs_json, skipped_json, files, tokens, "
            "dropped_tokens, started_at, finished_at, status, seconds, tokens_per_second) "
            "VALUES (5, 'old-model', 'abc', '{}', '{\"seed\": 9}', 9, 'file', 512, 0.5, 'cpu', "
            "1, '[\"x.py\"]', '[]', 1, 1024, 0, '2023-01-01T00:00:00Z', "
            "'2023-01-01T00:01:00Z', 'complete', 60.0, 17.0)");
        raw.exec(
            "INSERT INTO unit VALUES (5, 0, 0, 'x.py', 0, 0, 0, 512, 1, 1, 40, 2.0, 1.5, 0.5, "
            "0.7, 0.8, 0.6, 0.1, 1.1, 0.3, 0.02)");
        raw.exec(
            "INSERT INTO policy (run_id, position, name, spec_json, decisions, threshold, "
            "rate_ema) VALUES (5, 0, 'update', '{}', x'01', x'', x'')");
    }
    RunStore store(path);
    CHECK(store.schemaVersion() == currentSchemaVersion());
    CHECK(store.integrityCheck() == "ok");
    const StoredRun old = store.loadRun(5);
    CHECK(old.summary.label.empty());  // the new columns' defaults
    CHECK_FALSE(old.description.shuffle);
    CHECK(old.description.causalK == 0);
    CHECK(old.description.dtype == "float32");  // v6: a run stored before it computed in F32
    CHECK(old.summary.status == RunStatus::Complete);
    CHECK(old.description.modelDir == "old-model");
    CHECK(old.description.inputs == std::vector<std::string>{"x.py"});
    CHECK(old.seed == 9);
    REQUIRE(old.units.size() == 1);
    CHECK(old.units[0].lossSkip == 2.0);
    CHECK(old.units[0].lineEnd == 40);
    CHECK(old.units[0].tokenLossSkip.empty());
    // v4's UPDATE-path entropy and confidence: unknown for a unit stored before them.
    CHECK(std::isnan(old.units[0].entropyUpdate));
    CHECK(std::isnan(old.units[0].confidenceUpdate));
    // v8's static path: unknown for a unit stored before it, so its advantage does not split.
    CHECK(std::isnan(old.units[0].lossStatic));
    CHECK(std::isnan(old.units[0].advInner()));
    CHECK_FALSE(unitTableFrom(old.units).hasSplit());
    REQUIRE(old.policies.size() == 1);
    CHECK(old.policies[0].decisions == std::vector<std::uint8_t>{1});

    // The v2 additions work on the upgraded file, for old and new runs alike.
    store.setLabel(5, "from v1");
    const std::int64_t fresh = store.beginRun(sampleRun(), "", 3);
    store.appendUnits(fresh, sampleUnits(0, 2));
    CHECK(store.listRuns().front().label == "from v1");
    checkSameUnit(store.loadRun(fresh).units[1], sampleUnit(1));

    SQLite::Database raw(path);
    CHECK(raw.execAndGet("SELECT COUNT(*) FROM schema_version").getInt() == currentSchemaVersion());
}

TEST_CASE("store: a v4 database keeps its trainings and points through v5's table rebuild",
          "[store]") {
    TempDir dir("ponder_store_test");
    const fs::path old = dir.path / "v4.sqlite";
    createStoreAtVersion(old, 4);
    {
        SQLite::Database raw(old, SQLite::OPEN_READWRITE);
        raw.exec(
            "INSERT INTO training VALUES (7, 'ttt', '/out/m', '{}', 'cpu', 2, "
            "'2026-01-01T00:00:00Z', NULL, 'complete')");
        raw.exec(
            "INSERT INTO training_point VALUES (7, 1, 5.0, 4.9, 3e-4, 1.0, 900, 1.0), "
            "(7, 2, 4.0, 3.9, 3e-4, 0.9, 900, 2.0)");
    }
    RunStore store(old);
    CHECK(store.schemaVersion() == currentSchemaVersion());
    CHECK(store.integrityCheck() == "ok");
    const auto curve = store.trainingCurve("ttt", "/out/m");
    REQUIRE(curve.size() == 2);
    CHECK(curve[1].loss == 4.0);
    CHECK(std::isnan(curve[1].updateRate));  // not recorded before v5
    // v5: gate trainings with their update rate; the cascade still ties points to trainings.
    const auto gate = store.beginTraining("gate", "/out/g", "{}", "cpu", 2);
    TrainingPoint point{1, 0.6, 5.0, 1e-3, 0.3, 1000, 0.1};
    point.updateRate = 0.25;
    store.appendTrainingPoints(gate, {point});
    CHECK(store.trainingCurve("gate", "/out/g").at(0).updateRate == 0.25);
    SQLite::Database raw(old, SQLite::OPEN_READWRITE);
    raw.exec("PRAGMA foreign_keys = ON");
    raw.exec("DELETE FROM training WHERE id = 7");
    CHECK(raw.execAndGet("SELECT COUNT(*) FROM training_point WHERE training_id = 7").getInt() ==
          0);
}

TEST_CASE("store: a migration step that fails is rolled back whole", "[store]") {
    TempDir dir("ponder_store_test");
    const fs::path path = dir.path / "odd.sqlite";
    createStoreAtVersion(path, 1);
    {
        // A table in the way of step 2's CREATE TABLE, after its ALTER TABLE has run.
        SQLite::Database raw(path, SQLite::OPEN_READWRITE);
        raw.exec("CREATE TABLE unit_token_loss (x)");
    }
    CHECK_THROWS_AS(RunStore(path), StoreError);
    SQLite::Database raw(path);
    CHECK(raw.execAndGet("SELECT MAX(version) FROM schema_version").getInt() == 1);
    // Step 2's ALTER TABLE went with the rest of the step.
    CHECK(raw.execAndGet("SELECT COUNT(*) FROM pragma_table_info('run') WHERE name = 'label'")
              .getInt() == 0);
}

TEST_CASE("store: a database from a newer ponder is refused with a hint, untouched", "[store]") {
    TempDir dir("ponder_store_test");
    const fs::path path = dir.path / "future.sqlite";
    { RunStore store(path); }
    {
        SQLite::Database raw(path, SQLite::OPEN_READWRITE);
        raw.exec("INSERT INTO schema_version VALUES (99, '2030-01-01T00:00:00Z', 'future')");
    }
    const std::string before = readText(path);
    const StoreError e = storeErrorOf([&] { RunStore store(path); });
    CHECK_THAT(e.what(), Catch::Contains("99"));
    CHECK_THAT(e.hint(), Catch::Contains("newer ponder"));
    CHECK(readText(path) == before);
}

TEST_CASE("store: non-SQLite, corrupted and foreign files are refused and left untouched",
          "[store]") {
    TempDir dir("ponder_store_test");
    SECTION("a text file") {
        const fs::path path = dir.path / "notes.txt";
        const std::string text = "these are my notes, not a database\n" + std::string(5000, 'x');
        std::ofstream(path, std::ios::binary) << text;
        const StoreError e = storeErrorOf([&] { RunStore store(path); });
        CHECK_THAT(e.what(), Catch::Contains("not a SQLite database or is corrupted"));
        CHECK_THAT(e.hint(), Catch::Contains("untouched"));
        CHECK(readText(path) == text);
    }
    SECTION("a database with a damaged first page") {
        const fs::path path = dir.path / "damaged.sqlite";
        {
            RunStore store(path);
            store.appendUnits(store.beginRun(sampleRun(), "", 1), sampleUnits(0, 20));
        }
        std::string bytes = readText(path);
        REQUIRE(bytes.size() > 4096);
        for (std::size_t i = 100; i < 4096; ++i)
            bytes[i] = static_cast<char>(0xA5);
        std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
        CHECK_THROWS_AS(RunStore(path), StoreError);
        CHECK(readText(path) == bytes);
    }
    SECTION("another program's SQLite database") {
        const fs::path path = dir.path / "other.sqlite";
        {
            SQLite::Database raw(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
            raw.exec("CREATE TABLE contacts (name TEXT)");
        }
        const std::string before = readText(path);
        const StoreError e = storeErrorOf([&] { RunStore store(path); });
        CHECK_THAT(e.what(), Catch::Contains("another program"));
        CHECK(readText(path) == before);
        SQLite::Database raw(path);
        CHECK_FALSE(raw.tableExists("schema_version"));
    }
}

TEST_CASE("store: missing, unwritable and directory paths give a clear StoreError", "[store]") {
    TempDir dir("ponder_store_test");
    const StoreError missing =
        storeErrorOf([&] { RunStore store(dir.path / "none.sqlite", StoreOptions{false}); });
    CHECK_THAT(missing.what(), Catch::Contains("no run database"));
    CHECK_FALSE(fs::exists(dir.path / "none.sqlite"));

    const StoreError noFolder =
        storeErrorOf([&] { RunStore store(dir.path / "no" / "such" / "runs.sqlite"); });
    CHECK_THAT(noFolder.hint(), Catch::Contains("folder"));

    std::ofstream(dir.path / "plain") << "x";  // a file where a folder should be
    CHECK_THROWS_AS(RunStore(dir.path / "plain" / "runs.sqlite"), StoreError);

    const StoreError folder = storeErrorOf([&] { RunStore store(dir.path); });
    CHECK_THAT(folder.what(), Catch::Contains("directory"));
}

TEST_CASE("store: bad writes are refused whole and leave earlier batches intact", "[store]") {
    TempDir dir("ponder_store_test");
    RunStore store(dir.path / "runs.sqlite");
    const std::int64_t id = store.beginRun(sampleRun(), "", 1);
    store.appendUnits(id, sampleUnits(0, 3));
    // Unit 2 again inside a new batch: the whole batch is rolled back, units 3 and 4 too.
    auto batch = sampleUnits(3, 2);
    batch.push_back(sampleUnit(2));
    CHECK_THROWS_AS(store.appendUnits(id, batch), StoreError);
    CHECK(store.loadRun(id).units.size() == 3);
    store.appendUnits(id, sampleUnits(3, 2));  // the connection is usable afterwards
    CHECK(store.loadRun(id).units.size() == 5);

    CHECK_THROWS_AS(store.appendUnits(id + 1, sampleUnits(0, 1)), StoreError);
    CHECK_THROWS_AS(store.savePolicies(id + 1, {}), StoreError);
    CHECK_THROWS_AS(store.finishRun(id + 1, RunStatus::Complete, 1, 1), StoreError);
    CHECK_THROWS_AS(store.setLabel(id + 1, "x"), StoreError);
    CHECK_THROWS_AS(store.beginRun(sampleRun(), "{not json", 1), StoreError);
    CHECK(store.listRuns().size() == 1);
    // Duplicate policy names are a caller bug; the previous policies stay.
    store.savePolicies(id, {{"skip", "{}", {0}, {}, {}}});
    CHECK_THROWS_AS(store.savePolicies(id, {{"a", "", {1}, {}, {}}, {"a", "", {0}, {}, {}}}),
                    StoreError);
    REQUIRE(store.loadRun(id).policies.size() == 1);
    CHECK(store.loadRun(id).policies[0].name == "skip");
}

TEST_CASE("store: readers list and load runs while another connection appends units", "[store]") {
    TempDir dir("ponder_store_test");
    const fs::path path = dir.path / "runs.sqlite";
    RunStore writer(path);
    const std::int64_t id = writer.beginRun(sampleRun(), "", 1);
    constexpr std::int64_t kBatch = 8, kBatches = 40;

    SECTION("an open write transaction does not block readers, who see committed data only") {
        writer.appendUnits(id, sampleUnits(0, kBatch));
        SQLite::Database raw(path, SQLite::OPEN_READWRITE);
        SQLite::Transaction pending(raw, SQLite::TransactionBehavior::IMMEDIATE);
        raw.exec("UPDATE run SET label = 'uncommitted'");
        // Blocked, the reader would wait out its 3 s busy timeout and throw; it returns at once.
        RunStore reader(path, StoreOptions{false, 3000});
        const auto start = std::chrono::steady_clock::now();
        const auto runs = reader.listRuns();
        CHECK(reader.loadRun(id).units.size() == kBatch);
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(2000));
        REQUIRE(runs.size() == 1);
        CHECK(runs[0].label.empty());
    }
    SECTION("a writer thread appends batches while the reader polls") {
        std::atomic<bool> done{false};
        std::thread thread([&] {
            for (std::int64_t b = 0; b < kBatches; ++b)
                writer.appendUnits(id, sampleUnits(b * kBatch, kBatch));
            done = true;
        });
        RunStore reader(path, StoreOptions{false});
        std::int64_t seen = 0, polls = 0;
        bool consistent = true;
        while (!done || polls == 0) {
            const StoredRun run = reader.loadRun(id);
            const auto units = static_cast<std::int64_t>(run.units.size());
            // A snapshot holds whole batches, never fewer units than an earlier one, and
            // agrees with listRuns taken after it.
            consistent = consistent && units % kBatch == 0 && units >= seen &&
                         run.summary.units == units && reader.listRuns()[0].units >= units;
            seen = units;
            ++polls;
        }
        thread.join();
        CHECK(consistent);
        CHECK(polls > 0);
        CHECK(reader.loadRun(id).units.size() == kBatch * kBatches);
        CHECK(reader.integrityCheck() == "ok");
    }
}

TEST_CASE("store: a write lock held beyond the busy timeout is a 'locked' StoreError", "[store]") {
    TempDir dir("ponder_store_test");
    const fs::path path = dir.path / "runs.sqlite";
    RunStore store(path, StoreOptions{true, 300});
    const std::int64_t id = store.beginRun(sampleRun(), "", 1);
    {
        SQLite::Database other(path, SQLite::OPEN_READWRITE);
        SQLite::Transaction holding(other, SQLite::TransactionBehavior::IMMEDIATE);
        other.exec("UPDATE run SET label = 'held'");
        const auto start = std::chrono::steady_clock::now();
        const StoreError e = storeErrorOf([&] { store.appendUnits(id, sampleUnits(0, 2)); });
        const auto waited = std::chrono::steady_clock::now() - start;
        CHECK_THAT(e.what(), Catch::Contains("is locked"));
        CHECK_THAT(inCommandLineWords(e.rawHint()), Catch::Contains("another --db file"));
        CHECK(waited >= std::chrono::milliseconds(250));  // it did wait for the lock
        CHECK(waited < std::chrono::seconds(5));          // and gave up instead of hanging
        CHECK_THROWS_AS(store.finishRun(id, RunStatus::Complete, 1, 1), StoreError);
    }  // the other connection rolls back and lets go
    store.appendUnits(id, sampleUnits(0, 2));
    CHECK(store.loadRun(id).units.size() == 2);
}

TEST_CASE("store: training curves join resumed invocations by step", "[store]") {
    TempDir dir("ponder_store_test");
    RunStore store(dir.path / "runs.sqlite");
    const auto first = store.beginTraining("base", "/out/m", R"({"lr": 0.001})", "cpu", 2);
    store.appendTrainingPoints(
        first, {{1, 9.0, 9.0, 1e-4, 2.0, 100, 1}, {2, 8.0, 8.0, 2e-4, 1.5, 100, 2}});
    store.finishTraining(first, RunStatus::Cancelled);
    // Resumed from the step-1 checkpoint: step 2 is done again and replaces the first value.
    const auto second = store.beginTraining("base", "/out/m", "{}", "cpu", 2);
    store.appendTrainingPoints(second,
                               {{2, 7.5, 7.5, 2e-4, 1.0, 90, 1}, {3, 7.0, 7.0, 3e-4, 1.0, 90, 2}});
    store.beginTraining("ttt", "/out/m", "{}", "cpu", 2);  // another kind: not in the curve
    const auto curve = store.trainingCurve("base", "/out/m");
    REQUIRE(curve.size() == 3);
    CHECK(curve[0].loss == 9.0);
    CHECK(curve[1].loss == 7.5);
    CHECK(curve[2].step == 3);
    CHECK(store.trainingCurve("base", "/other").empty());
    CHECK_THROWS_AS(store.beginTraining("bogus", "/out/m", "{}", "cpu", 1), StoreError);
}
