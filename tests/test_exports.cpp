// Tables and exports: CSV/Markdown/LaTeX escaping, number formats, calibration.json, and the
// published result files written from a synthetic stored run whose numbers are worked by hand.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include "core/gating/calibration.h"
#include "core/gating/gate.h"
#include "core/gating/policies.h"
#include "core/report/exports.h"
#include "core/report/table_format.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"
#include "tests/test_support.h"

using namespace ponder::core;
namespace fs = std::filesystem;

namespace {

fs::path freshDir(const std::string& name) {
    const auto dir =
        fs::temp_directory_path() / ("ponder_exports_" + std::to_string(getpid())) / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream stream(text);
    for (std::string line; std::getline(stream, line);)
        out.push_back(line);
    return out;
}

UnitRecord unit(std::int64_t index, std::int64_t file, const std::string& path, double skip,
                double update, double signal) {
    UnitRecord record;
    record.unit = index;
    record.fileIndex = file;
    record.file = path;
    record.chunkIndex = index;
    record.tokens = 512;
    record.lossSkip = skip;
    record.lossUpdate = update;
    record.advantage = skip - update;
    record.reconStep0 = signal;
    record.reconInit = signal + 0.5;
    record.reconStep1 = signal * 0.5;
    record.improvement = 0.25;
    record.entropy = 1.0 + 0.1 * double(index);
    record.confidence = 0.5;
    return record;
}

// Four units in two files: advantages 0.5, -0.25, 1.0, 0.0.
StoredRun fourUnitRun() {
    StoredRun run;
    run.summary.id = 7;
    run.summary.status = RunStatus::Complete;
    run.description.mode = "file";
    run.inputFiles = {{0, "a.py", 10, 100, "", {}, {}, {}}, {1, "b.go", 10, 100, "", {}, {}, {}}};
    run.units = {unit(0, 0, "a.py", 2.0, 1.5, 0.3), unit(1, 0, "a.py", 3.0, 3.25, 0.1),
                 unit(2, 1, "b.go", 4.0, 3.0, 0.4), unit(3, 1, "b.go", 1.0, 1.0, 0.2)};
    return run;
}

AnalysisSettings halfRate(const std::string& ours = "threshold") {
    AnalysisSettings settings;
    settings.ours.name = ours;
    settings.ours.rate = 0.5;
    settings.ours.threshold = 0.25;  // UPDATE units 0 and 2 (signals 0.3, 0.4)
    return settings;
}

}  // namespace

TEST_CASE("report: CSV quotes only fields that need it, doubling quotes", "[tables]") {
    TextTable table;
    table.columns = {"name", "value"};
    table.addRow({"plain", "1.5"});
    table.addRow({"with, comma", "say \"hi\""});
    CHECK(toCsv(table) == "name,value\nplain,1.5\n\"with, comma\",\"say \"\"hi\"\"\"\n");
    CHECK_THROWS_AS(table.addRow({"one cell"}), std::invalid_argument);
}

TEST_CASE("report: Markdown and LaTeX escape their special characters and align numbers right",
          "[tables]") {
    TextTable table;
    table.caption = "Loss & rate_50%";
    table.columns = {"a|b", "loss"};
    table.addRow({"x_1 & 50%", "2.3241"});
    const auto markdown = toMarkdown(table);
    CHECK(markdown.find("| a\\|b | loss |") != std::string::npos);
    CHECK(markdown.find("|---|---:|") != std::string::npos);
    const auto latex = toLatex(table);
    CHECK(latex.find("\\caption{Loss \\& rate\\_50\\%}") != std::string::npos);
    CHECK(latex.find("\\begin{tabular}{lr}") != std::string::npos);
    CHECK(latex.find("x\\_1 \\& 50\\% & 2.3241 \\\\") != std::string::npos);
    CHECK(latex.find("\\toprule") < latex.find("\\midrule"));
}

TEST_CASE("report: number cells: fixed decimals, no negative zero, n/a for NaN, shortest repr",
          "[tables]") {
    CHECK(fixedCell(2.32414, 4) == "2.3241");
    CHECK(fixedCell(-0.00001, 2) == "0.00");
    CHECK(fixedCell(-0.5, 1) == "-0.5");
    CHECK(fixedCell(std::nan(""), 3) == "n/a");
    CHECK(percentCell(0.892) == "89.2%");
    CHECK(shortestDouble(2.0) == "2.0");
    CHECK(shortestDouble(0.1) == "0.1");
    CHECK(shortestDouble(2.3241) == "2.3241");
    CHECK(shortestDouble(1.0 / 3.0) == "0.3333333333333333");
    CHECK(std::stod(shortestDouble(M_PI)) == M_PI);
}

TEST_CASE("report: calibration quantiles interpolate and give the (1 - rate) threshold",
          "[calibration]") {
    std::vector<UnitRecord> records;
    for (int i = 0; i <= 100; ++i)
        records.push_back(unit(i, 0, "a.py", 1, 1, 0.01 * i));
    const auto calibration = calibrationFromRecords(records);
    REQUIRE(calibration.levels.size() == 101);
    // Signals 0.00 .. 1.00 in steps of 0.01: the q quantile is q itself.
    CHECK(calibration.thresholdForRate("recon_step0", 0.5) == Approx(0.5));
    CHECK(calibration.thresholdForRate("recon_step0", 0.3) == Approx(0.7));
    CHECK(calibration.thresholdForRate("recon_step0", 0.255) == Approx(0.745));
    CHECK(calibration.thresholdForRate("recon_init", 0.0) == Approx(1.5));
    CHECK_THROWS_AS(calibration.thresholdForRate("bogus", 0.5), InputError);
    // setProfileThresholds: recon-ema starts at the (1 - rate) quantile, the inverted gate at
    // the rate quantile (update iff s < 0.3 at rate 0.3); one spec carries both.
    PolicySpec ours;
    ours.rate = 0.3;
    setProfileThresholds(calibration, ours);
    CHECK(ours.profileTau0 == Approx(0.7));
    CHECK(ours.profileTau0Low == Approx(0.3));

    const auto dir = freshDir("calibration");
    auto saved = calibration;
    saved.backboneSha256 = "abc";
    saved.mode = "file";
    saveCalibration(saved, dir / "calibration.json");
    const auto loaded = loadCalibration(dir / "calibration.json");
    CHECK(loaded.backboneSha256 == "abc");
    CHECK(loaded.units == 101);
    CHECK(loaded.thresholdForRate("recon_step0", 0.3) == Approx(0.7));

    writeFileAtomic(dir / "bad.json", std::string("{\"format\": \"other\"}"));
    CHECK_THROWS_AS(loadCalibration(dir / "bad.json"), InputError);
    writeFileAtomic(dir / "broken.json", std::string("{\"format\": "));
    CHECK_THROWS_AS(loadCalibration(dir / "broken.json"), InputError);
    CHECK_THROWS_AS(calibrationFromRecords({}), InputError);
}

TEST_CASE("report: detailed_results.csv repeats each unit per sequence in published column order",
          "[exports]") {
    auto run = fourUnitRun();
    run.units[1].sequences = 3;  // a paper-mode unit of 3 sequences is written 3 times
    const auto analysed = analyseStoredRun(run, halfRate());
    const auto rows = lines(detailedResultsCsv(analysed));
    CHECK(rows.front() ==
          "method,loss,loss_skip,loss_update,advantage,decision,ttt_loss_init,ttt_loss_final,cost");
    // 5 methods x (1 + 3 + 1 + 1) rows, plus the header.
    CHECK(rows.size() == 1 + 5 * 6);
    CHECK(rows[1] == "SKIP,2.0,2.0,1.5,0.5,SKIP,0.3,0.15,1.0");
    // Oracle at rate 0.5 updates the top 2 advantages (units 2 and 0); its rows leave
    // ttt_loss_final empty as the published code does.
    const auto oracleFirst = std::find_if(rows.begin(), rows.end(), [](const std::string& row) {
        return row.rfind("Oracle,", 0) == 0;
    });
    REQUIRE(oracleFirst != rows.end());
    CHECK(*oracleFirst == "Oracle,1.5,2.0,1.5,0.5,UPDATE,0.3,,3.0");
}

TEST_CASE(
    "report: summary.csv is alphabetical, rounded to 4 decimals, weighted like the published rows",
    "[exports]") {
    const auto run = fourUnitRun();  // analysed points at it (AnalysedRun::stored)
    const auto analysed = analyseStoredRun(run, halfRate());
    // Ours (threshold 0.25) updates units 0 and 2: (1.5 + 3.0 + 3.0 + 1.0) / 4 = 2.125.
    // Oracle updates units 2 and 0 too. SKIP: 10 / 4 = 2.5. UPDATE_1: 8.75 / 4 = 2.1875.
    const auto rows = lines(summaryCsv(analysed));
    REQUIRE(rows.size() == 6);
    CHECK(rows[0] == "method,loss,cost");
    CHECK(rows[1] == "Oracle,2.125,2.0");
    CHECK(rows[2] == "Ours,2.125,2.0");
    CHECK(rows[3].rfind("Random Skip,", 0) == 0);
    CHECK(rows[4] == "SKIP,2.5,1.0");
    CHECK(rows[5] == "UPDATE_1,2.1875,3.0");
    const auto json = nlohmann::json::parse(summaryJson(analysed, 0.5));
    CHECK(json["budget"] == 2.0);
    CHECK(json["methods"]["loss"]["UPDATE_1"] == 2.1875);
    const auto correlation = nlohmann::json::parse(correlationJson(analysed));
    CHECK(correlation.contains("ttt_recon_loss"));
    CHECK(correlation["ttt_recon_loss"].contains("pearson_r"));
    CHECK(correlation["ttt_improvement"]["spearman_rho"].is_null());  // constant improvement
}

TEST_CASE("report: tables: recovery, per-language rows replayed on their own units, agreement",
          "[exports]") {
    const auto settings = halfRate();
    const auto run = fourUnitRun();
    const std::vector<AnalysedRun> runs = {analyseStoredRun(run, settings)};
    const auto main = table1(runs);
    REQUIRE(main.rows.size() == 1);
    CHECK(main.rows[0][2] == "2.5000");  // SKIP
    CHECK(main.rows[0][4] == "2.1250");  // Ours
    CHECK(main.rows[0][6] == "100.0%");  // Ours equals Oracle here
    // Two files are not enough for a 95% interval (their min and max; algorithm.md §8.3), and
    // one file is one block, its "interval" the point estimate twice.
    CHECK(main.rows[0][5] == "n/a (needs 10+ files)");
    auto oneFile = run;
    for (auto& u : oneFile.units)
        u.fileIndex = 0;
    const auto single = table1({analyseStoredRun(oneFile, settings)});
    CHECK(single.rows[0][5] == "n/a (needs 10+ files)");
    CHECK(single.rows[0][7] == "n/a (needs 10+ files)");
    // Ten files, one unit each: an interval.
    auto tenFiles = run;
    tenFiles.units.clear();
    for (int copy = 0; copy < 3; ++copy)
        for (auto u : run.units) {
            u.fileIndex = std::int64_t(tenFiles.units.size() % 10);
            u.unit = std::int64_t(tenFiles.units.size());
            tenFiles.units.push_back(u);
        }
    const auto ten = table1({analyseStoredRun(tenFiles, settings)});
    CHECK(ten.rows[0][5].front() == '[');
    const auto languages = table2(runs, settings);
    REQUIRE(languages.rows.size() == 2);
    CHECK(languages.rows[0][1] == "Go");
    CHECK(languages.rows[1][1] == "Python");
    // Go units alone: SKIP (4 + 1) / 2 = 2.5; UPDATE_1 (3 + 1) / 2 = 2.0.
    CHECK(languages.rows[0][3] == "2.5000");
    CHECK(languages.rows[0][4] == "2.0000");
    const auto agreement = table5(runs);
    const auto skipRow = std::find_if(agreement.rows.begin(), agreement.rows.end(),
                                      [](const auto& row) { return row[1] == "SKIP"; });
    REQUIRE(skipRow != agreement.rows.end());
    CHECK((*skipRow)[2] == "50.0%");  // SKIP agrees with the oracle's two SKIPs
}

TEST_CASE("report: exportRuns writes every file atomically and names an unwritable folder",
          "[exports]") {
    const auto dir = freshDir("out");
    const std::vector<StoredRun> runs = {fourUnitRun()};
    const auto written = exportRuns(runs, halfRate(), dir / "tables");
    for (const char* name :
         {"detailed_results.csv", "summary.csv", "summary.json", "correlation.json", "units.csv",
          "table1_main.csv", "table1_main.md", "table1_main.tex", "table2_languages.md",
          "table3_correlation.tex", "table5_agreement.csv", "table8_random.md",
          "table9_update1.csv", "table10_11_ablations.tex", "gates_same_rate.md", "per_file.csv",
          "advantage_split.csv"})
        CHECK(fs::exists(dir / "tables" / name));
    CHECK(written.size() == 6 + 9 * 3);
    for (const auto& entry : fs::directory_iterator(dir / "tables"))
        CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);

    std::ofstream(dir / "a-file") << "x";
    CHECK_THROWS_AS(exportRuns(runs, halfRate(), dir / "a-file" / "sub"), OutputError);
    StoredRun empty = fourUnitRun();
    empty.units.clear();
    CHECK_THROWS_AS(exportRuns({empty}, halfRate(), dir / "empty"), InputError);
}

TEST_CASE("report: the same-rate table sets each gate beside Random and the Oracle at its own rate",
          "[exports]") {
    // Ours (threshold 0.25) updates units 0 and 2: loss (1.5 + 3.0 + 3.0 + 1.0) / 4 = 2.125 at
    // rate 0.5; Random's expectation there is 2.5 - 0.5 x 0.3125 = 2.34375; the Oracle with two
    // updates takes the same units (advantages 1.0 and 0.5), so Ours captures the whole gap.
    // improvement-topk (a constant improvement here) is an extra row at its own rate.
    auto settings = halfRate();
    settings.extraPolicies = {"improvement-topk"};
    const auto run = fourUnitRun();
    const auto table = sameRateTable({analyseStoredRun(run, settings)});
    REQUIRE(table.rows.size() == 2);
    // No static path in this run: the adaptation oracle's columns are n/a and empty.
    CHECK(table.rows[0] == std::vector<std::string>{"run 7", "Ours (threshold)", "0.500", "2.1250",
                                                    "2.3438", "2.1250", "100.0%", "100.0%", "n/a",
                                                    ""});
    CHECK(table.rows[1][1] == "TTT Improvement");
}

TEST_CASE(
    "report: the advantage split: adaptation oracle, its capture, Table 3's columns, "
    "units.csv",
    "[exports][split]") {
    // fourUnitRun's units with a static path: advantages 0.5, -0.25, 1.0, 0.0 split into
    // static parts 0.4, -0.5, 0.95, -0.4 and inner parts 0.1, 0.25, 0.05, 0.4.
    auto run = fourUnitRun();
    const double staticLoss[] = {1.6, 3.5, 3.05, 1.4};
    for (std::size_t i = 0; i < run.units.size(); ++i)
        run.units[i].lossStatic = staticLoss[i];
    // Ours: a fixed threshold 0.15 on recon_step0 (0.3, 0.1, 0.4, 0.2) updates units 0, 2, 3;
    // it spends its own budget, so the baselines run at its rate 0.75.
    auto settings = halfRate();
    settings.ours.threshold = 0.15;
    std::vector<AnalysedRun> runs;
    runs.push_back(analyseStoredRun(run, settings));
    const auto& analysed = runs[0];
    const auto& a = analysed.analysis;
    REQUIRE(a.table.hasSplit());
    CHECK(a.table.advInner[3] == Approx(0.4));
    // The Oracle (3 updates) takes units 2, 0, 3; the adaptation oracle ranks by adv_inner and
    // takes 3, 1, 0: loss (1.5 + 3.25 + 4.0 + 1.0) / 4 = 2.4375, recovery (2.5 − 2.4375) /
    // (2.5 − 2.125) = 16.7%, and it agrees with the Oracle on units 0 and 3.
    REQUIRE(a.adaptationOracle);
    CHECK(a.adaptationOracle->run.decisions == std::vector<std::uint8_t>{1, 1, 0, 1});
    CHECK(a.adaptationOracle->summary.loss == Approx(2.4375));
    CHECK(a.adaptationOracle->summary.recovery == Approx(1.0 / 6.0));
    CHECK(a.adaptationOracle->summary.agreement == Approx(0.5));
    CHECK(a.innerShare == Approx(0.8 / 1.25));
    // It is a summary row right after the Oracle, not a policy: the published files keep theirs.
    const auto rows = summaryRows(a);
    REQUIRE(rows.size() == a.policies.size() + 1);
    CHECK(rows[3].label == "Oracle");
    CHECK(rows[4].label == "Adaptation Oracle");
    CHECK(detailedResultsCsv(analysed).find("Adaptation") == std::string::npos);
    // Ours' capture of the adaptation gap, on the inner part: its inner gain (0.1 + 0.05 +
    // 0.4) / 4 = 0.1375, Random's 0.75 × 0.2 = 0.15, the adaptation oracle's 0.1875:
    // (0.1375 − 0.15) / (0.1875 − 0.15) = −33.3%. (On losses it would read −81.8%.)
    const auto same = sameRateTable(runs);
    CHECK(same.rows[0][2] == "0.750");
    CHECK(same.rows[0][8] == "2.4375");
    CHECK(same.rows[0][9] == "-33.3%");
    const auto split = advantageSplitTable(runs);
    REQUIRE(split.rows.size() == 1);
    CHECK(split.rows[0] == std::vector<std::string>{"run 7", "4", "0.3125", "0.1125", "0.2000",
                                                    "64.0%", "2.1250", "2.4375", "2.1250", "100.0%",
                                                    "-33.3%", "-0.735"});
    // Table 3: recon_step0 against each part, over all units.
    const auto correlations = table3(runs);
    REQUIRE(correlations.rows[0][1] == "recon_step0");
    CHECK(correlations.rows[0][8] == "0.966");
    CHECK(correlations.rows[0][10] == "-0.735");
    // units.csv carries the three fields; a run without the static path leaves them NaN.
    const auto csv = lines(unitsCsv(analysed));
    CHECK(csv[0].find("confidence_update,loss_static,adv_static,adv_inner,decision_") !=
          std::string::npos);
    CHECK(csv[1].find(",1.6,0.399999") != std::string::npos);  // 2.0 − 1.6 in binary
    const auto plainRun = fourUnitRun();
    std::vector<AnalysedRun> without;
    without.push_back(analyseStoredRun(plainRun, settings));
    CHECK_FALSE(without[0].analysis.adaptationOracle);
    CHECK(advantageSplitTable(without).rows[0][5] == "n/a");
    CHECK(lines(unitsCsv(without[0]))[1].find(",nan,nan,nan,") != std::string::npos);
}

TEST_CASE("report: a gate:DIR policy exports through every table, languages included",
          "[exports]") {
    const auto dir = freshDir("gate-export");
    ponder::testing::writeAlwaysUpdateGate(dir / "my-gate", "ttt-a", "threshold", 0.6);
    auto run = fourUnitRun();
    run.description.tttSha256 = "ttt-a";
    for (auto& unit : run.units)
        unit.gateFeatures.assign(kStoredGateFeatures, 0.25f);
    auto settings = halfRate();
    settings.extraPolicies = {"gate:" + (dir / "my-gate").string()};
    // Table 2 replays every policy on each language's units: the gate's columns go with them.
    exportRuns({run}, settings, dir / "tables");
    // q = sigmoid(1) = 0.73 > 0.6 for every unit: the gate updates all four, in every table.
    const auto sameRate = readFileBytes(dir / "tables" / "gates_same_rate.csv");
    CHECK(sameRate.find("Gate my-gate,1.000,2.1875") != std::string::npos);
    // Labels: the folder's name, or the model's for a model's own gate folder.
    CHECK(methodName("gate:/models/small/gate/") == "Gate small");
    CHECK(methodName("gate:runs/g2") == "Gate g2");
    run.description.tttSha256 = "ttt-b";
    CHECK_THROWS_WITH(exportRuns({run}, settings, dir / "other"),
                      Catch::Contains("another TTT layer"));
}

TEST_CASE(
    "report: per_file.csv gives each file's losses, rates and recovery under the run's decisions",
    "[exports]") {
    const auto run = fourUnitRun();
    const auto analysed = analyseStoredRun(run, halfRate());
    // Ours (τ 0.25) updates units 0 and 2, as the Oracle at 0.5 does (advantages 0.5, 1.0).
    // a.py: SKIP (2 + 3) / 2, UPDATE (1.5 + 3.25) / 2, Ours and Oracle (1.5 + 3) / 2.
    // b.go: SKIP (4 + 1) / 2, UPDATE (3 + 1) / 2, Ours and Oracle (3 + 1) / 2.
    CHECK(lines(perFileCsv(analysed)) ==
          std::vector<std::string>{"file,file_index,units,loss_skip,loss_update,loss_ours,"
                                   "loss_oracle,rate_ours,rate_oracle,recovery_ours",
                                   "a.py,0,2,2.5,2.375,2.25,2.25,0.5,0.5,1.0",
                                   "b.go,1,2,2.5,2.0,2.0,2.0,0.5,0.5,1.0"});
}
