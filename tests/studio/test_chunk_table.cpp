// The studio's per-chunk table (app/studio/state/chunk_table.h): sorting (stable, NaN last, also
// at 3,000 rows), filters, the CSV of what is shown, finding a unit's row.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "app/studio/state/chunk_table.h"
#include "core/gating/run_analysis.h"

using namespace ponder;
using namespace ponder::studio;
using Rows = std::vector<std::size_t>;

namespace {

const std::string kPlain = "src/plain.py";
const std::string kOdd = "data/we,ird \"q\".py";  // needs RFC 4180 quoting

// Ten units in two files. Advantages with ties (0.1 three times) and one not computed (unit 2,
// as a fast-path SKIP unit has none).
const double kAdvantage[] = {0.30, 0.10, core::kNaN, 0.10, 0.50, 0.20, 0.10, -0.05, 0.40, 0.00};

std::vector<core::UnitRecord> tenUnits() {
    std::vector<core::UnitRecord> units;
    for (int i = 0; i < 10; ++i) {
        core::UnitRecord u;
        u.unit = i;
        u.fileIndex = i < 6 ? 0 : 1;
        u.file = i < 6 ? kPlain : kOdd;
        u.chunkIndex = i < 6 ? i : i - 6;
        u.tokenStart = u.chunkIndex * 32;
        u.tokens = 32;
        u.lineStart = 1 + 4 * int(u.chunkIndex);
        u.lineEnd = u.lineStart + 3;
        u.lossSkip = 3.0 + 0.125 * i;
        u.advantage = kAdvantage[i];
        u.lossUpdate = u.lossSkip - u.advantage;
        // The signal does not follow the advantage everywhere, so Ours and the Oracle disagree.
        u.reconStep0 = 1.0 + 0.1 * ((i * 3) % 10);
        u.reconInit = u.reconStep1 = u.reconStep0;
        u.entropy = 2.0;
        u.confidence = 0.25;
        units.push_back(u);
    }
    return units;
}

// Ours = a fixed threshold on recon_step0 beside the improvement top-k. Replayed on the units
// with the missing advantage read as 0 (the table reads the records, NaN included).
core::RunAnalysis analysisOf(std::vector<core::UnitRecord> units) {
    for (auto& u : units)
        if (std::isnan(u.advantage)) u.advantage = 0, u.lossUpdate = u.lossSkip;
    core::AnalysisSettings settings;
    settings.ours.name = "threshold";
    settings.ours.threshold = 1.45;
    settings.extraPolicies = {"improvement-topk"};
    return core::analyseUnits(core::unitTableFrom(units), settings);
}

ChunkTable tableOf(const std::vector<core::UnitRecord>& units, const core::RunAnalysis& analysis) {
    ChunkTable table;
    table.rebuild(units, analysis, {"Ours", "TTT Improvement"});
    return table;
}

std::size_t column(const ChunkTable& table, const std::string& name) {
    const auto index = table.columnIndex(name);
    REQUIRE(index);
    return *index;
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

}  // namespace

TEST_CASE("studio: the chunk table's columns and cells", "[studio][chunks]") {
    const auto units = tenUnits();
    const auto table = tableOf(units, analysisOf(units));
    std::vector<std::string> names;
    for (const auto& c : table.columns())
        names.push_back(c.name);
    CHECK(names == std::vector<std::string>{
                       "unit", "file", "chunk", "tokens", "lines", "recon_step0", "recon_init",
                       "recon_step1", "improvement", "entropy", "confidence", "loss SKIP",
                       "loss UPDATE", "advantage", "Ours", "Ours = Oracle", "TTT Improvement",
                       "TTT Improvement = Oracle", "Oracle"});
    CHECK(table.columns()[column(table, "advantage")].numeric);
    CHECK_FALSE(table.columns()[column(table, "Ours")].numeric);
    REQUIRE(table.rows() == Rows{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});  // run order unsorted
    CHECK(table.cellText(7, column(table, "file")) == "we,ird \"q\".py");
    CHECK(table.cellTooltip(7, column(table, "file")) == kOdd);
    CHECK(table.cellText(7, column(table, "lines")) == "5-8");
    CHECK(table.cellTooltip(7, column(table, "tokens")) == "tokens 32..63");
    CHECK(table.cellText(7, column(table, "advantage")) == "-0.0500");
    CHECK(table.cellText(2, column(table, "advantage")) == "n/a");
    CHECK(table.cellText(1, column(table, "loss SKIP")) == "3.1250");
    // Ours updates iff recon_step0 > 1.45: unit 5's is 1.5, unit 1's 1.3.
    CHECK(table.cellText(5, column(table, "Ours")) == "UPDATE");
    CHECK(table.cellText(1, column(table, "Ours")) == "SKIP");
    CHECK_THROWS_AS(table.cellText(10, 0), std::out_of_range);
}

TEST_CASE("studio: the chunk table sorts stably with NaN last", "[studio][chunks]") {
    const auto units = tenUnits();
    auto table = tableOf(units, analysisOf(units));
    const auto advantage = column(table, "advantage");
    table.setSort(advantage, true);
    // Ties (units 1, 3, 6 at 0.1) keep run order; the missing advantage comes last.
    CHECK(table.rows() == Rows{7, 9, 1, 3, 6, 5, 0, 8, 4, 2});
    table.setSort(advantage, false);
    CHECK(table.rows() == Rows{4, 8, 0, 5, 1, 3, 6, 9, 7, 2});
    CHECK(std::isnan(table.cellValue(9, advantage)));
    // Stable from run order, not from the previous sort: the ties come out the same after a
    // sort by another column.
    table.setSort(column(table, "loss SKIP"), false);
    table.setSort(advantage, false);
    CHECK(table.rows() == Rows{4, 8, 0, 5, 1, 3, 6, 9, 7, 2});
    table.clearSort();
    CHECK(table.rows() == Rows{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    // The file column sorts by the name shown: plain.py before we,ird "q".py.
    table.setSort(column(table, "file"), false);
    CHECK(table.rows() == Rows{6, 7, 8, 9, 0, 1, 2, 3, 4, 5});
    CHECK_THROWS_AS(table.setSort(table.columns().size(), true), std::out_of_range);
}

TEST_CASE("studio: the chunk table filters by file, decision and disagreement",
          "[studio][chunks]") {
    const auto units = tenUnits();
    const auto analysis = analysisOf(units);
    const auto& ours = analysis.find("Ours").run.decisions;
    const auto& topk = analysis.find("TTT Improvement").run.decisions;
    const auto& oracle = analysis.find("Oracle").run.decisions;
    auto table = tableOf(units, analysis);
    const auto expected = [&](auto keep) {
        Rows rows;
        for (std::size_t u = 0; u < units.size(); ++u)
            if (keep(u)) rows.push_back(u);
        return rows;
    };

    ChunkFilter filter;
    filter.files = {1};
    table.setFilter(filter);
    CHECK(table.rows() == Rows{6, 7, 8, 9});
    filter = {};
    filter.text = "WE,IRD";  // case-insensitive, anywhere in the path
    table.setFilter(filter);
    CHECK(table.rows() == Rows{6, 7, 8, 9});
    filter.text = "src/";
    table.setFilter(filter);
    CHECK(table.rows() == Rows{0, 1, 2, 3, 4, 5});

    filter = {};
    filter.decision = ChunkFilter::Decision::Update;  // Ours' by default
    table.setFilter(filter);
    const auto updated = expected([&](std::size_t u) { return ours[u] == 1; });
    REQUIRE(updated.size() > 0);
    REQUIRE(updated.size() < units.size());
    CHECK(table.rows() == updated);
    filter.decision = ChunkFilter::Decision::Skip;
    table.setFilter(filter);
    CHECK(table.rows() == expected([&](std::size_t u) { return ours[u] == 0; }));

    filter = {};
    filter.disagreesOnly = true;
    table.setFilter(filter);
    const auto disagree = expected([&](std::size_t u) { return ours[u] != oracle[u]; });
    REQUIRE(disagree.size() > 0);
    REQUIRE(disagree.size() < units.size());
    CHECK(table.rows() == disagree);
    filter.policy = "TTT Improvement";
    table.setFilter(filter);
    const auto topkDisagree = expected([&](std::size_t u) { return topk[u] != oracle[u]; });
    REQUIRE(topkDisagree != disagree);
    CHECK(table.rows() == topkDisagree);
    filter.policy = "no such policy";
    table.setFilter(filter);
    CHECK(table.rows().empty());

    // Filters and sorting together: the sort applies to what the filter keeps.
    filter = {};
    filter.files = {0};
    table.setFilter(filter);
    table.setSort(column(table, "advantage"), false);
    CHECK(table.rows() == Rows{4, 0, 5, 1, 3, 2});
}

TEST_CASE("studio: the chunk table's CSV is the rows shown, quoted", "[studio][chunks]") {
    const auto units = tenUnits();
    auto table = tableOf(units, analysisOf(units));
    ChunkFilter filter;
    filter.files = {1};
    table.setFilter(filter);
    table.setSort(column(table, "advantage"), true);
    const auto csv = lines(table.csv());
    REQUIRE(csv.size() == 1 + table.rows().size());
    CHECK(csv[0] ==
          "unit,file,chunk,tokens,lines,recon_step0,recon_init,recon_step1,improvement,entropy,"
          "confidence,loss_skip,loss_update,advantage,decision_Ours,agrees_Ours,"
          "decision_TTT Improvement,agrees_TTT Improvement,decision_Oracle");
    // Unit 7 first (advantage -0.05): the full path quoted, numbers in full precision.
    CHECK(csv[1].rfind("7,\"data/we,ird \"\"q\"\".py\",1,32,5-8,", 0) == 0);
    CHECK(csv[1].find(",3.875,3.925,-0.05,") != std::string::npos);
    filter = {};
    table.setFilter(filter);
    table.clearSort();
    const auto all = lines(table.csv());
    REQUIRE(all.size() == 11);
    // The missing advantage is an empty field, not "n/a".
    CHECK(all[3].find(",3.25,,,") != std::string::npos);
}

TEST_CASE("studio: the chunk table finds a unit's row after sorting", "[studio][chunks]") {
    const auto units = tenUnits();
    auto table = tableOf(units, analysisOf(units));
    CHECK(table.rowOfUnit(4) == std::optional<std::size_t>(4));
    table.setSort(column(table, "advantage"), false);
    CHECK(table.rowOfUnit(4) == std::optional<std::size_t>(0));
    CHECK(table.rowOfUnit(2) == std::optional<std::size_t>(9));
    CHECK(table.rows()[*table.rowOfUnit(6)] == 6);
    ChunkFilter filter;
    filter.files = {1};
    table.setFilter(filter);
    CHECK_FALSE(table.rowOfUnit(4));  // filtered out
    CHECK(table.rowOfUnit(8) == std::optional<std::size_t>(0));
    CHECK_FALSE(table.rowOfUnit(-1));
    CHECK_FALSE(table.rowOfUnit(10));
    // A rebuild keeps the filter and the sort.
    table.rebuild(units, analysisOf(units), {"Ours"});
    CHECK(table.rows() == Rows{8, 6, 9, 7});
}

TEST_CASE("studio: sorting 3,000 chunks is stable", "[studio][chunks]") {
    std::vector<core::UnitRecord> units;
    for (int i = 0; i < 3000; ++i) {
        core::UnitRecord u;
        u.unit = i;
        u.fileIndex = i / 100;
        u.file = "src/file" + std::to_string(i / 100) + ".py";
        u.chunkIndex = i % 100;
        u.lossSkip = 3.0;
        u.advantage = 0.001 * double((i * 7919) % 1000);
        u.lossUpdate = u.lossSkip - u.advantage;
        u.reconStep0 = 1.0 + u.advantage;
        units.push_back(u);
    }
    const auto analysis = core::analyseUnits(core::unitTableFrom(units), {});
    ChunkTable table;
    table.rebuild(units, analysis, {"Ours"});
    const auto advantage = column(table, "advantage");
    // No time limit here (a timed unit test fails on a loaded machine, as it did under the
    // sanitizers at -O0): a sort reorders cached indices, O(n log n), never the rows' text.
    // Every advantage is shared by three units: at this size only a stable sort keeps them in
    // run order (a small table's insertion sort would be stable by accident).
    for (bool ascending : {true, false}) {
        table.setSort(advantage, ascending);
        const auto& rows = table.rows();
        REQUIRE(rows.size() == 3000);
        std::size_t tied = 0;
        for (std::size_t r = 1; r < rows.size(); ++r)
            if (units[rows[r]].advantage == units[rows[r - 1]].advantage) {
                ++tied;
                CHECK(rows[r - 1] < rows[r]);
            }
        CHECK(tied == 2000);
    }
}
