// Private (includes LibTorch): GPT-2 in LibTorch with Hugging Face parameter names, so a
// state dict maps 1:1 onto model.safetensors (Conv1D weights kept in HF's [in, out] layout).
#pragma once

#include <filesystem>

#include <torch/torch.h>

#include "core/model/backbone_impl.h"
#include "core/model/gpt2_config.h"
#include "core/model/safetensors.h"

namespace ponder::core {

// HF's Conv1D: y = x W + b with W stored [in, out].
class Conv1DImpl : public torch::nn::Module {
public:
    Conv1DImpl(std::int64_t in, std::int64_t out);
    torch::Tensor forward(const torch::Tensor& x);
    torch::Tensor weight, bias;
};
TORCH_MODULE(Conv1D);

// Causal multi-head self-attention ("attn.c_attn", "attn.c_proj").
class Gpt2AttentionImpl : public torch::nn::Module {
public:
    explicit Gpt2AttentionImpl(const Gpt2Config& config);
    // `causalBias` [T, T] is added to the scores: 0 on and below the diagonal, -inf above.
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& causalBias);
    // The same for new tokens x [B, n, D] after the cached ones: their keys and values are
    // appended to `keys`/`values` ([B, H, past, hd]; undefined before the first call), and each
    // new token attends to every cached token and to the new ones up to itself.
    torch::Tensor forwardCached(const torch::Tensor& x, torch::Tensor& keys, torch::Tensor& values);

private:
    torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                         const torch::Tensor& bias);
    Gpt2Config m_config;
    Conv1D m_qkv{nullptr}, m_proj{nullptr};
};
TORCH_MODULE(Gpt2Attention);

// Position-wise feed-forward ("mlp.c_fc", "mlp.c_proj").
class Gpt2MlpImpl : public torch::nn::Module {
public:
    explicit Gpt2MlpImpl(const Gpt2Config& config);
    torch::Tensor forward(const torch::Tensor& x);

private:
    Gpt2Config m_config;
    Conv1D m_fc{nullptr}, m_proj{nullptr};
};
TORCH_MODULE(Gpt2Mlp);

// Pre-LN transformer block: x + attn(ln_1(x)), then + mlp(ln_2(.)).
class Gpt2BlockImpl : public torch::nn::Module {
public:
    explicit Gpt2BlockImpl(const Gpt2Config& config);
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& causalBias);
    torch::Tensor forwardCached(const torch::Tensor& x, torch::Tensor& keys, torch::Tensor& values);

private:
    Gpt2Config m_config;
    torch::nn::LayerNorm m_ln1{nullptr}, m_ln2{nullptr};
    Gpt2Attention m_attn{nullptr};
    Gpt2Mlp m_mlp{nullptr};
};
TORCH_MODULE(Gpt2Block);

class Gpt2ModelImpl : public Backbone {
public:
    // `tiedLmHead` false adds an explicit lm_head.weight [vocab, n_embd].
    explicit Gpt2ModelImpl(const Gpt2Config& config, bool tiedLmHead = true);

    // Final hidden state after ln_f, [B, T, D]. `positions` ([T] or [B, T], int64) defaults to
    // 0..T-1; callers pass local positions per chunk (algorithm.md §1).
    torch::Tensor hidden(const torch::Tensor& ids, const torch::Tensor& positions = {}) override;
    // Next-token logits [B, T, V] from a hidden state, so one backbone pass can serve
    // several heads (design.md §4).
    torch::Tensor logits(const torch::Tensor& hidden) const override;
    BackboneInfo info() const override;
    // A KV cache: each step runs only the new tokens through the blocks.
    std::unique_ptr<DecodeCache> startDecode() const override;
    torch::Tensor decodeStep(DecodeCache& cache, const torch::Tensor& ids) override;
    torch::Tensor forward(const torch::Tensor& ids) { return logits(hidden(ids)); }

    const Gpt2Config& config() const { return m_config; }
    bool tiedLmHead() const { return m_lmHead.is_empty(); }
    const torch::Tensor& tokenEmbedding() const { return m_wte->weight; }

    // GPT-2's initialisation: N(0, 0.02), residual projections scaled by 1/sqrt(2 n_layer).
    void initialiseWeights(std::uint64_t seed);

private:
    Gpt2Config m_config;
    torch::nn::Embedding m_wte{nullptr}, m_wpe{nullptr};
    torch::nn::ModuleList m_blocks{nullptr};
    torch::nn::LayerNorm m_lnF{nullptr};
    torch::nn::Linear m_lmHead{nullptr};  // empty when tied to wte
};
TORCH_MODULE(Gpt2Model);

// Loads config.json + model.safetensors from a model directory onto `device` (float32).
// Accepts names with or without the "transformer." prefix, F32/F16/BF16 tensors, tied or
// explicit lm_head. Throws ModelLoadError naming the missing, unexpected, misshapen or
// non-finite tensor.
Gpt2Model loadGpt2(const std::filesystem::path& modelDir, torch::Device device = torch::kCPU);
Gpt2Model loadGpt2(const Gpt2Config& config, const SafetensorsFile& weights,
                   torch::Device device = torch::kCPU);

// Writes model.safetensors in HF layout (no prefix; lm_head.weight only when untied).
void saveGpt2Weights(Gpt2Model& model, const std::filesystem::path& path);

}  // namespace ponder::core
