// Tests for GPT-2 pre-tokenization and the byte-level BPE tokenizer, with a handmade fixture
// and, when $PONDER_GPT2_TOKENIZER_DIR holds the real files, known GPT-2 encodings.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/text/bpe_tokenizer.h"
#include "core/text/pretokenizer.h"
#include "core/util/errors.h"

namespace fs = std::filesystem;
using ponder::core::BpeTokenizer;
using ponder::core::byteToUnicode;
using ponder::core::splitGpt2Pieces;
using ponder::core::TokenizerError;

namespace {

std::vector<std::string> split(std::string_view text) {
    std::vector<std::string> pieces;
    for (const auto piece : splitGpt2Pieces(text))
        pieces.emplace_back(piece);
    return pieces;
}

using Pieces = std::vector<std::string>;

// A fresh folder under the system temp dir, removed when the test ends.
struct TempDir {
    fs::path path;
    TempDir() {
        static int counter = 0;
        path = fs::temp_directory_path() /
               ("ponder_tok_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

void writeText(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
}

// Tiny vocabulary: byte b has id b, then a few merges whose ranks make order matter:
// "a b" (rank 0) beats "b c" (rank 1), and "Ġ a" (rank 4) loses to "a b" and "a a".
constexpr int kAb = 256, kBc = 257, kSpaceAb = 258, kAa = 259, kSpaceA = 260, kEot = 261;

std::string fixtureVocabJson() {
    nlohmann::json vocab = nlohmann::json::object();
    for (int b = 0; b < 256; ++b)
        vocab[byteToUnicode()[b]] = b;
    vocab["ab"] = kAb;
    vocab["bc"] = kBc;
    vocab["Ġab"] = kSpaceAb;
    vocab["aa"] = kAa;
    vocab["Ġa"] = kSpaceA;
    vocab["<|endoftext|>"] = kEot;
    return vocab.dump();
}

const char* const kFixtureMerges = "#version: 0.2\na b\nb c\nĠ ab\n\na a\nĠ a\n";

BpeTokenizer makeFixture(const TempDir& dir, const std::string& merges = kFixtureMerges) {
    writeText(dir.path / "vocab.json", fixtureVocabJson());
    writeText(dir.path / "merges.txt", merges);
    return BpeTokenizer::load(dir.path);
}

std::string randomBytes(std::mt19937& rng, std::size_t maxLength) {
    std::uniform_int_distribution<std::size_t> length(0, maxLength);
    std::uniform_int_distribution<int> kind(0, 9);
    std::uniform_int_distribution<int> byte(0, 255);
    const char* const snippets[] = {" ",
                                    "  ",
                                    "\n",
                                    "'s",
                                    "é",
                                    "你",
                                    "١",
                                    "\xc2\xa0",
                                    "ab",
                                    "\x00",
                                    "\xff",
                                    "\xe4\xb8",
                                    "<|endoftext|>",
                                    "x",
                                    "'"};
    std::uniform_int_distribution<std::size_t> pick(0, std::size(snippets) - 1);
    std::string text;
    const std::size_t n = length(rng);
    while (text.size() < n) {
        if (kind(rng) < 4) {
            text.push_back(static_cast<char>(byte(rng)));
        } else {
            const char* s = snippets[pick(rng)];
            text += *s ? std::string(s) : std::string(1, '\0');
        }
    }
    return text;
}

}  // namespace

TEST_CASE("text: pre-tokenizer splits words with their leading space", "[pretokenizer]") {
    CHECK(split("Hello world") == Pieces{"Hello", " world"});
    CHECK(split("").empty());
    CHECK(split("x") == Pieces{"x"});
    CHECK(split("abc123 def") == Pieces{"abc", "123", " def"});
    CHECK(split("f(x) = y;") == Pieces{"f", "(", "x", ")", " =", " y", ";"});
}

TEST_CASE("text: pre-tokenizer splits off the seven case-sensitive contractions",
          "[pretokenizer]") {
    CHECK(split("I'm don't we'll they're I've she'd it's") ==
          Pieces{"I", "'m", " don", "'t", " we", "'ll", " they", "'re", " I", "'ve", " she", "'d",
                 " it", "'s"});
    CHECK(split("IT'S") == Pieces{"IT", "'", "S"});
    CHECK(split("'sx") == Pieces{"'s", "x"});
    CHECK(split("''s") == Pieces{"''", "s"});
    CHECK(split(" 's") == Pieces{" '", "s"});
    CHECK(split("'") == Pieces{"'"});
    CHECK(split("'l") == Pieces{"'", "l"});
}

TEST_CASE("text: pre-tokenizer leaves a whitespace run's last space for the next word",
          "[pretokenizer]") {
    CHECK(split("a   b") == Pieces{"a", "  ", " b"});
    CHECK(split("  x") == Pieces{" ", " x"});
    CHECK(split(" x") == Pieces{" x"});
    CHECK(split("def f():\n    return 1") == Pieces{"def", " f", "():", "\n   ", " return", " 1"});
    CHECK(split("a\nb") == Pieces{"a", "\n", "b"});
    CHECK(split("a\n\nb") == Pieces{"a", "\n", "\n", "b"});
    CHECK(split("a \tb") == Pieces{"a", " ", "\t", "b"});
}

TEST_CASE("text: pre-tokenizer keeps trailing whitespace in one piece", "[pretokenizer]") {
    CHECK(split("x  ") == Pieces{"x", "  "});
    CHECK(split("x \n") == Pieces{"x", " \n"});
    CHECK(split("   ") == Pieces{"   "});
    CHECK(split("x\n") == Pieces{"x", "\n"});
}

TEST_CASE("text: pre-tokenizer classes Unicode letters, digits and symbols", "[pretokenizer]") {
    CHECK(split("héllo wörld") == Pieces{"héllo", " wörld"});
    CHECK(split("你好世界") == Pieces{"你好世界"});
    CHECK(split("日本語 テキスト") == Pieces{"日本語", " テキスト"});
    CHECK(split("x=١٢٣") == Pieces{"x", "=", "١٢٣"});
    CHECK(split(" ١٢٣abc") == Pieces{" ١٢٣", "abc"});
    CHECK(split("x²Ⅻ") == Pieces{"x", "²Ⅻ"});  // No and Nl count as numbers
    // A combining accent (Mn) is neither letter nor number.
    CHECK(split("e\xcc\x81t") == Pieces{"e", "\xcc\x81", "t"});
    CHECK(split("hi 👋🏽!") == Pieces{"hi", " 👋🏽!"});
}

TEST_CASE("text: pre-tokenizer uses JavaScript's whitespace set", "[pretokenizer]") {
    // U+00A0 is \s but not the optional leading ' '.
    CHECK(split("a\u00a0b") == Pieces{"a", "\u00a0", "b"});
    CHECK(split("a \u00a0b") == Pieces{"a", " ", "\u00a0", "b"});
    CHECK(split("a\u3000\u3000") == Pieces{"a", "\u3000\u3000"});
    CHECK(split("a\u2028b") == Pieces{"a", "\u2028", "b"});
    CHECK(split("\ufeffx") == Pieces{"\ufeff", "x"});
    // U+0085 (NEL) is whitespace for Python and Rust, but not for JavaScript.
    CHECK(split("a\u0085b") == Pieces{"a", "\u0085", "b"});
    CHECK(split(" \u0085") == Pieces{" \u0085"});
}

TEST_CASE("text: pre-tokenizer keeps invalid UTF-8 bytes as symbol characters", "[pretokenizer]") {
    CHECK(split("a\xff\xfe"
                "b") == Pieces{"a", "\xff\xfe", "b"});
    CHECK(split(" \xff") == Pieces{" \xff"});
    CHECK(split("\xe4\xb8") == Pieces{"\xe4\xb8"});          // truncated sequence
    CHECK(split("\xc3x") == Pieces{"\xc3", "x"});            // lead byte without continuation
    CHECK(split("\xc0\x80!") == Pieces{"\xc0\x80!"});        // overlong NUL
    CHECK(split("\xed\xa0\x80") == Pieces{"\xed\xa0\x80"});  // UTF-16 surrogate
    CHECK(split(std::string("a\0b", 3)) ==
          Pieces{"a", std::string(1, '\0'), "b"});  // NUL is "other"
}

TEST_CASE("text: pre-tokenizer pieces always concatenate to the input", "[pretokenizer]") {
    std::mt19937 rng(1234);
    for (int i = 0; i < 2000; ++i) {
        const std::string text = randomBytes(rng, 64);
        std::string joined;
        for (const auto piece : splitGpt2Pieces(text)) {
            REQUIRE(!piece.empty());
            joined += piece;
        }
        REQUIRE(joined == text);
    }
}

TEST_CASE("text: byte table is GPT-2's bytes_to_unicode", "[tokenizer]") {
    const auto& table = byteToUnicode();
    std::set<std::string> distinct(table.begin(), table.end());
    CHECK(distinct.size() == 256);
    CHECK(table['!'] == "!");
    CHECK(table['A'] == "A");
    CHECK(table['~'] == "~");
    CHECK(table[0xA1] == "\u00a1");
    CHECK(table[0xFF] == "\u00ff");
    CHECK(table[0] == "\u0100");
    CHECK(table[' '] == "\u0120");   // Ġ
    CHECK(table['\n'] == "\u010a");  // Ċ
    CHECK(table[127] == "\u0121");
    CHECK(table[0xAD] == "\u0143");  // the last of the 68 remapped bytes
}

TEST_CASE("text: fixture tokenizer applies merges by rank, not by position", "[tokenizer]") {
    TempDir dir;
    const BpeTokenizer tok = makeFixture(dir);
    CHECK(tok.vocabSize() == 262);
    CHECK(tok.mergeCount() == 5);
    CHECK(tok.endOfTextId() == kEot);
    using Ids = std::vector<std::int32_t>;
    CHECK(tok.encode("abc") == Ids{kAb, 'c'});  // "a b" outranks "b c"
    CHECK(tok.encode("bcb") == Ids{kBc, 'b'});
    CHECK(tok.encode(" abc") == Ids{kSpaceAb, 'c'});  // not "Ġa" + "bc"
    CHECK(tok.encode(" aab") == Ids{kSpaceA, kAb});
    CHECK(tok.encode("aaa") == Ids{kAa, 'a'});  // left to right, no overlap
    CHECK(tok.encode("aaaa") == Ids{kAa, kAa});
    CHECK(tok.encode("ab ab") == Ids{kAb, kSpaceAb});
    CHECK(tok.encode("") == Ids{});
    Ids longRun(500, kAa);  // a piece too long for the cache takes the same path
    longRun.push_back('a');
    CHECK(tok.encode(std::string(1001, 'a')) == longRun);
    CHECK(tok.encode(std::string(1001, 'a')) == longRun);
    CHECK(tok.tokenString(kSpaceAb) == "Ġab");
    CHECK(tok.decode({kSpaceAb, 'c', kAa}) == " abcaa");
}

TEST_CASE("text: encodeWithSpecialTokens turns <|endoftext|> into its id", "[tokenizer]") {
    TempDir dir;
    const BpeTokenizer tok = makeFixture(dir);
    using Ids = std::vector<std::int32_t>;
    CHECK(tok.encodeWithSpecialTokens("ab<|endoftext|>c") == Ids{kAb, kEot, 'c'});
    CHECK(tok.encodeWithSpecialTokens("<|endoftext|><|endoftext|>") == Ids{kEot, kEot});
    CHECK(tok.encodeWithSpecialTokens("abc") == tok.encode("abc"));
    // Plain encode() treats it as text: "<|", "endoftext", "|>".
    const auto plain = tok.encode("<|endoftext|>");
    CHECK(plain.size() == 13);
    CHECK(tok.decode(plain) == "<|endoftext|>");
    CHECK(tok.decode({kEot}) == "<|endoftext|>");
}

TEST_CASE("text: encode then decode gives back any byte string", "[tokenizer]") {
    TempDir dir;
    const BpeTokenizer tok = makeFixture(dir);
    std::mt19937 rng(42);
    for (int i = 0; i < 1000; ++i) {
        const std::string text = randomBytes(rng, 200);
        REQUIRE(tok.decode(tok.encode(text)) == text);
        REQUIRE(tok.decode(tok.encodeWithSpecialTokens(text)) == text);
    }
}

TEST_CASE("text: tokenizer gives identical results from several threads", "[tokenizer]") {
    TempDir dir;
    const BpeTokenizer tok = makeFixture(dir);
    std::mt19937 rng(7);
    std::vector<std::string> texts;
    for (int i = 0; i < 200; ++i)
        texts.push_back(randomBytes(rng, 300));
    std::vector<std::vector<std::int32_t>> expected;
    {
        TempDir other;
        const BpeTokenizer fresh = makeFixture(other);
        for (const auto& text : texts)
            expected.push_back(fresh.encode(text));
    }
    std::vector<int> failures(4, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int round = 0; round < 3; ++round)
                for (std::size_t i = 0; i < texts.size(); ++i)
                    if (tok.encode(texts[(i + t * 50) % texts.size()]) !=
                        expected[(i + t * 50) % texts.size()])
                        ++failures[t];
        });
    }
    for (auto& thread : threads)
        thread.join();
    CHECK(failures == std::vector<int>(4, 0));
}

TEST_CASE("text: loading reports missing and inconsistent tokenizer files", "[tokenizer]") {
    TempDir dir;
    SECTION("a folder without tokenizer files") {
        CHECK_FALSE(ponder::core::hasTokenizerFiles(dir.path));
        CHECK_THROWS_AS(BpeTokenizer::load(dir.path), TokenizerError);
        CHECK_THROWS_AS(BpeTokenizer::load(dir.path / "nope"), TokenizerError);
        try {
            BpeTokenizer::load(dir.path);
        } catch (const TokenizerError& e) {
            CHECK(std::string(e.what()).find(dir.path.string()) != std::string::npos);
            CHECK_FALSE(e.hint().empty());
        }
    }
    SECTION("explicit paths to missing files") {
        CHECK_THROWS_AS(BpeTokenizer::fromFiles(dir.path / "v.json", dir.path / "m.txt"),
                        TokenizerError);
    }
    SECTION("a merge whose result is not in the vocabulary names the file and line") {
        writeText(dir.path / "vocab.json", fixtureVocabJson());
        writeText(dir.path / "merges.txt", "#version: 0.2\na b\nab c\n");
        CHECK(ponder::core::hasTokenizerFiles(dir.path));
        CHECK_THROWS_WITH(BpeTokenizer::load(dir.path),
                          Catch::Contains("merges.txt' line 3") && Catch::Contains("abc"));
    }
    SECTION("a merge half that is not in the vocabulary") {
        writeText(dir.path / "vocab.json", fixtureVocabJson());
        writeText(dir.path / "merges.txt", "#version: 0.2\nxy z\n");
        CHECK_THROWS_WITH(BpeTokenizer::load(dir.path),
                          Catch::Contains("line 2") && Catch::Contains("\"xy\""));
    }
    SECTION("a malformed merge line") {
        writeText(dir.path / "vocab.json", fixtureVocabJson());
        writeText(dir.path / "merges.txt", "a b\nab\n");
        CHECK_THROWS_WITH(BpeTokenizer::load(dir.path), Catch::Contains("line 2"));
    }
    SECTION("two tokens with the same id") {
        auto vocab = nlohmann::json::parse(fixtureVocabJson());
        vocab["zz"] = 3;
        writeText(dir.path / "vocab.json", vocab.dump());
        writeText(dir.path / "merges.txt", "");
        CHECK_THROWS_WITH(BpeTokenizer::load(dir.path), Catch::Contains("id 3"));
    }
    SECTION("a vocabulary without all 256 byte tokens") {
        writeText(dir.path / "vocab.json", R"({"a": 0, "b": 1, "ab": 2})");
        writeText(dir.path / "merges.txt", "a b\n");
        CHECK_THROWS_WITH(BpeTokenizer::load(dir.path), Catch::Contains("byte"));
    }
    SECTION("a vocabulary that is not JSON") {
        writeText(dir.path / "vocab.json", "{\"a\": ");
        writeText(dir.path / "merges.txt", "");
        CHECK_THROWS_AS(BpeTokenizer::load(dir.path), TokenizerError);
    }
    SECTION("OpenAI file names are accepted too") {
        writeText(dir.path / "encoder.json", fixtureVocabJson());
        writeText(dir.path / "vocab.bpe", kFixtureMerges);
        CHECK(ponder::core::hasTokenizerFiles(dir.path));
        CHECK(BpeTokenizer::load(dir.path).encode("abc") == std::vector<std::int32_t>{kAb, 'c'});
    }
}

TEST_CASE("text: decoding an id outside the vocabulary throws", "[tokenizer]") {
    TempDir dir;
    const BpeTokenizer tok = makeFixture(dir);
    CHECK_THROWS_AS(tok.decode({kAb, 9999}), TokenizerError);
    CHECK_THROWS_AS(tok.decode({-1}), TokenizerError);
    CHECK_THROWS_AS(tok.tokenString(262), TokenizerError);
}

TEST_CASE("text: real GPT-2 files give GPT-2's known ids", "[tokenizer][gpt2]") {
    const char* dirEnv = std::getenv("PONDER_GPT2_TOKENIZER_DIR");
    if (!dirEnv || !ponder::core::hasTokenizerFiles(dirEnv)) {
        WARN("skipped: set PONDER_GPT2_TOKENIZER_DIR to a folder with encoder.json + vocab.bpe");
        return;
    }
    const BpeTokenizer tok = BpeTokenizer::load(dirEnv);
    using Ids = std::vector<std::int32_t>;
    CHECK(tok.vocabSize() == 50257);
    CHECK(tok.mergeCount() == 50000);
    CHECK(tok.endOfTextId() == 50256);
    CHECK(tok.encode("Hello world") == Ids{15496, 995});
    CHECK(tok.encode(" Hello") == Ids{18435});
    CHECK(tok.encode("I'm don't") == Ids{40, 1101, 836, 470});
    CHECK(tok.encode("def f(x):\n    return x  \n") ==
          Ids{4299, 277, 7, 87, 2599, 198, 220, 220, 220, 1441, 2124, 220, 220, 198});
    CHECK(tok.encode("héllo wörld 你好") ==
          Ids{71, 2634, 18798, 266, 30570, 335, 220, 19526, 254, 25001, 121});
    CHECK(tok.encode("a   b\u00a0c") == Ids{64, 220, 220, 275, 1849, 66});
    CHECK(tok.encodeWithSpecialTokens("<|endoftext|>") == Ids{50256});
    CHECK(tok.encode("<|endoftext|>") == Ids{27, 91, 437, 1659, 5239, 91, 29});
    std::mt19937 rng(99);
    for (int i = 0; i < 300; ++i) {
        const std::string text = randomBytes(rng, 300);
        REQUIRE(tok.decode(tok.encode(text)) == text);
    }
}
