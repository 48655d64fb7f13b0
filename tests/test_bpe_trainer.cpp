// Tests for the BPE trainer: hand-computed first merges, id layout, stopping rules,
// determinism, and that its files load into BpeTokenizer and round-trip.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/text/bpe_tokenizer.h"
#include "core/text/bpe_trainer.h"
#include "core/util/errors.h"
#include "tests/test_support.h"

namespace fs = std::filesystem;
using ponder::core::BpeTokenizer;
using ponder::core::BpeTrainer;
using ponder::core::BpeTrainOptions;
using ponder::core::byteToUnicode;
using ponder::testing::readText;
using ponder::testing::TempDir;

namespace {

void writeBlocker(const fs::path& path) {
    std::ofstream(path) << "not a folder";
}

std::vector<std::string> mergeLines(const fs::path& dir) {
    std::istringstream in(readText(dir / "merges.txt"));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

// Seeded pseudo-code: enough repetition for a few hundred merges, plus odd bytes.
std::string syntheticCorpus(unsigned seed) {
    const char* const words[] = {
        "def", "return", "self", "value", "for",  "in", "range", "import", "numpy", "as",   "np",
        "x",   "y",      "=",    "+=",    "(",    "):", "print", "if",     "else",  "None", "True",
        "0",   "1",      "42",   "héllo", "日本", "\t", "\n",    "\n    ", "'s",    "é",    "\xff"};
    std::mt19937 rng(seed);
    std::uniform_int_distribution<std::size_t> pick(0, std::size(words) - 1);
    std::string text;
    while (text.size() < 60000) {
        text += words[pick(rng)];
        text += ' ';
    }
    return text;
}

}  // namespace

TEST_CASE("text: trainer learns the most frequent pairs first, ties by token strings",
          "[trainer]") {
    TempDir dir("ponder_bpe_train_test");
    BpeTrainer trainer(BpeTrainOptions{1000, 2});
    // Pieces "abc", " abc", " abc", " abd": (a,b) occurs 4 times; then (ab,c) and (Ġ,ab) both
    // 3 times, and "ab" sorts before "Ġ"; then (Ġ,abc) twice; every other pair once.
    trainer.addText("abc abc abc abd");
    const auto summary = trainer.trainAndWrite(dir.path);
    CHECK(summary.merges == 3);
    CHECK(summary.vocabSize == 260);
    CHECK(summary.inputBytes == 15);
    CHECK(summary.distinctPieces == 3);
    CHECK(mergeLines(dir.path) ==
          std::vector<std::string>{"#version: 0.2", "a b", "ab c", "Ġ abc"});

    const auto vocab = nlohmann::json::parse(readText(dir.path / "vocab.json"));
    CHECK(vocab.size() == 260);
    CHECK(vocab["ab"] == 256);
    CHECK(vocab["abc"] == 257);
    CHECK(vocab["Ġabc"] == 258);
    CHECK(vocab["<|endoftext|>"] == 259);

    const BpeTokenizer tok = BpeTokenizer::load(dir.path);
    CHECK(tok.encode("abc abc abd") == std::vector<std::int32_t>{257, 258, 220, 256, 'd' - 33});
    CHECK(tok.endOfTextId() == 259);
}

TEST_CASE("text: trained ids put the 256 bytes first in GPT-2 order and <|endoftext|> last",
          "[trainer]") {
    TempDir dir("ponder_bpe_train_test");
    BpeTrainer trainer(BpeTrainOptions{300, 2});
    trainer.addText(syntheticCorpus(1));
    const auto summary = trainer.trainAndWrite(dir.path);
    REQUIRE(summary.vocabSize == 300);
    CHECK(summary.merges == 300 - 257);

    const auto vocab = nlohmann::json::parse(readText(dir.path / "vocab.json"));
    REQUIRE(vocab.size() == 300);
    CHECK(vocab[byteToUnicode()['!']] == 0);
    CHECK(vocab[byteToUnicode()['~']] == 93);
    CHECK(vocab[byteToUnicode()[0xA1]] == 94);
    CHECK(vocab[byteToUnicode()[0xFF]] == 187);
    CHECK(vocab[byteToUnicode()[0]] == 188);
    CHECK(vocab[byteToUnicode()['\n']] == 198);  // as in GPT-2's encoder.json
    CHECK(vocab[byteToUnicode()[' ']] == 220);
    CHECK(vocab[byteToUnicode()[0xAD]] == 255);
    CHECK(vocab["<|endoftext|>"] == 299);
    // vocab.json is written in id order.
    const std::string text = readText(dir.path / "vocab.json");
    CHECK(text.find("\"!\": 0,") < text.find("\"\\\"\": 1,"));
}

TEST_CASE("text: trainer stops at the vocabulary size or below the minimum pair count",
          "[trainer]") {
    TempDir dir("ponder_bpe_train_test");
    SECTION("vocabulary size") {
        BpeTrainer trainer(BpeTrainOptions{258, 1});
        trainer.addText("abc abc abc abd");
        const auto summary = trainer.trainAndWrite(dir.path);
        CHECK(summary.merges == 1);
        CHECK(summary.vocabSize == 258);
        CHECK(mergeLines(dir.path) == std::vector<std::string>{"#version: 0.2", "a b"});
    }
    SECTION("minimum pair count") {
        BpeTrainer trainer(BpeTrainOptions{1000, 4});
        trainer.addText("abc abc abc abd");
        CHECK(trainer.trainAndWrite(dir.path).merges == 1);
    }
}

TEST_CASE("text: trained tokenizer loads and round-trips text and random bytes", "[trainer]") {
    TempDir dir("ponder_bpe_train_test");
    BpeTrainer trainer(BpeTrainOptions{340, 2});
    trainer.addText(syntheticCorpus(2));
    trainer.addText("second file\r\nwith CRLF\r\n");
    const auto summary = trainer.trainAndWrite(dir.path);
    CHECK(summary.vocabSize == 340);

    const BpeTokenizer tok = BpeTokenizer::load(dir.path);
    CHECK(tok.vocabSize() == 340);
    CHECK(tok.mergeCount() == summary.merges);
    CHECK(tok.endOfTextId() == 339);
    const std::string sample = syntheticCorpus(3).substr(0, 5000);
    const auto ids = tok.encode(sample);
    CHECK(ids.size() < sample.size() / 2);  // the merges compress text like the corpus
    CHECK(tok.decode(ids) == sample);

    std::mt19937 rng(5);
    std::uniform_int_distribution<int> byte(0, 255);
    for (int i = 0; i < 200; ++i) {
        std::string bytes(static_cast<std::size_t>(i), '\0');
        for (auto& c : bytes)
            c = static_cast<char>(byte(rng));
        REQUIRE(tok.decode(tok.encode(bytes)) == bytes);
    }
}

TEST_CASE("text: two trainings on the same corpus write identical files", "[trainer]") {
    TempDir first("ponder_bpe_train_test");
    TempDir second("ponder_bpe_train_test");
    for (const auto* dir : {&first, &second}) {
        BpeTrainer trainer(BpeTrainOptions{500, 2});
        trainer.addText(syntheticCorpus(4));
        trainer.addText(syntheticCorpus(5));
        trainer.trainAndWrite(dir->path);
    }
    CHECK(readText(first.path / "vocab.json") == readText(second.path / "vocab.json"));
    CHECK(readText(first.path / "merges.txt") == readText(second.path / "merges.txt"));
    CHECK_FALSE(readText(first.path / "merges.txt").empty());
}

TEST_CASE("text: trainer without text writes the 256 byte tokens and <|endoftext|> only",
          "[trainer]") {
    TempDir dir("ponder_bpe_train_test");
    const auto summary = BpeTrainer(BpeTrainOptions{}).trainAndWrite(dir.path);
    CHECK(summary.vocabSize == 257);
    CHECK(summary.merges == 0);
    const BpeTokenizer tok = BpeTokenizer::load(dir.path);
    CHECK(tok.vocabSize() == 257);
    CHECK(tok.mergeCount() == 0);
    CHECK(tok.endOfTextId() == 256);
    CHECK(tok.decode(tok.encode("any text")) == "any text");
}

TEST_CASE("text: trainer rejects a vocabulary too small for the byte tokens", "[trainer]") {
    TempDir dir("ponder_bpe_train_test");
    BpeTrainer tiny(BpeTrainOptions{256, 2});
    tiny.addText("abc");
    CHECK_THROWS_AS(tiny.trainAndWrite(dir.path), ponder::core::InputError);
    CHECK_FALSE(fs::exists(dir.path / "vocab.json"));
}

TEST_CASE("text: trainer reports an output folder it cannot create", "[trainer]") {
    TempDir dir("ponder_bpe_train_test");
    writeBlocker(dir.path / "file");
    BpeTrainer trainer(BpeTrainOptions{300, 2});
    trainer.addText("abc abc");
    CHECK_THROWS_AS(trainer.trainAndWrite(dir.path / "file" / "out"), ponder::core::OutputError);
}
