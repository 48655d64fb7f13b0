// Private (includes LibTorch): the LoRA fast-weight layer, the alternative to TTT-Linear of the
// published PonderTTT code (algorithm.md §2.7), made causal, plus the model-level wrapper
// fast_norm -> LoRA layer -> residual (§1), and its ttt.safetensors + ttt.json checkpoint
// (design.md §3.1, "fast_weights": "lora").
//
// Parameter names (Torch Linear layout [out, in]; D the backbone width, r the rank):
//   fast_norm.weight [D]           fast_norm.bias [D]   (no bias with fast_norm "rmsnorm")
//   lora.q_lora.lora_A.weight [r, D]    lora.q_lora.lora_B.weight [D, r]
//   lora.v_lora.lora_A.weight [r, D]    lora.v_lora.lora_B.weight [D, r]
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <torch/torch.h>

#include "core/model/ttt_config.h"

namespace ponder::core {

// delta(x) = B(dropout(A(x))) · α/r, no biases; A ~ N(0, 0.02), B = 0 at initialisation.
// Dropout (rate `dropout`, inverted scaling) acts only in training mode (is_training()).
class LoraLinearImpl : public torch::nn::Module {
public:
    LoraLinearImpl(std::int64_t features, std::int64_t rank, double alpha, double dropout);
    torch::Tensor forward(const torch::Tensor& x);
    // A ~ N(0, 0.02) drawn in float64 on the CPU from the global generator, then copied; B = 0.
    void resetParameters();
    double scaling() const { return m_scaling; }
    torch::nn::Linear lora_A{nullptr};  // [r, D]: "lora_A.weight"
    torch::nn::Linear lora_B{nullptr};  // [D, r]: "lora_B.weight"

private:
    double m_scaling, m_dropout;
};
TORCH_MODULE(LoraLinear);

// Monitoring values of one forward, per sequence [B] (the published layer's stats, taken per
// sequence; nothing gates on them yet). Computed without gradient.
struct LoraStats {
    torch::Tensor qDeltaNorm;   // ‖q_lora(x)‖ over the sequence's T×D values
    torch::Tensor vDeltaNorm;   // ‖v_lora(x)‖
    torch::Tensor outputNorm;   // ‖y‖
    torch::Tensor attnEntropy;  // mean over tokens of −Σ_s w_ts log w_ts (nats; masked w = 0)
};

struct LoraOutput {
    torch::Tensor y;  // the layer's output [B, T, D] (before the model's residual)
    LoraStats stats;
};

// Streaming (generation, one sequence): the keys and values of the chunk's tokens so far.
// startStream() gives a chunk's start; every chunk starts empty, as forward() does.
struct LoraStreamState {
    std::int64_t position = 0;   // tokens of the current chunk read so far
    torch::Tensor keys, values;  // [t, D] each (undefined before the first token)
};

// Single-head causal attention with LoRA-adapted queries and values (algorithm.md §2.7):
// q = x + q_lora(x), k = x, v = x + v_lora(x), w = softmax(q·kᵀ/√D + causal mask), y = w·v.
class LoraLayerImpl : public torch::nn::Module {
public:
    // config.isLora(), config.hidden = D (any layerWidth is refused: the layer works at D).
    explicit LoraLayerImpl(const TttConfig& config);
    // x = fast_norm(h) [B, T, D], any T >= 1. `positions` ([T] or [B, T]) is accepted for the
    // TTT layer's interface and only checked: the layer has no positional terms.
    LoraOutput forward(const torch::Tensor& x, const torch::Tensor& positions = {});
    void resetParameters();  // both adapters, q_lora's A drawn first
    LoraStreamState startStream() const { return {}; }
    // The output y [1, D] of the next token x [1, D] of the chunk (forward()'s row).
    torch::Tensor streamStep(LoraStreamState& state, const torch::Tensor& x);
    const TttConfig& config() const { return m_config; }
    LoraLinear q_lora{nullptr}, v_lora{nullptr};

private:
    TttConfig m_config;
};
TORCH_MODULE(LoraLayer);

// fast_norm + LoRA layer: UPDATE hidden = h + lora(fast_norm(h)), as the published wrapper
// places it (the same LayerNorm pre-norm, eps ln_eps, and residual onto the un-normalised h
// as the TTT model, algorithm.md §1). Unlike TTT-Linear's zero wo, the layer's output is not
// 0 at initialisation (B = 0 makes it plain causal attention over x), so UPDATE != SKIP there.
class LoraModelImpl : public torch::nn::Module {
public:
    explicit LoraModelImpl(const TttConfig& config);
    struct Result {
        torch::Tensor hidden;  // h + y, [B, T, D]
        LoraStats stats;
    };
    Result forward(const torch::Tensor& h, const torch::Tensor& positions = {});
    // Streaming one token h [1, D] of a chunk: the UPDATE hidden h + y [1, D] (forward's row).
    LoraStreamState startStream() const { return {}; }
    torch::Tensor streamStep(LoraStreamState& state, const torch::Tensor& h);
    // fast_norm 1/0 (the RMS norm's w 0), A ~ N(0, 0.02) (q_lora's, then v_lora's), B = 0;
    // drawn in float64 on the CPU from `seed` and copied, so a seed gives the same layer on
    // every device and dtype.
    void initialiseWeights(std::uint64_t seed);
    const TttConfig& config() const { return m_config; }
    LoraLayer layer() const { return m_layer; }

private:
    torch::Tensor normalise(const torch::Tensor& h);
    TttConfig m_config;
    torch::nn::LayerNorm m_fastNorm{nullptr};  // fast_norm "layernorm"
    torch::Tensor m_fastNormRms;               // fast_norm "rmsnorm": weight [D]
    LoraLayer m_layer{nullptr};
};
TORCH_MODULE(LoraModel);

// ttt.safetensors + ttt.json of a LoRA checkpoint in `dir` (isLoraCheckpoint(dir)). Refuses,
// with ModelLoadError, what loadTttCheckpoint refuses (missing files, bad ttt.json, another
// backbone_arch or width even with `force`, another backbone_sha256 unless `force`, missing,
// misshapen, non-float, non-finite or unexpected tensors) and a TTT-Linear checkpoint.
LoraModel loadLoraCheckpoint(const std::filesystem::path& dir, const BackboneInfo& backbone,
                             const std::string& backboneSha256, bool force,
                             torch::Device device = torch::kCPU);
// The parameters in their own dtype (as saveTttCheckpoint), ttt.json from model->config().
void saveLoraCheckpoint(LoraModel& model, const std::filesystem::path& dir);

}  // namespace ponder::core
