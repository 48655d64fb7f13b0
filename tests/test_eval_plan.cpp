// Evaluation units (design.md §4): chunking and tail trimming in file mode, <|endoftext|>
// packing and batching in paper mode, line ranges, and which inputs are refused or skipped.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "core/eval/eval_plan.h"
#include "core/text/bpe_tokenizer.h"
#include "core/text/bpe_trainer.h"
#include "core/util/errors.h"

using namespace ponder::core;
namespace fs = std::filesystem;

namespace {

struct Fixture {
    fs::path dir = fs::temp_directory_path() / ("ponder_plan_" + std::to_string(::getpid()));
    Fixture() {
        fs::remove_all(dir);
        fs::create_directories(dir / "tok");
        BpeTrainer({257, 2}).trainAndWrite(dir / "tok");  // one token per byte, eot = 256
    }
    ~Fixture() { fs::remove_all(dir); }
    fs::path write(const std::string& name, const std::string& text) const {
        const auto path = dir / name;
        fs::create_directories(path.parent_path());
        std::ofstream(path, std::ios::binary) << text;
        return path;
    }
    BpeTokenizer tokenizer() const { return BpeTokenizer::load(dir / "tok"); }
};

std::string lines(int count, int width) {  // `count` lines of `width` bytes incl. '\n'
    std::string text;
    for (int i = 0; i < count; ++i)
        text += std::string(width - 1, char('a' + i % 26)) + "\n";
    return text;
}

}  // namespace

TEST_CASE("eval: file mode cuts full chunks and keeps a tail of >= 64 tokens trimmed to 16s",
          "[plan]") {
    Fixture fixture;
    const auto tokenizer = fixture.tokenizer();
    PlanOptions options;
    const auto keep = fixture.write("keep.py", std::string(1100, 'x'));  // 512 + 512 + 76
    const auto drop = fixture.write("drop.py", std::string(1060, 'y'));  // 512 + 512 + 36
    const auto plan = buildEvalPlan(tokenizer, {keep, drop}, options);
    REQUIRE(plan.units.size() == 5);
    CHECK(plan.units[2].tokens == 64);  // 76 trimmed to a multiple of 16
    CHECK(plan.units[2].tokenStart == 1024);
    CHECK(plan.units[3].fileIndex == 1);
    CHECK(plan.units[4].tokens == 512);
    CHECK(plan.files[0].droppedTokens == 12);
    CHECK(plan.files[1].droppedTokens == 36);
    CHECK(plan.droppedTokens == 48);
    CHECK(plan.totalTokens == 2160);
    for (std::size_t i = 0; i < plan.units.size(); ++i)
        CHECK(plan.units[i].index == std::int64_t(i));
    const auto ids = plan.unitIds(plan.units[2]);
    CHECK(ids.size() == 64);
}

TEST_CASE("eval: a unit knows the source lines its tokens span", "[plan]") {
    Fixture fixture;
    const auto file = fixture.write("lines.py", lines(40, 32));  // 1280 bytes, 32 per line
    PlanOptions options;
    options.chunk = 256;
    const auto plan = buildEvalPlan(fixture.tokenizer(), {file}, options);
    REQUIRE(plan.units.size() == 5);
    const auto& f = plan.files[0];
    CHECK(f.lineOf(f.tokenByteStart[plan.units[0].tokenStart]) == 1);
    CHECK(f.lineOf(f.tokenByteStart[255]) == 8);
    CHECK(f.lineOf(f.tokenByteStart[256]) == 9);
    CHECK(f.lineOf(f.tokenByteStart[1279]) == 40);
}

TEST_CASE(
    "eval: named inputs that cannot form a unit are errors, but inside a folder they are skipped",
    "[plan]") {
    Fixture fixture;
    const auto tokenizer = fixture.tokenizer();
    const auto tiny = fixture.write("corpus/tiny.py", "x = 1\n");
    const auto binary = fixture.write("corpus/blob.py", std::string("ab\0cd", 5));
    fixture.write("corpus/good.py", std::string(700, 'z'));
    fixture.write("corpus/notes.txt", std::string(700, 'n'));
    PlanOptions options;
    CHECK_THROWS_WITH(buildEvalPlan(tokenizer, {tiny}, options),
                      Catch::Contains("fewer than the 64"));
    CHECK_THROWS_WITH(buildEvalPlan(tokenizer, {binary}, options), Catch::Contains("binary"));
    CHECK_THROWS_AS(buildEvalPlan(tokenizer, {fixture.dir / "missing.py"}, options), InputError);
    const auto plan = buildEvalPlan(tokenizer, {fixture.dir / "corpus"}, options, {".py"});
    CHECK(plan.files.size() == 1);
    CHECK(plan.skipped.size() == 2);
    CHECK(plan.units.size() == 2);  // 512 + 188 -> 176
    // The binary file is counted in one line (a __pycache__ gives dozens), the short one named.
    REQUIRE(plan.skippedBinary.size() == 1);
    CHECK(plan.skipped[plan.skippedBinary[0]].find("blob.py") != std::string::npos);
    const auto report = skippedReport(plan);
    REQUIRE(report.size() == 2);
    CHECK(report[0].find("tiny.py") != std::string::npos);
    CHECK(report[1] == "skipped 1 binary file (e.g. " + binary.string() + ")");
    const auto all = buildEvalPlan(tokenizer, {fixture.dir / "corpus"}, options);
    CHECK(all.files.size() == 2);  // the .txt joins without an extension filter
    options.chunk = 100;
    CHECK_THROWS_WITH(buildEvalPlan(tokenizer, {tiny}, options), Catch::Contains("multiple"));
}

TEST_CASE("eval: paper mode packs files with <|endoftext|> into 2-chunk windows, batched",
          "[plan]") {
    Fixture fixture;
    const auto a = fixture.write("a.py", std::string(300, 'a'));
    const auto b = fixture.write("b.py", std::string(200, 'b'));
    PlanOptions options;
    options.mode = EvalMode::Paper;
    options.chunk = 32;  // windows of 64 tokens
    options.paperBatch = 3;
    const auto plan = buildEvalPlan(fixture.tokenizer(), {a, b}, options);
    REQUIRE(plan.stream.size() == 501);
    CHECK(plan.stream[300] == 256);  // one <|endoftext|> between the documents
    // 501 / 64 = 7 windows (dropping 53 tokens) -> batches of 3, 3, 1, two units each.
    CHECK(plan.droppedTokens == 53);
    REQUIRE(plan.units.size() == 6);
    CHECK(plan.units[0].sequences == 3);
    CHECK(plan.units[5].sequences == 1);
    CHECK(plan.units[1].chunkIndex == 1);
    CHECK(plan.units[1].tokenStart == 32);
    CHECK(plan.units[2].batchIndex == 1);
    CHECK(plan.units[2].tokenStart == 192);
    const auto ids = plan.unitIds(plan.units[3]);  // batch 1, chunk 1: windows 3..5
    REQUIRE(ids.size() == 3 * 32);
    for (int row = 0; row < 3; ++row)
        for (int t = 0; t < 32; ++t)
            CHECK(ids[row * 32 + t] == plan.stream[(3 + row) * 64 + 32 + t]);
    options.chunk = 512;
    CHECK_THROWS_WITH(buildEvalPlan(fixture.tokenizer(), {a, b}, options),
                      Catch::Contains("fewer than one 1024-token window"));
}
