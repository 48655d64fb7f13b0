// The studio's state layer without a window: the tune settings replay over cached units
// (slider → decisions change), bad settings become an error state, settings round trip.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "app/studio/settings.h"
#include "app/studio/studio_state.h"

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
    CHECK(state.figures().size() == 4);
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
    saveSettings(settings, configDir() / "settings.json");
    const auto loaded = loadSettings(configDir() / "settings.json");
    CHECK_FALSE(loaded.darkTheme);
    CHECK(loaded.fontScale == 1.5f);
    CHECK(loaded.modelDir == "/models/x");
    CHECK(loaded.recent == settings.recent);
    CHECK(loaded.leftRatio == 0.5f);
    auto reset = loaded;
    reset.resetLayout();
    CHECK(reset.leftRatio == Settings{}.leftRatio);

    // A broken file gives the defaults, not an error.
    { std::ofstream(configDir() / "bad.json") << "{not json"; }
    CHECK(loadSettings(configDir() / "bad.json").darkTheme == Settings{}.darkTheme);
    std::filesystem::remove_all(dir);
}
