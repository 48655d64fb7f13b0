// Backbone architecture detection, weight files (single or sharded), identity and memory.
#include "core/model/backbone.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "core/model/gemma3_config.h"
#include "core/model/gpt2_config.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"
#include "core/util/sha256.h"

namespace ponder::core {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {
constexpr const char* kIndexName = "model.safetensors.index.json";
}

std::string BackboneInfo::describe() const {
    char size[64];
    if (parameterCount >= 1'000'000'000)
        std::snprintf(size, sizeof size, "%.2f B", double(parameterCount) / 1e9);
    else
        std::snprintf(size, sizeof size, "%.1f M", double(parameterCount) / 1e6);
    return arch + ", " + std::to_string(layers) + " layers, width " + std::to_string(hidden) +
           ", " + size + " parameters";
}

std::string backboneArch(const fs::path& modelDir) {
    std::string text;
    try {
        text = readFileBytes(modelDir / "config.json");
    } catch (const InputError&) {
        throw ModelLoadError(
            "model directory '" + modelDir.string() + "' has no readable config.json",
            "pass a Hugging Face GPT-2 or Gemma 3 directory, or make one with "
            "`ponder make-test-model DIR [--arch gemma3]`");
    }
    const auto root = json::parse(text, nullptr, false);
    // Malformed JSON is reported by the config parser with the details.
    if (!root.is_object() || !root.contains("model_type")) return kArchGpt2;
    const auto& type = root["model_type"];
    const auto name = type.is_string() ? type.get<std::string>() : type.dump();
    if (name == "gpt2") return kArchGpt2;
    if (name == "gemma3_text" || name == "gemma3") return kArchGemma3;
    const std::string what =
        name == "gemma2" || name == "gemma" ? "an earlier Gemma" : "'" + name + "'";
    throw ModelLoadError("config.json of '" + modelDir.string() + "' is " + what +
                             " model (model_type " + name + "), which ponder cannot run",
                         "ponder runs GPT-2 (model_type gpt2) and Gemma 3 (gemma3_text, gemma3) "
                         "directories");
}

BackboneInfo backboneInfoFromConfig(const fs::path& modelDir) {
    const auto config = modelDir / "config.json";
    return backboneArch(modelDir) == kArchGemma3 ? backboneInfoOf(loadGemma3Config(config))
                                                 : backboneInfoOf(loadGpt2Config(config));
}

BackboneInfo backboneInfoOf(const Gpt2Config& c) {
    BackboneInfo info;
    info.arch = kArchGpt2;
    info.hidden = c.nEmbd;
    info.vocabSize = c.vocabSize;
    info.maxPositions = c.nPositions;
    info.layers = c.nLayer;
    info.heads = c.nHead;
    info.headDim = c.headDim();
    info.parameterCount = c.parameterCount();
    return info;
}

BackboneInfo backboneInfoOf(const Gemma3Config& c) {
    BackboneInfo info;
    info.arch = kArchGemma3;
    info.hidden = c.hiddenSize;
    info.vocabSize = c.vocabSize;
    info.maxPositions = c.maxPositions;
    info.layers = c.numLayers;
    info.heads = c.numHeads;
    info.headDim = c.headDim;
    info.parameterCount = c.parameterCount();
    return info;
}

std::vector<fs::path> backboneWeightFiles(const fs::path& modelDir) {
    const auto single = modelDir / "model.safetensors";
    const auto index = modelDir / kIndexName;
    if (fs::exists(single) || !fs::exists(index)) {
        if (!fs::exists(single))
            throw ModelLoadError("model directory '" + modelDir.string() +
                                     "' has no model.safetensors (nor " + kIndexName + ")",
                                 "convert PyTorch .bin weights to safetensors, or make a test "
                                 "model with `ponder make-test-model DIR`");
        return {single};
    }
    const auto fail = [&](const std::string& why) {
        return ModelLoadError("bad shard index '" + index.string() + "': " + why,
                              "the index and its model-0000N-of-0000M.safetensors shards must "
                              "come from the same download");
    };
    const auto root = json::parse(readFileBytes(index), nullptr, false);
    if (!root.is_object() || !root.contains("weight_map") || !root["weight_map"].is_object())
        throw fail("no weight_map object");
    std::vector<fs::path> files;
    std::set<std::string> seen;
    for (const auto& [name, file] : root["weight_map"].items()) {
        if (!file.is_string()) throw fail("tensor '" + name + "' maps to no file name");
        const auto shard = file.get<std::string>();
        if (shard.empty() || shard.find('/') != std::string::npos || shard == "..")
            throw fail("tensor '" + name + "' maps to '" + shard + "', not a file beside it");
        if (!seen.insert(shard).second) continue;
        if (!fs::exists(modelDir / shard))
            throw fail("shard '" + shard + "' (holding '" + name + "') is missing");
        files.push_back(modelDir / shard);
    }
    if (files.empty()) throw fail("the weight_map is empty");
    std::sort(files.begin(), files.end());
    return files;
}

std::string backboneSha256(const fs::path& modelDir) {
    const auto files = backboneWeightFiles(modelDir);
    if (files.size() == 1 && files[0].filename() == "model.safetensors")
        return sha256FileHex(files[0]);
    std::string digests;
    for (const auto& file : files)
        digests += sha256FileHex(file);
    return sha256Hex(digests);
}

std::uint64_t backboneWeightBytes(const BackboneInfo& info, bool bf16) {
    return std::uint64_t(info.parameterCount) * (bf16 ? 2u : 4u);
}

}  // namespace ponder::core
