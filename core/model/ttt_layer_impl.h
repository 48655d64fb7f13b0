// Private (includes LibTorch): the TTT-Linear layer of the published PonderTTT code
// (algorithm.md §2) plus the model-level wrapper fast_norm -> TTT -> residual (§1), with the
// parameter names of design.md §3.1 ("fast_norm.*", "ttt.*").
#pragma once

#include <filesystem>

#include <torch/torch.h>

#include "core/model/ttt_config.h"

namespace ponder::core {

// Last-token reconstruction statistics of algorithm.md §3, per sequence, head and
// mini-batch: each [B, H, n] with n = T / K.
struct TttStats {
    torch::Tensor init;   // ttt_loss_init: chunk-initial weights W0
    torch::Tensor step0;  // ttt_loss_step_0: weights at the start of mini-batch m
    torch::Tensor step1;  // ttt_loss_step_1: after mini-batch m's own update
};

struct TttOutput {
    torch::Tensor y;  // the layer's output [B, T, D] (before the model's residual)
    TttStats stats;
};

// The inner problem's inputs, exposed so tests can check the dual form against a primal one.
struct TttInner {
    torch::Tensor convQ, convK;  // causal conv outputs before RoPE, [B, T, H*d]
    torch::Tensor xq, xk, xv;    // after head split and RoPE (not V), [B, H, n, K, d]
    // Inner learning rates as a matrix over (output row i, source token j), [B, H, n, K, K]:
    // "ponderttt" repeats its per-source vector η_j on every row (algorithm.md §2.4), "ttt-lm"
    // is R/J's η[i, j]. The W/b carry uses row K-1 in both cases (§2.5 step 6).
    torch::Tensor eta;
};

// Streaming (generation, one sequence, core/generate): what the layer carries from token to
// token inside a chunk, so the tokens read one at a time get the dual form's outputs
// (algorithm.md §2.5). startStream() gives a chunk's start: (W0, b0), no conv history.
struct TttStreamState {
    std::int64_t position = 0;          // tokens of the current chunk read so far
    torch::Tensor weight, bias;         // W_m [H, d, d], b_m [H, 1, d]: mini-batch m's start
    std::vector<torch::Tensor> convIn;  // x·Wq of the chunk's last W + lag tokens, [1, H*d]
    // η's factors (TttLayerImpl::etaFactors), made once per chunk instead of once per token.
    torch::Tensor etaPerSource, etaPerRow;
    // The current mini-batch so far, one entry per token j: k_j and ∇_z at (W_m, b_m) [H, 1, d],
    // and η's source factor [H, 1, 1].
    std::vector<torch::Tensor> keys, grads, sourceRates;
};

// §3's statistics of one finished mini-batch, per head [H]; undefined until one finishes.
struct TttStreamStats {
    torch::Tensor init, step0, step1;
};

// A bare weight/bias pair, so nested names like "conv_q.weight" come out of named_parameters().
class WeightBiasImpl : public torch::nn::Module {
public:
    WeightBiasImpl(torch::IntArrayRef weightShape, torch::IntArrayRef biasShape);
    torch::Tensor weight, bias;
};
TORCH_MODULE(WeightBias);

// Gradient w.r.t. each row z of ½‖LN(z) − target‖², LN(z) = γ ⊙ (z − μ)/√(var + eps) + β over
// the last dim, in the closed form of algorithm.md §2.5 step 2. Shapes broadcast (γ, β like z's
// trailing dims). Differentiable, so outer training can back-propagate through it.
torch::Tensor innerLayerNormGrad(const torch::Tensor& z, const torch::Tensor& target,
                                 const torch::Tensor& gamma, const torch::Tensor& beta, double eps);

class TttLayerImpl : public torch::nn::Module {
public:
    explicit TttLayerImpl(const TttConfig& config);
    // x = fast_norm(h), [B, T, D] with T a multiple of K (else std::invalid_argument with a
    // clear message). `positions` [T] or [B, T] (int64) are the token positions; RoPE uses
    // pos mod K. Defaults to 0..T-1. Every call starts from (W0, b0): no state across calls.
    TttOutput forward(const torch::Tensor& x, const torch::Tensor& positions = {});
    // The layer's output with its inner loop switched off (algorithm.md §4.1): every token
    // reads the chunk-initial (W0, b0), which is forward() with base_lr 0, without the scan.
    torch::Tensor forwardStatic(const torch::Tensor& x, const torch::Tensor& positions = {});
    // §3's ttt_loss_init alone, [B, H, n]: the same values as forward's stats.init, without the
    // dual-form scan, Q, η or the output (what the gated fast path decides on).
    torch::Tensor initLoss(const torch::Tensor& x, const torch::Tensor& positions = {});
    // Steps 1-6 of algorithm.md §2.3: projections, convs, heads, RoPE, mini-batches, η.
    TttInner prepareInner(const torch::Tensor& x, const torch::Tensor& positions = {});
    // The published initialisation (algorithm.md §2.2) drawn from the current global generator.
    void resetParameters();
    // Streaming: the state at a chunk's start, and the output y [1, D] of the next token
    // x [1, D] of the chunk (the row forward() gives it); `stats` is set when the token ends a
    // mini-batch. Equals forward() on the chunk's tokens up to float rounding.
    TttStreamState startStream() const;
    torch::Tensor streamStep(TttStreamState& state, const torch::Tensor& x, TttStreamStats& stats);
    const TttConfig& config() const { return m_config; }
    // The diagonal ablation (algorithm.md §4): an eval-time causal_k of -1 for a model
    // trained with 0. Only the mask offset changes, not the weights. k must be 0 or -1.
    void setCausalK(std::int64_t k);

private:
    // η's factors (algorithm.md §2.4), [K] each: "ponderttt" scales the source token j
    // (perSource), "ttt-lm" the output row i (perRow); the other one is left undefined. The
    // sigmoid gate of the source token multiplies both.
    struct EtaFactors {
        torch::Tensor perSource, perRow;
    };
    EtaFactors etaFactors() const;
    // Steps 8-10 of §2.3 on the per-mini-batch outputs [B, H, n, K, d]: y [B, T, D].
    torch::Tensor outputOf(const torch::Tensor& x, const torch::Tensor& miniBatchOut);
    // ttt_loss_init from each mini-batch's last key and value, [B, H, n, d] each.
    torch::Tensor initStatistic(const torch::Tensor& lastK, const torch::Tensor& lastV) const;
    TttConfig m_config;
    torch::nn::Linear m_wq{nullptr}, m_wv{nullptr}, m_wg{nullptr}, m_wo{nullptr};
    WeightBias m_convQ{nullptr}, m_convK{nullptr};
    torch::nn::Linear m_lrGate{nullptr};  // H gates D -> 1, stacked as one [H, D] Linear
    torch::Tensor m_tokenIdxOffset;       // τ, [K]
    WeightBias m_tttNorm{nullptr};        // per-head inner LayerNorm γ, β, [H, d]
    torch::nn::LayerNorm m_postNorm{nullptr};
    torch::Tensor m_w0, m_b0;  // [H, d, d], [H, d]
};
TORCH_MODULE(TttLayer);

// fast_norm + TTT layer; UPDATE hidden = h + ttt(fast_norm(h)) (algorithm.md §1). With a
// ttt_width P (Gemma 3, the published Gemma3TTTModel) h + proj_out(ttt(proj_in(fast_norm(h)))),
// proj_out zero-initialised so UPDATE equals SKIP before training.
class TttModelImpl : public torch::nn::Module {
public:
    explicit TttModelImpl(const TttConfig& config);
    struct Result {
        torch::Tensor hidden;  // h + y, [B, T, D]
        TttStats stats;
    };
    Result forward(const torch::Tensor& h, const torch::Tensor& positions = {});
    // The static path of algorithm.md §4.1: h + the layer at its initial fast weights.
    torch::Tensor forwardStatic(const torch::Tensor& h, const torch::Tensor& positions = {});
    // Streaming one token h [1, D] of a chunk: the UPDATE hidden h + y [1, D] (forward's row).
    torch::Tensor streamStep(TttStreamState& state, const torch::Tensor& h, TttStreamStats& stats);
    // ttt_loss_init [B, H, n] of fast_norm(h) (TttLayerImpl::initLoss).
    torch::Tensor initLoss(const torch::Tensor& h, const torch::Tensor& positions = {});
    // Published initialisation (algorithm.md §2.2): LeCun-normal projections, zero wo (so
    // UPDATE == SKIP before training), W0 ~ N(0, 0.02), norms 1/0 (the RMS norm's w 0);
    // proj_in LeCun-normal, proj_out zero.
    void initialiseWeights(std::uint64_t seed);
    // The checkpoint's config (hidden = the backbone width D).
    const TttConfig& config() const { return m_config; }
    TttLayer layer() const;
    void setCausalK(std::int64_t k);

private:
    torch::Tensor layerInput(const torch::Tensor& h);        // fast_norm, then proj_in if any
    torch::Tensor projectOut(const torch::Tensor& y) const;  // proj_out if any
    TttConfig m_config;
    torch::nn::LayerNorm m_fastNorm{nullptr};  // fast_norm "layernorm"
    torch::Tensor m_fastNormRms;               // fast_norm "rmsnorm": weight [D]
    torch::Tensor m_projIn, m_projOut;         // [P, D], [D, P] with a ttt_width
    TttLayer m_layer{nullptr};
};
TORCH_MODULE(TttModel);

// ttt.safetensors + ttt.json in `dir`. Loading refuses a checkpoint whose backbone_sha256
// differs from `backboneSha256` unless `force`; throws ModelLoadError naming the problem
// (missing/misshapen/non-finite tensor, bad ttt.json, hidden size != backbone width).
TttModel loadTttCheckpoint(const std::filesystem::path& dir, std::int64_t backboneHidden,
                           const std::string& backboneSha256, bool force,
                           torch::Device device = torch::kCPU);
// The same for any backbone: a checkpoint made for another architecture (backbone_arch) or
// width is refused even with `force`.
TttModel loadTttCheckpoint(const std::filesystem::path& dir, const BackboneInfo& backbone,
                           const std::string& backboneSha256, bool force,
                           torch::Device device = torch::kCPU);
void saveTttCheckpoint(TttModel& model, const std::filesystem::path& dir);

}  // namespace ponder::core
