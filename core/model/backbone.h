// The frozen backbone of a model directory seen from outside the engine: which architecture
// it is (GPT-2 or Gemma 3), its shape, where its weights are, and what it needs in memory.
// Torch-free.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ponder::core {

struct Gpt2Config;
struct Gemma3Config;

inline constexpr const char* kArchGpt2 = "gpt2";
inline constexpr const char* kArchGemma3 = "gemma3_text";

struct BackboneInfo {
    std::string arch = kArchGpt2;  // kArchGpt2 | kArchGemma3 (Gemma's multimodal "gemma3" too)
    std::int64_t hidden = 0;       // width of the final hidden state (the TTT layer's input)
    std::int64_t vocabSize = 0;
    std::int64_t maxPositions = 0;
    std::int64_t layers = 0;
    std::int64_t heads = 0;
    std::int64_t headDim = 0;
    std::int64_t parameterCount = 0;  // tied LM head counted once
    std::string describe() const;     // "gemma3_text, 26 layers, width 1152, 1.00 B parameters"
    // The longest unit it can run: Gemma's backbone puts a BOS in front of every unit.
    std::int64_t maxUnitTokens() const {
        return arch == kArchGpt2 ? maxPositions : maxPositions - 1;
    }
};

// The architecture config.json declares: kArchGpt2 (model_type gpt2 or none) or kArchGemma3
// (gemma3_text or gemma3). Throws ModelLoadError for any other model_type (gemma2, llama, ...)
// with what is supported.
std::string backboneArch(const std::filesystem::path& modelDir);
// config.json alone, without touching the weights.
BackboneInfo backboneInfoFromConfig(const std::filesystem::path& modelDir);
BackboneInfo backboneInfoOf(const Gpt2Config& config);
BackboneInfo backboneInfoOf(const Gemma3Config& config);

// model.safetensors, or the shards model.safetensors.index.json names (each once, sorted by
// name: model-00001-of-0000M first).
// Throws ModelLoadError for a missing shard or an unreadable index.
std::vector<std::filesystem::path> backboneWeightFiles(const std::filesystem::path& modelDir);
// The identity a TTT checkpoint records (ttt.json backbone_sha256): the SHA-256 of
// model.safetensors; for sharded weights the SHA-256 of the shards' hex digests, concatenated
// in that order.
std::string backboneSha256(const std::filesystem::path& modelDir);

// Memory the weights need once loaded, computing in float32 or bfloat16 (bytes).
std::uint64_t backboneWeightBytes(const BackboneInfo& info, bool bf16);

}  // namespace ponder::core
