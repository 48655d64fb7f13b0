// Private (includes LibTorch): the Gemma 3 text decoder with Hugging Face parameter names
// ("model.layers.N.self_attn.q_proj.weight", ...), so a state dict maps 1:1 onto the HF
// safetensors. Weights are plain tensors of the chosen dtype (no float32 staging copy).
#pragma once

#include <filesystem>

#include <torch/torch.h>

#include "core/model/backbone_impl.h"
#include "core/model/gemma3_config.h"

namespace ponder::core {

// Gemma's RMSNorm over the last dim, computed in float32: x / rms(x) * (1 + w).
torch::Tensor gemmaRmsNorm(const torch::Tensor& x, const torch::Tensor& weight, double eps);

class Gemma3LayerImpl : public torch::nn::Module {
public:
    Gemma3LayerImpl(const Gemma3Config& config, bool sliding, torch::TensorOptions options);
    // x [B, T, D]; `cos`/`sin` [B or 1, T, head_dim] of this layer's RoPE base; `bias` the
    // additive float32 mask [T, T] (causal, and the window on sliding layers).
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos,
                          const torch::Tensor& sin, const torch::Tensor& bias);
    // The same for new tokens after the cached ones (decoding): their keys and values (after
    // the k norm and RoPE, before the kv heads are repeated) are appended to `keys`/`values`
    // [B, kv heads, past, hd] (undefined before the first call); `bias` is [n, past + n].
    torch::Tensor forwardCached(const torch::Tensor& x, const torch::Tensor& cos,
                                const torch::Tensor& sin, const torch::Tensor& bias,
                                torch::Tensor& keys, torch::Tensor& values);
    bool sliding() const { return m_sliding; }

private:
    // `keys`/`values` null: the tokens of x alone; else the cache, extended by x's.
    torch::Tensor block(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const torch::Tensor& bias, torch::Tensor* keys, torch::Tensor* values);
    torch::Tensor attention(const torch::Tensor& x, const torch::Tensor& cos,
                            const torch::Tensor& sin, const torch::Tensor& bias,
                            torch::Tensor* keys = nullptr, torch::Tensor* values = nullptr);
    Gemma3Config m_config;
    bool m_sliding;
    torch::Tensor m_inputNorm, m_postAttentionNorm, m_preFeedforwardNorm, m_postFeedforwardNorm;
    torch::Tensor m_q, m_k, m_v, m_o, m_qNorm, m_kNorm;
    torch::Tensor m_gate, m_up, m_down;
};
TORCH_MODULE(Gemma3Layer);

class Gemma3ModelImpl : public Backbone {
public:
    // Parameters are allocated uninitialised with `options` (dtype, device).
    Gemma3ModelImpl(const Gemma3Config& config, torch::TensorOptions options);

    // Prepends bos_token_id to every sequence (Gemma is trained with it: without it the
    // first positions go wrong) and returns the hidden states of the given tokens only.
    torch::Tensor hidden(const torch::Tensor& ids, const torch::Tensor& positions = {}) override;
    torch::Tensor logits(const torch::Tensor& hidden) const override;
    BackboneInfo info() const override;
    // A KV cache per layer; the first step puts the BOS in front, as hidden() does.
    std::unique_ptr<DecodeCache> startDecode() const override;
    torch::Tensor decodeStep(DecodeCache& cache, const torch::Tensor& ids) override;
    const Gemma3Config& config() const { return m_config; }
    torch::ScalarType dtype() const { return m_embed.scalar_type(); }

    // Seeded random weights for test models: N(0, 0.02) matrices, norms N(0, 0.1) (so the
    // (1 + w) scale is exercised).
    void initialiseWeights(std::uint64_t seed);

private:
    // The layers over embedded tokens x [B, T, D] at absolute positions `pos` [1 or B, T] (the
    // BOS at 0), attending to `past` cached positions before them; the final norm applied.
    torch::Tensor run(torch::Tensor x, const torch::Tensor& pos, std::int64_t past,
                      std::vector<torch::Tensor>* keys, std::vector<torch::Tensor>* values);
    torch::Tensor embed(const torch::Tensor& tokens) const;  // scaled by √D, as Gemma does
    Gemma3Config m_config;
    torch::Tensor m_embed, m_finalNorm, m_lmHead;  // m_lmHead undefined when tied
    std::vector<Gemma3Layer> m_layers;
};
TORCH_MODULE(Gemma3Model);

// Loads config.json + the weights (one file or HF shards; F32/F16/BF16) onto `device`, held in
// bfloat16 when `bf16`, else float32. Accepts the causal-LM names ("model.", "lm_head.") and
// the multimodal ones ("language_model.model.", "model.language_model."), ignoring the vision
// tower. Throws ModelLoadError naming the missing, unexpected, misshapen or non-finite tensor.
Gemma3Model loadGemma3(const std::filesystem::path& modelDir, torch::Device device, bool bf16);
// `checkOnly`: names, shapes and dtypes from the headers, no data read (the model lives on
// the meta device).
Gemma3Model loadGemma3(const Gemma3Config& config, const WeightShards& weights,
                       torch::Device device, bool bf16, bool checkOnly = false);

// Writes the weights in HF layout: model.safetensors, or `shards` > 1 files
// model-0000N-of-0000M.safetensors with model.safetensors.index.json.
void saveGemma3Weights(Gemma3Model& model, const std::filesystem::path& dir, int shards = 1);

}  // namespace ponder::core
