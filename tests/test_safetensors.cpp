// safetensors reader/writer: exact round trips and a strict, named error for every kind of
// damaged or inconsistent file (never a crash).
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/model/safetensors.h"
#include "core/util/errors.h"

using namespace ponder::core;
namespace fs = std::filesystem;

namespace {

std::string floatBytes(std::initializer_list<float> values) {
    std::string bytes(values.size() * sizeof(float), '\0');
    std::memcpy(bytes.data(), values.begin(), bytes.size());
    return bytes;
}

// A file whose header is given as JSON text, followed by `buffer`.
std::string rawFile(const std::string& header, const std::string& buffer) {
    std::string out(8, '\0');
    const std::uint64_t length = header.size();
    for (int i = 0; i < 8; ++i)
        out[i] = static_cast<char>((length >> (8 * i)) & 0xff);
    return out + header + buffer;
}

std::string errorOf(const std::string& bytes) {
    try {
        SafetensorsFile::fromBytes(bytes, "test.safetensors");
    } catch (const WeightsFormatError& error) {
        return error.what();
    }
    return "";
}

fs::path tempDir() {
    auto dir = fs::temp_directory_path() / ("ponder_st_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    return dir;
}

}  // namespace

TEST_CASE("model: serialized tensors read back with identical names, dtypes, shapes and bytes",
          "[safetensors]") {
    const auto a = floatBytes({1.5f, -2.0f, 3.25f, 0.0f, 7.0f, 8.0f});
    const std::string b = std::string("\x01\x00\x02\x00", 4);  // two F16/BF16 values
    const std::string c(8 * 3, '\x7f');
    const auto bytes = serializeSafetensors({{"layer.weight", DType::F32, {2, 3}, a},
                                             {"half", DType::F16, {2}, b},
                                             {"bf", DType::BF16, {1, 2}, b},
                                             {"ids", DType::I64, {3}, c},
                                             {"empty", DType::F32, {0, 4}, ""}},
                                            {{"format", "pt"}});
    const std::uint64_t headerLength =
        static_cast<std::uint8_t>(bytes[0]) |
        (static_cast<std::uint64_t>(static_cast<std::uint8_t>(bytes[1])) << 8);
    CHECK(headerLength % 8 == 0);  // tensors stay 8-byte aligned
    const auto file = SafetensorsFile::fromBytes(bytes);
    REQUIRE(file.tensors().size() == 5);
    const auto* weight = file.find("layer.weight");
    REQUIRE(weight);
    CHECK(weight->dtype == DType::F32);
    CHECK(weight->shape == std::vector<std::int64_t>{2, 3});
    CHECK(std::string(reinterpret_cast<const char*>(file.data(*weight)), a.size()) == a);
    CHECK(file.find("half")->dtype == DType::F16);
    CHECK(file.find("bf")->dtype == DType::BF16);
    CHECK(std::string(reinterpret_cast<const char*>(file.data(*file.find("ids"))), 24) == c);
    CHECK(file.find("empty")->numel() == 0);
    CHECK(file.find("missing") == nullptr);
    CHECK(file.metadata().at("format") == "pt");
}

TEST_CASE("model: a written file is memory-mapped back intact and writing replaces atomically",
          "[safetensors]") {
    const auto dir = tempDir();
    const auto path = dir / "w.safetensors";
    const auto a = floatBytes({1, 2, 3, 4});
    writeSafetensors(path, {{"x", DType::F32, {4}, a}});
    writeSafetensors(path, {{"y", DType::F32, {2, 2}, a}});
    const auto file = SafetensorsFile::open(path);
    REQUIRE(file.tensors().size() == 1);
    CHECK(file.tensors()[0].name == "y");
    CHECK(std::memcmp(file.data(file.tensors()[0]), a.data(), a.size()) == 0);
    for (const auto& entry : fs::directory_iterator(dir))
        CHECK(entry.path().filename().string().find(".tmp.") == std::string::npos);
    fs::remove_all(dir);
}

TEST_CASE("model: the writer refuses byte counts that disagree with dtype and shape",
          "[safetensors]") {
    const auto a = floatBytes({1, 2, 3});
    CHECK_THROWS_AS(serializeSafetensors({{"x", DType::F32, {4}, a}}), std::invalid_argument);
    CHECK_THROWS_AS(serializeSafetensors({{"x", DType::F32, {3}, a}, {"x", DType::F32, {3}, a}}),
                    std::invalid_argument);
}

TEST_CASE("model: damaged headers give one-line errors that say what is wrong", "[safetensors]") {
    const auto eight = floatBytes({1, 2});
    const std::string entry = R"("t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]})";
    REQUIRE(errorOf(rawFile("{" + entry + "}", eight)).empty());

    CHECK_THAT(errorOf("abc"), Catch::Contains("too short"));
    CHECK_THAT(errorOf(rawFile("{}", "").substr(0, 9)), Catch::Contains("exceeds the file size"));
    std::string huge = rawFile("{}", "");
    huge[7] = '\x01';  // header length 2^56
    CHECK_THAT(errorOf(huge), Catch::Contains("out of bounds"));
    CHECK_THAT(errorOf(rawFile("[1, 2]", "")), Catch::Contains("does not start with '{'"));
    CHECK_THAT(errorOf(rawFile("{\"t\": ", "")), Catch::Contains("not valid JSON"));
    CHECK_THAT(
        errorOf(rawFile(R"({"t": {"dtype": "F33", "shape": [2], "data_offsets": [0, 8]}})", eight)),
        Catch::Contains("'t'") && Catch::Contains("unsupported dtype"));
    CHECK_THAT(errorOf(rawFile(R"({"t": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})",
                               eight)),
               Catch::Contains("non-integer"));
    CHECK_THAT(errorOf(rawFile(R"({"t": {"dtype": "F32", "shape": [2]}})", eight)),
               Catch::Contains("needs dtype, shape and data_offsets"));
    CHECK_THAT(
        errorOf(rawFile(R"({"t": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", eight)),
        Catch::Contains("'t'") && Catch::Contains("need 12"));
    CHECK_THAT(
        errorOf(rawFile(R"({"t": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}})", eight)),
        Catch::Contains("end before they begin"));
    CHECK_THAT(errorOf(rawFile("{" + entry + "}", eight.substr(0, 5))),
               Catch::Contains("'t'") && Catch::Contains("truncated"));
    CHECK_THAT(errorOf(rawFile("{" + entry + ", " + entry + "}", eight)),
               Catch::Contains("listed twice"));
    CHECK_THAT(errorOf(rawFile(R"({"__metadata__": {"a": 1}})", "")),
               Catch::Contains("__metadata__"));
    CHECK_THAT(errorOf(rawFile(R"({"__metadata__": []})", "")), Catch::Contains("__metadata__"));
}

TEST_CASE("model: tensors must cover the buffer exactly once: no overlap, hole or trailing bytes",
          "[safetensors]") {
    const auto sixteen = floatBytes({1, 2, 3, 4});
    CHECK_THAT(errorOf(rawFile(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                   "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                               sixteen)),
               Catch::Contains("overlaps"));
    CHECK_THAT(errorOf(rawFile(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})",
                               sixteen)),
               Catch::Contains("belong to no tensor"));
    CHECK_THAT(errorOf(rawFile(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})",
                               sixteen)),
               Catch::Contains("after the last tensor"));
}

TEST_CASE("model: every truncation of a valid file is refused with a WeightsFormatError",
          "[safetensors]") {
    const auto a = floatBytes({1, 2, 3, 4, 5, 6});
    const auto bytes = serializeSafetensors(
        {{"w", DType::F32, {2, 3}, a}, {"b", DType::F32, {0}, ""}}, {{"format", "pt"}});
    for (std::size_t length = 0; length < bytes.size(); ++length) {
        INFO("prefix of " << length << " bytes");
        CHECK_THROWS_AS(SafetensorsFile::fromBytes(bytes.substr(0, length)), WeightsFormatError);
    }
    CHECK_NOTHROW(SafetensorsFile::fromBytes(bytes));
}

TEST_CASE("model: opening a missing, empty or directory path names the path", "[safetensors]") {
    const auto dir = tempDir();
    std::ofstream(dir / "empty.safetensors").close();
    CHECK_THROWS_WITH(SafetensorsFile::open(dir / "nope.safetensors"),
                      Catch::Contains("no such file"));
    CHECK_THROWS_WITH(SafetensorsFile::open(dir / "empty.safetensors"), Catch::Contains("empty"));
    CHECK_THROWS_WITH(SafetensorsFile::open(dir), Catch::Contains("directory"));
    fs::remove_all(dir);
}

TEST_CASE("model: dtype names and sizes follow the safetensors spelling", "[safetensors]") {
    CHECK(parseDType("BF16") == DType::BF16);
    CHECK(parseDType("BOOL") == DType::Bool);
    CHECK_FALSE(parseDType("f32").has_value());
    CHECK(dtypeSize(DType::F16) == 2);
    CHECK(dtypeSize(DType::I64) == 8);
    CHECK(dtypeName(DType::F32) == "F32");
}
