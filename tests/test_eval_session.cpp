// core's one run session and settings resolution, which every front end goes through: the
// calibration actually used is resolved once and stored with the run, so a stored run replays
// with no flags to the numbers it showed, from any working folder; each rate of a replay starts
// from that rate's quantile; a policy that ρ does not steer is reported at the rate it realized.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "core/data/corpus_files.h"
#include "core/eval/eval_session.h"
#include "core/gating/calibration.h"
#include "core/gating/settings_resolve.h"
#include "core/model/model_dir.h"
#include "core/report/exports.h"
#include "core/store/run_store.h"
#include "core/util/errors.h"
#include "tests/test_support.h"

using namespace ponder;
using namespace ponder::core;
namespace fs = std::filesystem;

namespace {

// Units whose advantage is i/10 and whose signal rises with it.
std::vector<UnitRecord> risingUnits(int n) {
    std::vector<UnitRecord> units;
    for (int i = 0; i < n; ++i) {
        UnitRecord u;
        u.unit = i;
        u.fileIndex = 0;
        u.lossSkip = 3.0;
        u.lossUpdate = 3.0 - 0.1 * i;
        u.advantage = 0.1 * i;
        u.reconStep0 = u.reconInit = u.reconStep1 = 1.0 + i;
        units.push_back(u);
    }
    return units;
}

// A calibration whose recon_step0 quantile at level q is 100·q.
Calibration linearCalibration() {
    Calibration calibration;
    for (int i = 0; i <= 100; ++i)
        calibration.levels.push_back(i / 100.0);
    for (const auto& name : calibrationSignalNames()) {
        auto& column = calibration.quantiles[name];
        for (int i = 0; i <= 100; ++i)
            column.push_back(double(i));
    }
    return calibration;
}

}  // namespace

TEST_CASE("settings: auto calibration is profile exactly when the model has calibration.json",
          "[session]") {
    testing::TempDir dir("ponder_settings_auto");
    SettingsOverrides overrides;
    overrides.calibration = "auto";
    overrides.rate = 0.3;
    CHECK(resolveSettings({}, overrides, dir.path).ours.calibration == "paper");
    saveCalibration(linearCalibration(), dir.path / "calibration.json");
    const auto settings = resolveSettings({}, overrides, dir.path);
    CHECK(settings.ours.calibration == "profile");
    CHECK(settings.ours.profileTau0 == Approx(70.0));  // the (1 - 0.3) quantile
    REQUIRE(settings.calibration);
    CHECK(settings.calibrationSource == fs::absolute(dir.path / "calibration.json").string());
    // multi-signal has no profile start: auto falls back to paper rather than refusing.
    overrides.policies = {"recon-ema", "multi-signal"};
    CHECK(resolveSettings({}, overrides, dir.path).ours.calibration == "paper");
    // Asked for explicitly, the combination is refused.
    overrides.calibration = "profile";
    CHECK_THROWS_AS(applyOverrides({}, overrides), InputError);
}

TEST_CASE("settings: a stored run replays from its own calibration at any rate", "[session]") {
    testing::TempDir dir("ponder_settings_stored");
    saveCalibration(linearCalibration(), dir.path / "calibration.json");
    SettingsOverrides overrides;
    overrides.calibration = "profile";
    overrides.rate = 0.5;
    const auto resolved = resolveSettings({}, overrides, dir.path);
    // The JSON stored with a run carries the calibration, so the model folder may go away.
    const auto stored = analysisSettingsFromJson(analysisSettingsJson(resolved));
    fs::remove(dir.path / "calibration.json");
    REQUIRE(stored.calibration);
    CHECK(stored.ours.calibration == "profile");
    CHECK(stored.ours.profileTau0 == Approx(50.0));
    // No flags: the numbers it showed. Another rate: that rate's start, as `export --rate`.
    CHECK(resolveSettings(stored, {}, dir.path).ours.profileTau0 == Approx(50.0));
    SettingsOverrides atRate;
    atRate.rate = 0.2;
    CHECK(resolveSettings(stored, atRate, dir.path).ours.profileTau0 == Approx(80.0));
    CHECK(settingsAtRate(stored, 0.9).ours.profileTau0 == Approx(10.0));
    CHECK(settingsAtRate(stored, 0.9).ours.profileTau0Low == Approx(90.0));
    // The sweep replays every rate from its own start: Ours' rate follows the target.
    const auto table = unitTableFrom(risingUnits(101));
    auto fromStored = stored;
    fromStored.ours.calibrationUnits = 1;
    const auto points = sweepRates(table, fromStored, {0.2, 0.8});
    CHECK(points[0].oursRate < points[1].oursRate);
}

TEST_CASE("settings: a profile run stored before its calibration was kept replays from its τ0",
          "[session]") {
    testing::TempDir dir("ponder_settings_old");  // no calibration.json here
    const auto old = analysisSettingsFromJson(
        R"({"policy":"recon-ema","rate":0.4,"calibration":"profile","profile_tau0":1.25,)"
        R"("profile_tau0_low":0.5})");
    REQUIRE_FALSE(old.calibration);
    // No change, or a change that repeats the stored value: the stored start.
    CHECK(resolveSettings(old, {}, dir.path).ours.profileTau0 == 1.25);
    SettingsOverrides same;
    same.rate = 0.4;
    same.calibration = "profile";
    CHECK(resolveSettings(old, same, dir.path).ours.profileTau0 == 1.25);
    // Another rate needs the quantiles, which this run does not have and the model lacks.
    SettingsOverrides other;
    other.rate = 0.6;
    CHECK_THROWS_AS(resolveSettings(old, other, dir.path), InputError);
    saveCalibration(linearCalibration(), dir.path / "calibration.json");
    CHECK(resolveSettings(old, other, dir.path).ours.profileTau0 == Approx(40.0));
}

TEST_CASE("analysis: a policy ρ does not steer is compared at the rate it realized", "[session]") {
    const auto table = unitTableFrom(risingUnits(20));
    AnalysisSettings settings;
    settings.ours.name = "threshold";
    settings.ours.threshold = 14.5;  // updates units 14..19: rate 0.3 whatever ρ says
    settings.extraPolicies = {"recon-ema"};
    settings.ours.rate = 0.8;
    const auto high = analyseUnits(table, settings);
    settings.ours.rate = 0.2;
    const auto low = analyseUnits(table, settings);
    const auto& ours = high.find("Ours");
    CHECK(high.oursOwnRate);
    CHECK(ours.ownRate);
    CHECK(ours.summary.rate == Approx(0.3));
    // The same decisions, the same recovery and agreement at any target rate...
    CHECK(ours.summary.recovery == low.find("Ours").summary.recovery);
    CHECK(ours.summary.agreement == low.find("Ours").summary.agreement);
    // ... against Random and an Oracle that update as often as it did: here the top units.
    CHECK(high.baselineRate == Approx(0.3));
    CHECK(high.find("Oracle").summary.rate == Approx(0.3));
    CHECK(ours.summary.recovery == Approx(1.0));
    CHECK(ours.summary.agreement == Approx(1.0));
    CHECK(ours.sameRate.capture == Approx(1.0));
    // The rows the CLI prints and the studio draws: Random's expectation labelled as such.
    const auto rows = summaryRows(high);
    CHECK(rows[2].label == "Random Skip (expected)");
    CHECK(rows[2].summary.rate == Approx(0.3));
    REQUIRE(rows[2].seededDraw);
    CHECK(rows[4].ownRate);
    // A policy that holds ρ keeps the target-rate Oracle.
    settings.ours.name = "recon-ema";
    settings.extraPolicies.clear();
    const auto held = analyseUnits(table, settings);
    CHECK_FALSE(held.oursOwnRate);
    CHECK(held.baselineRate == Approx(0.2));
}

TEST_CASE(
    "session: the calibration used is stored with the run, and the run replays to the "
    "numbers it showed from another folder",
    "[session]") {
    auto options = testing::tinyModelOptions();
    testing::TinyModel tiny(options, "ponder_session");
    const auto database = tiny.dir.path / "runs.sqlite";
    // A calibration of this model on held-out code, as `ponder calibrate` writes it.
    EvalRequest request;
    request.modelDir = tiny.model;
    request.inputs = {"/usr/lib/python3.11/json/decoder.py"};
    request.chunk = 64;
    request.threads = 1;
    request.gating.calibration = "paper";
    auto calibrationRun = EvalSession(request).run({});
    saveCalibration(calibrationFromRecords(calibrationRun.units), tiny.model / "calibration.json");

    request.inputs = {"/usr/lib/python3.11/json/encoder.py"};
    request.gating.calibration = "auto";
    request.gating.rate = 0.3;
    request.database = database;
    EvalSession session(request);
    CHECK(session.settings().ours.calibration == "profile");
    const auto outcome = session.run({});
    REQUIRE(outcome.runId);
    REQUIRE_FALSE(outcome.units.empty());

    StoreOptions open;
    open.create = false;
    const auto stored = RunStore(database, open).loadRun(*outcome.runId);
    CHECK(fs::path(stored.description.modelDir).is_absolute());
    // From another working folder, with the model's calibration.json gone: the same numbers.
    fs::remove(tiny.model / "calibration.json");
    const auto cwd = fs::current_path();
    fs::current_path(fs::temp_directory_path());
    const auto replay = replaySettings(stored);
    fs::current_path(cwd);
    CHECK(replay.ours.calibration == "profile");
    CHECK(replay.ours.profileTau0 == outcome.settings.ours.profileTau0);
    const auto analysed = analyseStoredRun(stored, replay);
    for (const auto* method : {"SKIP", "Random Skip", "Oracle", "Ours"}) {
        INFO(method);
        CHECK(analysed.analysis.find(method).summary.loss ==
              outcome.analysis.find(method).summary.loss);
        CHECK(analysed.analysis.find(method).summary.recovery ==
              outcome.analysis.find(method).summary.recovery);
    }
}

TEST_CASE("session: bad requests are refused before any model work", "[session]") {
    testing::TempDir dir("ponder_session_refused");
    EvalRequest request;
    request.modelDir = dir.path / "missing";
    request.inputs = {"/usr/lib/python3.11/json/decoder.py"};
    try {
        EvalSession session(request);
        FAIL("a missing model directory was accepted");
    } catch (const ModelLoadError& error) {
        CHECK(std::string(error.what()).find(request.modelDir.string()) != std::string::npos);
    }
    fs::create_directories(dir.path / "empty");
    request.modelDir = dir.path / "empty";
    CHECK_THROWS_AS(EvalSession(request), ModelLoadError);  // no config.json
    testing::TinyModel tiny(testing::tinyModelOptions(), "ponder_session_bad");
    request.modelDir = tiny.model;
    request.gating.policies = {"no-such-policy"};
    CHECK_THROWS_AS(EvalSession(request), InputError);
    request.gating.policies = {"recon-ema"};
    request.gating.calibration = "profile";  // the tiny model has no calibration.json
    CHECK_THROWS_AS(EvalSession(request), InputError);
}
