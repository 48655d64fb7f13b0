// The studio's state layer without a window: the tune settings replay over cached units
// (slider → decisions change), bootstrap CIs and a compared run in the summary, bad settings
// become an error state, settings round trip, frame statistics, datasets and batch rates.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "app/common/run_figure_data.h"
#include "app/studio/state/batch_export.h"
#include "app/studio/state/datasets.h"
#include "app/studio/state/log_line.h"
#include "app/studio/state/settings.h"
#include "app/studio/state/source_map.h"
#include "app/studio/state/studio_state.h"
#include "app/studio/ui/frame_stats.h"
#include "core/gating/slices.h"
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
    // A new run asks core for profile all the same: the session loads the model's file.
    CHECK(state.tuneOverrides().calibration == std::string("profile"));
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
    settings.windowWidth = 1600;
    settings.windowHeight = 1000;
    settings.plotShares = {0.2f, 0.5f, 0.3f};
    settings.rightTab = "chunks";
    settings.enlargedPlot = "fig_sweep";
    settings.chunkPlotRatio = 0.45f;
    settings.chunkSort = "advantage";
    settings.chunkSortAscending = false;
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
    // The workbench as it was left: window, splitters, tab, enlarged plot and table sort.
    CHECK(loaded.windowWidth == 1600);
    CHECK(loaded.windowHeight == 1000);
    CHECK(loaded.plotShares == settings.plotShares);
    CHECK(loaded.rightTab == "chunks");
    CHECK(loaded.enlargedPlot == "fig_sweep");
    CHECK(loaded.chunkPlotRatio == 0.45f);
    CHECK(loaded.chunkSort == "advantage");
    CHECK_FALSE(loaded.chunkSortAscending);
    auto reset = loaded;
    reset.resetLayout();
    CHECK(reset.leftRatio == Settings{}.leftRatio);
    CHECK(reset.plotShares == Settings{}.plotShares);
    CHECK(reset.enlargedPlot.empty());

    // Shares that cannot lay the plots out (an older file's count, a zero) fall back.
    { std::ofstream(configDir() / "shares.json") << R"({"plot_shares": [0.5, 0.0, 0.5]})"; }
    CHECK(loadSettings(configDir() / "shares.json").plotShares == Settings{}.plotShares);

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

TEST_CASE("studio: the summary has bootstrap CIs over files only from enough files", "[studio]") {
    StudioState state;
    // One file, and then two or nine: a percentile interval over so few blocks is their
    // min and max, not a 95% CI (algorithm.md §8.3), so none is drawn.
    for (const int files : {1, 2, 9}) {
        state.setUnits(unitsInFiles(40, files));
        REQUIRE(state.summary().size() == 5);
        for (const auto& row : state.summary()) {
            INFO(files << " files, " << row.method);
            CHECK_FALSE(row.lossCi);
            CHECK_FALSE(row.recoveryCi);
        }
    }
    state.setUnits(unitsInFiles(40, 10));
    REQUIRE(state.summary().size() == 5);
    for (const auto& row : state.summary()) {
        INFO(row.method);
        if (row.seededDraw) {
            // Random's row is its expectation; an interval of the one seeded draw would sit
            // around another number.
            CHECK_FALSE(row.lossCi);
            continue;
        }
        REQUIRE(row.lossCi);
        REQUIRE(row.recoveryCi);
        CHECK(row.lossCi->blocks == 10);
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
    // Another file's run: compared by summary and sweep, never overlaid chunk by chunk.
    state.setFileSha256({"sha-of-this-file"});
    state.setCompare(CompareRun{7, "run 7", other, "", 1, {}, {"sha-of-another-file"}});
    REQUIRE(state.compare());
    REQUIRE(state.summary().size() == 5);
    for (const auto& row : state.summary())
        REQUIRE(row.compare);
    CHECK(state.summary()[0].compare->loss == Approx(3.0));      // SKIP
    CHECK(state.summary()[4].compare->rate == Approx(0.25));     // Ours, at the current rate
    CHECK(state.summary()[3].compare->recovery == Approx(1.0));  // Oracle
    CHECK(state.figureData().compareName == "run 7");
    CHECK(state.figureData().compareSignal.empty());
    CHECK(state.compareNote().find("other files") != std::string::npos);
    CHECK(state.figureData().compareSweep.size() == 21);
    CHECK(state.figures()[0].figure.series.size() == plainSignal);

    // The same file evaluated again: overlaid unit by unit.
    auto again = syntheticUnits(40);
    for (auto& u : again) {
        u.advantage *= 2;
        u.lossUpdate = u.lossSkip - u.advantage;
    }
    state.setCompare(CompareRun{8, "run 8", again, "", 1, {}, {"sha-of-this-file"}});
    CHECK(state.compareNote().empty());
    CHECK(state.compareMatched() == 40);
    CHECK(state.figureData().compareSignal.size() == 40);
    CHECK(state.figures()[0].figure.series.size() == plainSignal + 2);
    // Half of it (a --max-units run): joined unit by unit, the rest without an overlay.
    state.setCompare(CompareRun{
        9, "run 9", {again.begin(), again.begin() + 20}, "", 1, {}, {"sha-of-this-file"}});
    CHECK(state.compareMatched() == 20);
    CHECK(state.compareNote().find("20 of 40 units matched") != std::string::npos);
    REQUIRE(state.figureData().compareSignal.size() == 40);
    CHECK(std::isfinite(state.figureData().compareSignal[19]));
    CHECK(std::isnan(state.figureData().compareSignal[20]));
    state.setCompare(CompareRun{8, "run 8", again, "", 1, {}, {"sha-of-this-file"}});

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

TEST_CASE("studio: the summary is core's analysis, Random at its expectation beside the draw",
          "[studio]") {
    StudioState state;
    state.setUnits(syntheticUnits(27));
    auto tune = state.tune();
    tune.rate = 0.23;
    state.setTune(tune);
    REQUIRE(state.summary().size() == 5);
    const auto& random = state.summary()[2];
    // The expectation is labelled as one; "Random Skip" alone is the seeded draw the files keep.
    CHECK(random.method == "Random Skip (expected)");
    CHECK(random.summary.rate == 0.23);  // the expectation, not one draw's 0.33
    REQUIRE(random.seededDraw);
    CHECK(random.seededDraw->rate != 0.23);  // 27 Bernoulli draws cannot hit 0.23 exactly
    double skip = 0, advantage = 0;
    for (const auto& u : state.units()) {
        skip += u.lossSkip / 27;
        advantage += u.advantage / 27;
    }
    CHECK(random.summary.loss == Approx(skip - 0.23 * advantage));
    CHECK(state.summary()[4].method == "Ours (recon-ema)");
}

TEST_CASE("studio: multi-signal with profile calibration is refused as the CLI refuses it",
          "[studio]") {
    StudioState state;
    core::Calibration calibration;
    for (int i = 0; i <= 100; ++i)
        calibration.levels.push_back(i / 100.0);
    for (const auto signal : core::allSignals())
        calibration.quantiles[core::signalName(signal)] = std::vector<double>(101, 1.0);
    state.setCalibration(calibration);
    state.setUnits(syntheticUnits(20));
    auto tune = state.tune();
    tune.policy = "multi-signal";
    tune.calibration = "profile";
    state.setTune(tune);
    CHECK(state.replayError().find("calibration.json does not describe") != std::string::npos);
}

namespace {

// A unit of file `file` covering lines [first, last] and tokens [start, start + n), with
// per-token losses skip 1.0 and update 1.0 - diff at each position.
core::UnitRecord sourceUnit(std::int64_t file, std::int64_t first, std::int64_t last,
                            std::int64_t start, std::int64_t n, float diff) {
    core::UnitRecord u;
    u.fileIndex = file;
    u.lineStart = first;
    u.lineEnd = last;
    u.tokenStart = start;
    u.tokens = n;
    u.tokenLossSkip.assign(std::size_t(n - 1), 1.0f);
    u.tokenLossUpdate.assign(std::size_t(n - 1), 1.0f - diff);
    return u;
}

}  // namespace

TEST_CASE("studio: the source map gives each line its first unit and the file's heat scale",
          "[studio]") {
    // File 0: unit 0 on lines 1-3, unit 2 on lines 3-5 (line 3 straddles the boundary);
    // unit 1 belongs to file 1 and must not count, though its difference is the largest.
    const std::vector<core::UnitRecord> units = {sourceUnit(0, 1, 3, 0, 8, 0.5f),
                                                 sourceUnit(1, 1, 9, 0, 8, -4.0f),
                                                 sourceUnit(0, 3, 5, 8, 8, -2.0f)};
    const auto map = buildSourceMap(units, 0, 6);
    CHECK(map.lineUnit == std::vector<std::int64_t>{0, 0, 0, 2, 2, -1});
    CHECK(map.heatScale == 2.0f);
    const auto other = buildSourceMap(units, 1, 3);  // lines past the file's end are ignored
    CHECK(other.lineUnit == std::vector<std::int64_t>{1, 1, 1});
    CHECK(other.heatScale == 4.0f);
    CHECK(buildSourceMap({}, 0, 2).heatScale == 1e-6f);  // nothing to scale: no division by 0
}

TEST_CASE("studio: a token's losses come from the unit whose position predicts it", "[studio]") {
    const std::vector<core::UnitRecord> units = {sourceUnit(0, 1, 3, 0, 8, 0.5f),
                                                 sourceUnit(0, 3, 5, 8, 8, -2.0f)};
    CHECK_FALSE(tokenLoss(units, 0, 0, 0));  // nothing predicts the first token
    const auto inFirst = tokenLoss(units, 0, 5, 0);
    REQUIRE(inFirst);
    CHECK(inFirst->unit == 0);
    CHECK(inFirst->skip - inFirst->update == Approx(0.5f));
    // Token 8 opens unit 1, but unit 1 has no loss for it: it is predicted by position 7,
    // which unit 0 does not keep either (n - 1 = 7 losses: positions 0..6).
    CHECK_FALSE(tokenLoss(units, 0, 8, 1));
    const auto inSecond = tokenLoss(units, 0, 9, 1);  // position 8 = unit 1's first
    REQUIRE(inSecond);
    CHECK(inSecond->unit == 1);
    CHECK_FALSE(tokenLoss(units, 1, 5, 0));  // another file's token
    CHECK(heatAlpha(1.0f, 2.0f) == Approx(0.3f));
    CHECK(heatAlpha(-8.0f, 2.0f) == Approx(0.6f));  // capped
}

TEST_CASE("studio: a gate:DIR policy replays the learned gate, refusing another TTT layer's run",
          "[studio]") {
    ponder::testing::TempDir dir("ponder_studio_gate");
    ponder::testing::writeAlwaysUpdateGate(dir.path, "ttt-a");
    auto units = syntheticUnits(12);
    for (auto& u : units)
        u.gateFeatures.assign(core::kStoredGateFeatures, 0.5f);
    StudioState state;
    state.setRunFacts("ttt-a", 1);
    state.reset({});
    state.setUnits(units);
    auto tune = state.tune();
    tune.policy = "gate:" + dir.path.string();
    state.setTune(tune);
    REQUIRE(state.replayError().empty());
    CHECK(updates(state.ours().decisions) == 12);
    state.setRunFacts("ttt-b", 1);
    state.setUnits(units);
    CHECK(state.replayError().find("another TTT layer") != std::string::npos);
}

TEST_CASE("studio: a slice of files restricts the summary and the plots to their units",
          "[studio]") {
    StudioState state;
    auto units = unitsInFiles(40, 4);  // files 0..3, ten units each
    for (auto& unit : units)
        unit.file = "/src/file" + std::to_string(unit.fileIndex) + ".py";
    state.setUnits(units);
    REQUIRE(state.replayError().empty());
    REQUIRE(state.fileRows().size() == 4);
    const auto whole = state.summary();
    // Boundaries on the chunk axis: each file's first unit, by name.
    REQUIRE(state.figureData().fileStarts.size() == 4);
    CHECK(state.figureData().fileStarts[2].first == 20.0);
    CHECK(state.figureData().fileStarts[2].second == "file2.py");
    CHECK(state.figures()[0].figure.x.segmentAt(25.0) == "file2.py");

    state.setSlice({1, 3});
    REQUIRE(state.replayError().empty());
    CHECK(state.sliceUnitCount() == 20);
    // The summary is core's slice of the whole run's analysis, row for row.
    const auto sliced =
        core::sliceAnalysis(state.analysis(), core::unitsOfFiles(state.units(), {1, 3}));
    const auto expected = core::summaryRows(sliced);
    REQUIRE(state.summary().size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        INFO(expected[i].label);
        CHECK(state.summary()[i].summary.loss == Approx(expected[i].summary.loss));
        CHECK(state.summary()[i].summary.rate == Approx(expected[i].summary.rate));
    }
    CHECK(state.summary()[4].summary.loss != Approx(whole[4].summary.loss));
    // The plots keep the slice's own chunk numbers: units 10..19 and 30..39.
    const auto& data = state.figureData();
    REQUIRE(data.unitX.size() == 20);
    CHECK(data.unitX.front() == 10.0);
    CHECK(data.unitX.back() == 39.0);
    CHECK(data.signal.size() == 20);
    CHECK(state.figures()[0].figure.series[0].x == data.unitX);
    REQUIRE(data.fileStarts.size() == 2);
    CHECK(data.fileStarts[1].second == "file3.py");
    // The per-file table stays the whole run's; clearing the slice brings the whole run back.
    CHECK(state.fileRows().size() == 4);
    state.setSlice({});
    CHECK(state.summary()[4].summary.loss == Approx(whole[4].summary.loss));
    CHECK(state.figureData().unitX.empty());
}

TEST_CASE("studio: policies beside Ours get a summary row, a strip row and a sweep curve",
          "[studio]") {
    StudioState state;
    state.setUnits(syntheticUnits(40));
    state.setExtraPolicies({"recon-ema-inverted", "improvement-topk"});
    REQUIRE(state.replayError().empty());
    REQUIRE(state.summary().size() == 7);
    CHECK(state.summary()[5].policy == "recon-ema-inverted");
    const auto& data = state.figureData();
    REQUIRE(data.policies.size() == 2);
    CHECK(data.policies[0].decisions == state.analysis().policies[5].run.decisions);
    CHECK(data.policies[0].sweepLoss.size() == data.sweep.size());
    // At ρ = 0.5 the sweep's point is the policy replayed at 0.5: the summary's loss.
    for (std::size_t i = 0; i < data.sweep.size(); ++i)
        if (std::abs(data.sweep[i].rate - 0.5) < 1e-9)
            CHECK(data.policies[0].sweepLoss[i] == Approx(state.summary()[5].summary.loss));
    // The decision strip: a row per policy between Ours and the Oracle.
    const auto& strip = state.figures()[2].figure;
    REQUIRE(strip.y.categories.size() == 4);
    CHECK(strip.y.categories.front().second == "Oracle");
    CHECK(strip.y.categories.back().second == "Ours");
    // The sweep: a curve named after each policy.
    const auto& sweep = state.figures()[4].figure;
    const auto named = [&](const std::string& name) {
        return std::count_if(sweep.series.begin(), sweep.series.end(),
                             [&](const viz::Series& s) { return s.name == name; });
    };
    CHECK(named("recon-ema-inverted") == 1);
}

TEST_CASE(
    "studio: the advantage split: its summary row and line, the stacked bars, the scatter "
    "on either part, a slice",
    "[studio][split]") {
    StudioState state;
    auto units = syntheticUnits(40);
    for (std::size_t i = 0; i < units.size(); ++i) {
        units[i].fileIndex = std::int64_t(i / 20);  // two files, for a slice
        units[i].lossStatic = units[i].lossUpdate + 0.003 * double((i * 5) % 11);
    }
    state.setUnits(units);
    REQUIRE(state.replayError().empty());
    // The summary is core's rows (the CLI's), the Adaptation Oracle among them.
    const auto core = core::summaryRows(state.analysis());
    REQUIRE(state.summary().size() == core.size());
    REQUIRE(state.summary()[4].method == "Adaptation Oracle");
    CHECK(state.summary()[4].summary.loss == state.analysis().adaptationOracle->summary.loss);
    const auto split = core::advantageSplit(state.table());
    CHECK(state.advantageSplit().advInner == split.advInner);
    CHECK(state.advantageSplit().innerShare == split.innerShare);
    CHECK(state.figureData().advInner == state.table().advInner);
    CHECK(state.figureData().adaptationOracleDecisions ==
          state.analysis().adaptationOracle->run.decisions);
    // The scatter on the inner part: its values and Table 3's correlation over all units.
    state.setScatterPart(core::AdvantagePart::Inner);
    CHECK(state.figureData().scatterTarget == "adv_inner");
    CHECK(state.figureData().scatterValues == state.table().advInner);
    CHECK(state.figureData().pearson == core::signalCorrelationAll(core::Signal::ReconStep0,
                                                                   state.table(),
                                                                   core::AdvantagePart::Inner)
                                            .pearson);
    // A slice: the split line is the slice's, the adaptation row its share of the whole run's.
    state.setSlice({1});
    const auto sliced =
        core::sliceAnalysis(state.analysis(), core::unitsOfFiles(state.units(), {1}));
    CHECK(state.advantageSplit().advInner == core::advantageSplit(sliced.table).advInner);
    CHECK(state.summary()[4].summary.loss == sliced.adaptationOracle->summary.loss);
    // Units without the static path (a run stored before it): no row, no line, plain bars.
    state.setSlice({});
    state.setUnits(syntheticUnits(40));
    CHECK(state.summary().size() == core.size() - 1);
    CHECK(std::isnan(state.advantageSplit().advantage));
    CHECK(state.figureData().advStatic.empty());
    CHECK(state.figureData().scatterTarget == "advantage");
}

TEST_CASE("studio: the kept sweep is the one core computes, after a rate move and new units",
          "[studio]") {
    StudioState state;
    auto units = syntheticUnits(40);
    state.setUnits({units.begin(), units.begin() + 30});
    const auto sweepOf = [](const viz::RunFigureData& data) {
        std::vector<double> ours;
        for (const auto& row : data.sweep)
            ours.push_back(row.ours);
        return ours;
    };
    const auto fresh = [&] {
        std::vector<double> ours;
        for (const auto& point : app::runFigureSweep(state.analysis(), state.analysisSettings()))
            ours.push_back(point.oursLoss);
        return ours;
    };
    auto tune = state.tune();
    tune.rate = 0.3;
    state.setTune(tune);
    CHECK(state.figureData().currentRate == 0.3);
    CHECK(sweepOf(state.figureData()) == fresh());
    // Ten more units: the sweep is over all forty, not the thirty it was kept for.
    state.appendUnits({units.begin() + 30, units.end()});
    CHECK(sweepOf(state.figureData()) == fresh());
    // Another signal changes every point.
    const auto before = sweepOf(state.figureData());
    tune.signal = core::Signal::Improvement;
    state.setTune(tune);
    CHECK(sweepOf(state.figureData()) == fresh());
    CHECK(sweepOf(state.figureData()) != before);
}

TEST_CASE("studio: an error's settings are named by the studio's controls, not by CLI flags",
          "[studio]") {
    const core::InputError error("chunk 9000 exceeds the model's positions",
                                 "use a smaller {--chunk}, or {--max-tokens 64}");
    const auto line = errorLine(std::make_exception_ptr(error));
    CHECK(line.level == LogLine::Level::Error);
    CHECK(line.hint == "use a smaller 'chunk', or max tokens 64");
    CHECK(line.hint.find("--") == std::string::npos);
}
