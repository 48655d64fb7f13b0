// Gemma 3 text-decoder hyper-parameters as Hugging Face's config.json writes them: model_type
// "gemma3_text", or "gemma3" (the multimodal 4B/12B checkpoints) with a "text_config". Torch-free.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ponder::core {

struct Gemma3Config {
    std::int64_t vocabSize = 262144;
    std::int64_t hiddenSize = 1152;
    std::int64_t intermediateSize = 6912;
    std::int64_t numLayers = 26;
    std::int64_t numHeads = 4;
    std::int64_t numKvHeads = 1;
    std::int64_t headDim = 256;
    std::int64_t maxPositions = 32768;
    double rmsNormEps = 1e-6;
    double ropeTheta = 1000000.0;     // global (full-attention) layers
    double ropeLocalTheta = 10000.0;  // sliding-window layers
    double ropeScalingFactor = 1.0;   // "linear" rope_scaling of the global layers (4B/12B: 8)
    double queryPreAttnScalar = 256;  // scores are scaled by queryPreAttnScalar^-1/2
    std::int64_t slidingWindow = 512;
    // One entry per layer: true = sliding-window ("sliding_attention"), false = global.
    std::vector<bool> slidingLayers;
    std::optional<double> attnLogitSoftcap;   // null in every released Gemma 3
    std::optional<double> finalLogitSoftcap;  // null in every released Gemma 3
    bool tieWordEmbeddings = true;
    std::int64_t bosTokenId = 2;
    std::int64_t eosTokenId = 1;
    std::int64_t padTokenId = 0;
    std::string modelType = "gemma3_text";  // as read: "gemma3_text" or "gemma3"

    std::int64_t queryWidth() const { return numHeads * headDim; }
    std::int64_t kvWidth() const { return numKvHeads * headDim; }
    // Parameters of the text decoder (tied head counted once).
    std::int64_t parameterCount() const;
};

// HF's default layer pattern: every `pattern`-th layer (1-based) is global, the rest slide.
std::vector<bool> gemma3SlidingPattern(std::int64_t layers, std::int64_t pattern = 6);

// Reads and validates a Gemma 3 config.json. Throws ModelLoadError naming the bad field; a
// Gemma 2, Llama or other config is refused with what it is.
Gemma3Config loadGemma3Config(const std::filesystem::path& path);
Gemma3Config parseGemma3Config(std::string_view text, const std::string& label);
// HF-compatible gemma3_text config.json text (architectures Gemma3ForCausalLM).
std::string gemma3ConfigJson(const Gemma3Config& config);

}  // namespace ponder::core
