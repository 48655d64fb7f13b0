// The studio's state layer without a window: the tune settings replay over cached units
// (slider → decisions change), bootstrap CIs and a compared run in the summary, bad settings
// become an error state, settings round trip, frame statistics, datasets and batch rates.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "app/studio/state/batch_export.h"
#include "app/studio/state/datasets.h"
#include "app/studio/ui/frame_stats.h"
#include "app/studio/state/settings.h"
#include "app/studio/state/studio_state.h"
#include "core/util/errors.h"
#include "tests/test_support.h"

using namespace ponder;
using namespace ponder::studio;

namespace {

// Units whose advantage grows with the index and whose signal tracks it.
std::vector<core::UnitRecord> syntheticUnits(int n) {
    std::vector<core::UnitRecord> units;
    for (int i = 0; i < n; ++i) {
        core::UnitRecord u;
        u.unit = i;
        u.fileIndex = 0;
        u.tokenStart = i * 16;
        u.tokens = 16;
        u.lineStart = 1 + i * 2;
        u.lineEnd = 2 + i * 2;
        u.lossSkip = 3.0;
        u.advantage = 0.01 * ((i * 7) % n);
        u.lossUpdate = u.lossSkip - u.advantage;
        u.reconStep0 = 1.0 + u.advantage;
        u.reconInit = u.reconStep0;
        u.reconStep1 = u.reconStep0 - 0.1;
        u.improvement = 0.1;
        u.entropy = 2.0;
        u.confidence = 0.3;
        units.push_back(u);
    }
    return units;
}

int updates(const std::vector<std::uint8_t>& decisions) {
    int n = 0;
    for (auto d : decisions)
        n += d;
    return n;
}

}  // namespace

TEST_CASE("studio: moving the rate slider replays the decisions", "[studio]") {
    StudioState state;
    state.reset({});
    state.setUnits(syntheticUnits(40));
    auto tune = state.tune();
    tune.policy = "oracle";
    tune.rate = 0.25;
    state.setTune(tune);
    REQUIRE(state.replayError().empty());
    CHECK(updates(state.ours().decisions) == 10);
    const auto before = state.version();
    tune.rate = 0.75;
    state.setTune(tune);
    CHECK(state.version() == before + 1);
    CHECK(updates(state.ours().decisions) == 30);
    state.setTune(tune);  // unchanged settings do not replay
    CHECK(state.version() == before + 1);

    REQUIRE(state.summary().size() == 5);
    CHECK(state.summary()[0].method == "SKIP");
    CHECK(state.summary()[3].summary.recovery == Approx(1.0));
    REQUIRE(state.figures().size() == 5);
    CHECK(state.figures()[2].stem == "fig_decisions");
    CHECK(state.figureData().currentRate == 0.75);
    CHECK(state.figureData().sweep.size() == 21);
}

TEST_CASE("studio: recon-ema under paper calibration marks its calibration units", "[studio]") {
    StudioState state;
    state.setUnits(syntheticUnits(40));
    CHECK(state.tune().policy == "recon-ema");
    CHECK(state.calibrationUnits() == 16);
    CHECK(state.ours().decisions.size() == 40);
    CHECK(decisionReason(2.0, 1.0, true, false).find("UPDATE: signal 2 > threshold 1") == 0);
    CHECK(decisionReason(2.0, 1.0, true, true).find("calibration") != std::string::npos);
}

TEST_CASE("studio: profile calibration without calibration.json is an error state", "[studio]") {
    StudioState state;
    state.setUnits(syntheticUnits(20));
    auto tune = state.tune();
    tune.calibration = "profile";
    state.setTune(tune);
    CHECK(state.replayError().find("calibration.json") != std::string::npos);
    CHECK(state.summary().empty());
    CHECK(state.oursSpecOr().calibration == "paper");  // what a run stores meanwhile
    tune.calibration = "paper";
    state.setTune(tune);
    CHECK(state.replayError().empty());
    CHECK_FALSE(state.summary().empty());
}

TEST_CASE("studio: streaming units appends and replays", "[studio]") {
    StudioState state;
    state.reset({});
    CHECK(state.summary().empty());
    const auto units = syntheticUnits(8);
    state.appendUnits({units.begin(), units.begin() + 3});
    CHECK(state.table().size() == 3);
    state.appendUnits({units.begin() + 3, units.end()});
    CHECK(state.table().size() == 8);
    CHECK(state.figureData().signal.size() == 8);
}

TEST_CASE("studio: a byte offset maps to its chunk", "[studio]") {
    core::PlanFile file;
    for (int t = 0; t < 64; ++t)
        file.tokenByteStart.push_back(std::uint64_t(t) * 3);
    StudioState state;
    state.reset({file});
    state.setUnits(syntheticUnits(4));  // 16 tokens each
    CHECK(state.unitAtByte(0, 0) == std::int64_t(0));
    CHECK(state.unitAtByte(0, 16 * 3) == std::int64_t(1));
    CHECK(state.unitAtByte(0, 63 * 3 + 1) == std::int64_t(3));
    CHECK_FALSE(state.unitAtByte(1, 0));
}

TEST_CASE("studio: settings live under XDG_CONFIG_HOME and round trip", "[studio]") {
    const auto dir = std::filesystem::temp_directory_path() / "ponder_studio_settings_test";
    std::filesystem::remove_all(dir);
    ::setenv("XDG_CONFIG_HOME", dir.c_str(), 1);
    ::unsetenv("XDG_DATA_HOME");
    CHECK(configDir() == dir / "ponder-studio");
    CHECK(std::filesystem::is_directory(dir / "ponder-studio"));
    CHECK(databasePath() == dir / "ponder-studio" / "runs.sqlite");

    Settings settings;
    settings.darkTheme = false;
    settings.fontScale = 1.5f;
    settings.modelDir = "/models/x";
    for (int i = 0; i < 12; ++i)
        settings.addRecent("/f" + std::to_string(i));
    settings.addRecent("/f5");
    CHECK(settings.recent.size() == 10);
    CHECK(settings.recent.front() == "/f5");
    settings.leftRatio = 0.5f;
    settings.device = "cuda:1";
    settings.threads = 3;
    settings.dpiScale = 1.75f;
    saveSettings(settings, configDir() / "settings.json");
    const auto loaded = loadSettings(configDir() / "settings.json");
    CHECK_FALSE(loaded.darkTheme);
    CHECK(loaded.fontScale == 1.5f);
    CHECK(loaded.modelDir == "/models/x");
    CHECK(loaded.recent == settings.recent);
    CHECK(loaded.leftRatio == 0.5f);
    CHECK(loaded.device == "cuda:1");
    CHECK(loaded.threads == 3);
    CHECK(loaded.dpiScale == 1.75f);
    auto reset = loaded;
    reset.resetLayout();
    CHECK(reset.leftRatio == Settings{}.leftRatio);

    // A broken file gives the defaults, not an error.
    { std::ofstream(configDir() / "bad.json") << "{not json"; }
    CHECK(loadSettings(configDir() / "bad.json").darkTheme == Settings{}.darkTheme);
    std::filesystem::remove_all(dir);
}

namespace {

// Units spread over `files` files (contiguous blocks), so the bootstrap has blocks to draw.
std::vector<core::UnitRecord> unitsInFiles(int n, int files) {
    auto units = syntheticUnits(n);
    for (int i = 0; i < n; ++i)
        units[std::size_t(i)].fileIndex = i * files / n;
    return units;
}

}  // namespace

TEST_CASE("studio: the summary has bootstrap CIs over files only when there are several",
          "[studio]") {
    StudioState state;
    state.setUnits(syntheticUnits(40));  // one file
    REQUIRE(state.summary().size() == 5);
    for (const auto& row : state.summary()) {
        CHECK_FALSE(row.lossCi);
        CHECK_FALSE(row.recoveryCi);
    }
    state.setUnits(unitsInFiles(40, 4));
    REQUIRE(state.summary().size() == 5);
    for (const auto& row : state.summary()) {
        INFO(row.method);
        REQUIRE(row.lossCi);
        REQUIRE(row.recoveryCi);
        CHECK(row.lossCi->blocks == 4);
        CHECK(row.lossCi->estimate == Approx(row.summary.loss));
        CHECK(row.lossCi->low <= row.summary.loss + 1e-12);
        CHECK(row.lossCi->high >= row.summary.loss - 1e-12);
    }
    // Oracle's recovery is 1 in every resample; SKIP's loss CI has width 0 (constant loss).
    CHECK(state.summary()[3].recoveryCi->low == Approx(1.0));
    CHECK(state.summary()[0].lossCi->high - state.summary()[0].lossCi->low == Approx(0.0));
    CHECK(state.summary()[4].lossCi->high > state.summary()[4].lossCi->low);
}

TEST_CASE("studio: a compared run gets a summary column and dashed series, replayed alike",
          "[studio]") {
    StudioState state;
    state.setUnits(syntheticUnits(40));
    auto tune = state.tune();
    tune.policy = "oracle";
    tune.rate = 0.25;
    state.setTune(tune);
    const auto plainSignal = state.figures()[0].figure.series.size();

    auto other = syntheticUnits(24);
    for (auto& u : other) {
        u.advantage *= 2;
        u.lossUpdate = u.lossSkip - u.advantage;
    }
    state.setCompare(CompareRun{7, "run 7", other});
    REQUIRE(state.compare());
    REQUIRE(state.summary().size() == 5);
    for (const auto& row : state.summary())
        REQUIRE(row.compare);
    CHECK(state.summary()[0].compare->loss == Approx(3.0));      // SKIP
    CHECK(state.summary()[4].compare->rate == Approx(0.25));     // Ours, at the current rate
    CHECK(state.summary()[3].compare->recovery == Approx(1.0));  // Oracle
    CHECK(state.figureData().compareName == "run 7");
    CHECK(state.figureData().compareSignal.size() == 24);
    CHECK(state.figureData().compareSweep.size() == 21);
    CHECK(state.figures()[0].figure.series.size() == plainSignal + 2);

    // The compared run follows the tune settings.
    tune.rate = 0.5;
    state.setTune(tune);
    CHECK(state.summary()[4].compare->rate == Approx(0.5));
    // A new current run keeps the comparison; clearing it removes the column and the series.
    state.setUnits(syntheticUnits(30));
    CHECK(state.summary()[0].compare);
    state.setCompare(std::nullopt);
    CHECK_FALSE(state.summary()[0].compare);
    CHECK(state.figureData().compareSignal.empty());
    CHECK(state.figures()[0].figure.series.size() == plainSignal);
}

TEST_CASE("studio: frame statistics report nearest-rank percentiles", "[studio]") {
    FrameStats stats;
    CHECK(stats.summary().frames == 0);
    for (int i = 1; i <= 100; ++i)
        stats.add(double(i) / 2);  // 0.5 .. 50 ms
    const auto s = stats.summary();
    CHECK(s.frames == 100);
    CHECK(s.p50 == 25.0);
    CHECK(s.p95 == 47.5);
    CHECK(s.max == 50.0);
    CHECK(s.overBudget == 67);  // 17 ms and up
    CHECK(stats.text().find("p95 47.5 ms") != std::string::npos);
}

TEST_CASE("studio: batch rates parse from a list and reject bad values", "[studio]") {
    CHECK(parseRates("0.25, 0.5 0.75") == std::vector<double>{0.25, 0.5, 0.75});
    CHECK(parseRates("1;0") == std::vector<double>{1.0, 0.0});
    CHECK_THROWS_AS(parseRates(""), core::InputError);
    CHECK_THROWS_AS(parseRates("0.5, 1.5"), core::InputError);
    CHECK_THROWS_AS(parseRates("0.5x"), core::InputError);
}

TEST_CASE("studio: the dataset browser lists recipes, manifests and built corpora", "[studio]") {
    testing::TempDir dir("ponder_studio_datasets");
    const auto root = dir.path / "datasets";
    std::filesystem::create_directories(root / "recipes");
    std::filesystem::create_directories(root / "manifests");
    std::filesystem::create_directories(root / "build/tiny/train/pkg");
    std::filesystem::create_directories(root / "build/tiny/test");
    std::ofstream(root / "recipes/tiny.json") << R"({"name": "tiny", "description": "a tiny corpus",
        "language": "Python", "extensions": [".py"], "sources": [{"root": "src"}],
        "split": {"method": "single", "name": "ood"}})";
    std::ofstream(root / "recipes/broken.json") << "{";
    const std::string manifest =
        "path\tsha256\tlanguage\tsplit\tbytes\ttokens\n"
        "a.py\t00\tPython\ttrain\t10\t4\n"
        "pkg/b.py\t11\tPython\ttrain\t20\t8\n"
        "c.js\t22\tJavaScript\ttrain\t5\t2\n"
        "d.py\t33\tPython\ttest\t7\t3\n"
        "gone.py\t44\tPython\ttest\t7\t3\n";
    std::ofstream(root / "manifests/tiny.tsv") << manifest;
    std::ofstream(root / "build/tiny/manifest.tsv") << manifest;
    for (const char* file : {"train/a.py", "train/pkg/b.py", "train/c.js", "test/d.py"})
        std::ofstream(root / "build/tiny" / file) << "x = 1\n";

    const auto datasets = scanDatasets(root);
    REQUIRE(datasets.size() == 2);
    const auto& broken = datasets[0];
    CHECK(broken.name == "broken");
    CHECK_FALSE(broken.error.empty());
    const auto& tiny = datasets[1];
    CHECK(tiny.name == "tiny");
    INFO(tiny.error);
    CHECK(tiny.error.empty());
    CHECK(tiny.description == "a tiny corpus");
    CHECK(tiny.language == "Python");
    CHECK(tiny.manifestFiles == 5);
    CHECK(tiny.built == root / "build/tiny");
    CHECK(tiny.files.size() == 4);
    CHECK(tiny.missingFiles == 1);
    CHECK(tiny.splits() == std::vector<std::string>{"train", "test"});
    CHECK(tiny.languages("train") == std::vector<std::string>{"Python", "JavaScript"});
    CHECK(tiny.files[1].onDisk == root / "build/tiny/train/pkg/b.py");
    CHECK(tiny.files[1].tokens == 8);
    CHECK(scanDatasets(dir.path / "nowhere").empty());
}
