// GPT-2 hyper-parameters as Hugging Face's config.json writes them (design.md §3).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace ponder::core {

struct Gpt2Config {
    std::int64_t vocabSize = 50257;
    std::int64_t nPositions = 1024;
    std::int64_t nEmbd = 768;
    std::int64_t nLayer = 12;
    std::int64_t nHead = 12;
    std::int64_t nInner = 0;  // 0 means 4 * nEmbd, as in HF
    double layerNormEpsilon = 1e-5;
    std::string activation = "gelu_new";  // gelu_new | gelu_pytorch_tanh | gelu | relu
    double residDropout = 0.1;            // dropouts act only while training (train-base)
    double embdDropout = 0.1;
    double attnDropout = 0.1;
    std::optional<std::int64_t> bosTokenId;
    std::optional<std::int64_t> eosTokenId;

    std::int64_t innerSize() const { return nInner > 0 ? nInner : 4 * nEmbd; }
    std::int64_t headDim() const { return nEmbd / nHead; }
    // Parameters of the model with a tied LM head (what HF reports for GPT-2).
    std::int64_t parameterCount() const;
};

// Reads and validates `path` (config.json). Throws ModelLoadError naming the bad field.
Gpt2Config loadGpt2Config(const std::filesystem::path& path);
// The same validation on config.json text already in memory; `label` names it in errors.
Gpt2Config parseGpt2Config(std::string_view text, const std::string& label);
// HF-compatible JSON text (model_type gpt2, architectures GPT2LMHeadModel).
std::string gpt2ConfigJson(const Gpt2Config& config);
void saveGpt2Config(const Gpt2Config& config, const std::filesystem::path& path);

}  // namespace ponder::core
