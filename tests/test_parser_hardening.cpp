// Regressions for what fuzzing (tests/fuzz) and the sanitizer build found in our readers: bad
// input must end in our typed errors, never in nlohmann's exceptions or undefined behaviour.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/codebench/problems.h"
#include "core/codebench/samples.h"
#include "core/data/corpus.h"
#include "core/gating/calibration.h"
#include "core/gating/run_analysis.h"
#include "core/model/gpt2_config.h"
#include "core/model/safetensors.h"
#include "core/report/eval_json.h"
#include "core/text/bpe_tokenizer.h"
#include "core/util/errors.h"

using namespace ponder::core;

namespace {

// vocab.json with the 256 byte tokens only (GPT-2's byte stand-ins).
std::string byteVocab() {
    nlohmann::json vocab = nlohmann::json::object();
    for (int b = 0; b < 256; ++b)
        vocab[byteToUnicode()[b]] = b;
    return vocab.dump();
}

std::string safetensorsWithHeader(const std::string& header) {
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i)
        bytes[i] = char((header.size() >> (8 * i)) & 0xff);
    return bytes + header;
}

}  // namespace

TEST_CASE("hardening: tokenizer files with invalid UTF-8 or huge numbers throw TokenizerError",
          "[hardening]") {
    // A bad merges line is quoted in the message; invalid UTF-8 used to make dump() throw.
    CHECK_THROWS_AS(BpeTokenizer::fromText(byteVocab(), "#version: 0.2\n\xc4\n"), TokenizerError);
    CHECK_THROWS_AS(BpeTokenizer::fromText(byteVocab(), "a \xff\xfe\n"), TokenizerError);
    // json::parse throws out_of_range (not parse_error) for a number it cannot hold.
    CHECK_THROWS_AS(BpeTokenizer::fromText(R"({"a": 1e999})", ""), TokenizerError);
    // One id at 2^24 - 1 in a few bytes of JSON used to allocate over 1 GB of id tables.
    auto sparse = nlohmann::json::parse(byteVocab());
    sparse["xyz"] = (1 << 24) - 1;
    CHECK_THROWS_AS(BpeTokenizer::fromText(sparse.dump(), ""), TokenizerError);
    sparse["xyz"] = 1000;  // a gap is fine
    CHECK(BpeTokenizer::fromText(sparse.dump(), "").vocabSize() == 1001);
    const auto tokenizer = BpeTokenizer::fromText(byteVocab(), "");
    CHECK(tokenizer.decode(tokenizer.encode("x \xff y")) == "x \xff y");
}

TEST_CASE("hardening: safetensors refuses dimensions that overflow even in an empty tensor",
          "[hardening]") {
    for (const char* shape :
         {"[0, 18446744073709551615]", "[0, 9223372036854775808]", "[0, 4294967296, 4294967296]"}) {
        const std::string header = std::string(R"({"t": {"dtype": "F32", "shape": )") + shape +
                                   R"(, "data_offsets": [0, 0]}})";
        CHECK_THROWS_AS(SafetensorsFile::fromBytes(safetensorsWithHeader(header)),
                        WeightsFormatError);
    }
    const auto empty = SafetensorsFile::fromBytes(safetensorsWithHeader(
        R"({"t": {"dtype": "F32", "shape": [0, 1024, 1024], "data_offsets": [0, 0]}})"));
    CHECK(empty.tensors().at(0).numel() == 0);
}

TEST_CASE("hardening: config.json sizes have upper bounds and dropouts are probabilities",
          "[hardening]") {
    const std::string base = R"("n_positions": 64, "n_layer": 1, "n_head": 1)";
    const auto load = [&](const std::string& fields) {
        return parseGpt2Config("{" + base + ", " + fields + "}", "config.json");
    };
    CHECK(load(R"("vocab_size": 50257, "n_embd": 1600)").parameterCount() > 0);
    // parameterCount() overflowed int64 with these (UBSan: signed integer overflow).
    CHECK_THROWS_AS(load(R"("vocab_size": 9223372036854775807, "n_embd": 8)"), ModelLoadError);
    CHECK_THROWS_AS(load(R"("vocab_size": 5, "n_embd": 4611686018427387904)"), ModelLoadError);
    CHECK_THROWS_AS(load(R"("vocab_size": 5, "n_embd": 8, "resid_pdrop": -5)"), ModelLoadError);
    CHECK_THROWS_AS(load(R"("vocab_size": 5, "n_embd": 8, "attn_pdrop": 1.5)"), ModelLoadError);
}

TEST_CASE("hardening: calibration.json with a non-string format throws InputError", "[hardening]") {
    CHECK_THROWS_AS(parseCalibration(R"({"format": 1})", "c.json"), InputError);
    CHECK_THROWS_AS(parseCalibration(R"([1, 2])", "c.json"), InputError);
    CHECK_THROWS_AS(
        parseCalibration(R"({"format": "ponderttt-calibration/1", "chunk": "x"})", "c.json"),
        InputError);
}

TEST_CASE("hardening: stored analysis settings of the wrong type keep their defaults",
          "[hardening]") {
    const AnalysisSettings defaults;
    // json::value() threw type_error; a double out of int's range was cast (UB).
    const auto settings = analysisSettingsFromJson(
        R"({"policy": 1, "signal": [], "calibration": 2, "calibration_units": 1e300,
            "seed": -3, "extra_policies": "oracle", "rate": 0.25})");
    CHECK(settings.ours.name == defaults.ours.name);
    CHECK(settings.ours.signal == defaults.ours.signal);
    CHECK(settings.ours.calibration == defaults.ours.calibration);
    CHECK(settings.ours.calibrationUnits == defaults.ours.calibrationUnits);
    CHECK(settings.ours.seed == defaults.ours.seed);
    CHECK(settings.extraPolicies.empty());
    CHECK(settings.ours.rate == 0.25);
    // Seeds above 2^53 survive the round trip (they used to pass through a double).
    AnalysisSettings big;
    big.ours.seed = 18446744073709551557ull;
    CHECK(analysisSettingsFromJson(analysisSettingsJson(big)).ours.seed == big.ours.seed);
}

TEST_CASE("hardening: a recipe with a number out of range throws InputError", "[hardening]") {
    CHECK_THROWS_AS(parseCorpusRecipe(R"({"name": "x", "min_bytes": 1e999})", "/", "r.json"),
                    InputError);
}

TEST_CASE("hardening: an integer field holding a huge float throws InputError, not UB",
          "[hardening]") {
    // get<int64_t>() on 5121e300 converted out of range (fuzz_readers, UBSan); now a type error.
    const std::string calibration =
        R"({"format": "ponderttt-calibration/1", "backbone_sha256": "x", "mode": "file",
            "chunk": 5121e300, "units": 5, "levels": [0.0, 1.0], "quantiles": {}})";
    CHECK_THROWS_WITH(parseCalibration(calibration, "calibration.json"),
                      Catch::Contains("calibration.json") && Catch::Contains("integer"));
    std::string fractional = calibration;
    fractional.replace(fractional.find("5121e300"), 8, "512.5");
    CHECK_THROWS_AS(parseCalibration(fractional, "calibration.json"), InputError);
    std::string whole = calibration;
    whole.replace(whole.find("5121e300"), 8, "512");
    CHECK(parseCalibration(whole, "calibration.json").chunk == 512);
}

TEST_CASE("hardening: codebench JSONL with a number out of range throws InputError",
          "[hardening]") {
    // json::parse throws out_of_range (not parse_error) for 1e999; the JSONL reader let it out.
    CHECK_THROWS_WITH(
        parseProblems("1e999\n", "p.jsonl"),
        Catch::Contains("p.jsonl line 1 is not JSON") && Catch::Contains("number overflow"));
    const ProblemSet problems = parseProblems(
        R"({"task_id": "t/0", "prompt": "", "test": "", "entry_point": "f"})", "p.jsonl");
    CHECK_THROWS_AS(parseSamples("1e999\"", "s.jsonl", problems), InputError);
    CHECK_THROWS_AS(
        parseSamples(R"({"task_id": "t/0", "completion": "", "x": -1e999})", "s.jsonl", problems),
        InputError);
}

TEST_CASE("hardening: eval JSON names a file whose path is not UTF-8 instead of throwing",
          "[hardening]") {
    // ponder eval on such a file evaluated it, then died on json::type_error.316 in dump().
    RunDescription run;
    run.inputs = {"dir/caf\xe9.py"};
    run.filePaths = run.inputs;
    const std::string text = evalJson(run, {}, RunAnalysis{});
    CHECK(text.find("caf\xef\xbf\xbd.py") != std::string::npos);  // U+FFFD for the byte
}
