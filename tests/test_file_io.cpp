// Tests for whole-file reads and atomic writes: typed errors, replacement, no leftovers.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <new>
#include <stdexcept>
#include <string>

#include "core/util/errors.h"
#include "core/util/file_io.h"
#include "tests/test_support.h"

namespace fs = std::filesystem;
using ponder::core::InputError;
using ponder::core::OutputError;
using ponder::core::readFileBytes;
using ponder::core::writeFileAtomic;
using ponder::testing::readText;
using ponder::testing::TempDir;

namespace {

std::size_t entryCount(const fs::path& dir) {
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir))
        ++count;
    return count;
}

}  // namespace

TEST_CASE("util: readFileBytes rejects a missing file and a directory with InputError",
          "[file_io]") {
    TempDir dir("ponder_file_io_test");
    CHECK_THROWS_AS(readFileBytes(dir.path / "missing.txt"), InputError);
    CHECK_THROWS_WITH(readFileBytes(dir.path / "missing.txt"), Catch::Contains("missing.txt"));
    CHECK_THROWS_AS(readFileBytes(dir.path), InputError);
    CHECK_THROWS_WITH(readFileBytes(dir.path), Catch::Contains("directory"));
    try {
        readFileBytes(dir.path / "missing.txt");
    } catch (const InputError& e) {
        CHECK_FALSE(e.hint().empty());
    }
}

TEST_CASE("util: readFileBytes returns the exact bytes, NUL and invalid UTF-8 included",
          "[file_io]") {
    TempDir dir("ponder_file_io_test");
    const std::string bytes("a\0b\xff\r\n", 6);
    std::ofstream(dir.path / "data.bin", std::ios::binary) << bytes;
    CHECK(readFileBytes(dir.path / "data.bin") == bytes);
    std::ofstream(dir.path / "empty.bin", std::ios::binary).close();
    CHECK(readFileBytes(dir.path / "empty.bin").empty());
}

TEST_CASE("util: writeFileAtomic writes a new file and replaces an old one", "[file_io]") {
    TempDir dir("ponder_file_io_test");
    const fs::path target = dir.path / "out.txt";
    writeFileAtomic(target, std::string_view("first version, longer than the second"));
    CHECK(readFileBytes(target) == "first version, longer than the second");
    writeFileAtomic(target, [](std::ostream& out) { out << "second"; });
    CHECK(readFileBytes(target) == "second");
    CHECK(entryCount(dir.path) == 1);  // no temp file left behind
}

TEST_CASE("util: writeFileAtomic into a missing folder throws OutputError and leaves nothing",
          "[file_io]") {
    TempDir dir("ponder_file_io_test");
    const fs::path target = dir.path / "no_such_folder" / "out.txt";
    CHECK_THROWS_AS(writeFileAtomic(target, std::string_view("data")), OutputError);
    try {
        writeFileAtomic(target, std::string_view("data"));
    } catch (const OutputError& e) {
        CHECK(std::string(e.what()).find("out.txt") != std::string::npos);
        CHECK_FALSE(e.hint().empty());
    }
    CHECK_FALSE(fs::exists(dir.path / "no_such_folder"));
    CHECK(entryCount(dir.path) == 0);
}

TEST_CASE("util: a writer that throws leaves the old file intact and no temp file behind",
          "[file_io]") {
    TempDir dir("ponder_file_io_test");
    const fs::path target = dir.path / "keep.txt";
    writeFileAtomic(target, std::string_view("old content"));
    CHECK_THROWS_AS(writeFileAtomic(target,
                                    [](std::ostream& out) {
                                        out << "partial";
                                        throw std::runtime_error("disk on fire");
                                    }),
                    std::runtime_error);
    CHECK(readFileBytes(target) == "old content");
    CHECK(entryCount(dir.path) == 1);
}

TEST_CASE("util: every error carries its kind, and foreign exceptions are internal", "[errors]") {
    using namespace ponder::core;
    const auto kindOf = [](auto&& thrown) {
        try {
            throw thrown;
        } catch (...) {
            return describeError(std::current_exception());
        }
    };
    CHECK(kindOf(WeightsFormatError("w", "h")).kind == ErrorKind::Weights);
    CHECK(kindOf(ModelLoadError("m", "h")).kind == ErrorKind::Model);
    CHECK(kindOf(TokenizerError("t", "h")).kind == ErrorKind::Tokenizer);
    CHECK(kindOf(InputError("i", "h")).kind == ErrorKind::Input);
    CHECK(kindOf(OutputError("o", "h")).kind == ErrorKind::Output);
    CHECK(kindOf(StoreError("s", "h")).kind == ErrorKind::Store);
    CHECK(kindOf(TrainingError("d", "h")).kind == ErrorKind::Training);
    CHECK(kindOf(CancelledError("c", "h")).kind == ErrorKind::Cancelled);
    CHECK(kindOf(DistributedError("r", "h")).kind == ErrorKind::Distributed);
    CHECK(std::string(errorKindName(ErrorKind::Distributed)) == "distributed");
    const auto ours = kindOf(StoreError("database is locked", "close the other writer"));
    CHECK(ours.what == "database is locked");
    CHECK(ours.hint == "close the other writer");
    // A LibTorch error's what() is its reason, then a backtrace: only the reason is shown.
    const auto foreign =
        kindOf(std::runtime_error("shape '[3]' is invalid\nException raised from"));
    CHECK(foreign.kind == ErrorKind::Internal);
    CHECK(foreign.what == "shape '[3]' is invalid");
    CHECK(foreign.hint.find("report") != std::string::npos);
    CHECK(kindOf(std::bad_alloc()).what == "out of memory");
    CHECK(kindOf(42).what == "unknown error");
    CHECK(std::string(errorKindName(ErrorKind::Store)) == "store");
    CHECK(std::string(errorKindName(ErrorKind::Internal)) == "internal");
}

TEST_CASE("util: error texts name settings as {--flag}, and each front end says them its way",
          "[errors]") {
    using namespace ponder::core;
    const InputError error("unknown {--shape} 'x'", "use {--chunk 512} or {--device cpu}");
    // Plain text for what() and hint(): the setting's name.
    CHECK(std::string(error.what()) == "unknown shape 'x'");
    CHECK(error.hint() == "use chunk 512 or device cpu");
    // The command line's words: the flags.
    CHECK(inCommandLineWords(error.rawHint()) == "use --chunk 512 or --device cpu");
    // Any words: the studio passes its controls' labels.
    CHECK(inWords(error.rawWhat(), [](const std::string& flag, const std::string&) {
              return "<" + flag + ">";
          }) == "unknown <--shape> 'x'");
    // The report keeps the raw texts and lists the settings named.
    ErrorReport report;
    try {
        throw error;
    } catch (...) {
        report = describeError(std::current_exception());
    }
    CHECK(report.what == "unknown {--shape} 'x'");
    CHECK(report.settings == std::vector<std::string>{"--shape", "--chunk", "--device"});
    // Braces that are not a setting stay as they are (paths, JSON, a lone flag).
    for (const std::string text :
         {"/tmp/{a}/x", "json {}", "{--}", "{--x", "{--chunk 5", "--chunk", "{--Chunk}"})
        CHECK(inCommandLineWords(text) == text);
}
