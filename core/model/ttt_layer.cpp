// TTT-Linear forward pass in the dual form (algorithm.md §2.3-2.5, §3), its published
// initialisation (§2.2) and the ttt.safetensors/ttt.json checkpoint I/O (design.md §3.1).
#include "core/model/ttt_layer_impl.h"

#include <cmath>
#include <set>
#include <stdexcept>

#include "core/model/fast_weights_checkpoint_impl.h"
#include "core/model/safetensors.h"
#include "core/model/tensor_convert_impl.h"
#include "core/util/errors.h"

namespace ponder::core {
namespace fs = std::filesystem;
namespace F = torch::nn::functional;

namespace {

// Per-row LayerNorm with explicit (broadcast) γ, β; biased variance as in flax/torch.
torch::Tensor layerNorm(const torch::Tensor& z, const torch::Tensor& gamma,
                        const torch::Tensor& beta, double eps) {
    const auto mean = z.mean(-1, true);
    const auto centred = z - mean;
    const auto var = centred.pow(2).mean(-1, true);
    return centred * torch::rsqrt(var + eps) * gamma + beta;
}

struct InnerGrad {
    torch::Tensor grad;      // ∂/∂z of ½‖LN(z) − target‖², row by row
    torch::Tensor residual;  // LN(z) − target, whose last row gives ttt_loss_step_0 (§3)
};

InnerGrad innerGrad(const torch::Tensor& z, const torch::Tensor& target, const torch::Tensor& gamma,
                    const torch::Tensor& beta, double eps) {
    const double d = double(z.size(-1));
    const auto mean = z.mean(-1, true);
    const auto centred = z - mean;
    const auto sigma = torch::sqrt(centred.pow(2).mean(-1, true) + eps);
    const auto xHat = centred / sigma;
    const auto residual = xHat * gamma + beta - target;
    // algorithm.md §2.5 step 2: G = (d·g − Σg − x̂·Σ(g ⊙ x̂)) / (d·σ) with g = Rs ⊙ γ.
    const auto g = residual * gamma;
    const auto grad = (d * g - g.sum(-1, true) - xHat * (g * xHat).sum(-1, true)) / (d * sigma);
    return {grad, residual};
}

torch::Tensor lastTokenLoss(const torch::Tensor& z, const torch::Tensor& target,
                            const torch::Tensor& gamma, const torch::Tensor& beta, double eps) {
    return (layerNorm(z, gamma, beta, eps) - target).pow(2).mean(-1);
}

// design.md §3.1: out[t] = bias + Σ_k w[:, k] · x[t − (W−1) − lag + k], zeros before the
// chunk. Left-padding by W−1+lag and keeping the first T outputs gives exactly that; lag 1
// is the published code's 'SAME'-after-manual-pad behaviour (algorithm.md §2.3 step 2).
torch::Tensor causalConv(const torch::Tensor& x, const WeightBias& conv, std::int64_t lag) {
    const auto length = x.size(1), channels = x.size(2), width = conv->weight.size(1);
    const auto padded = F::pad(x.transpose(1, 2), F::PadFuncOptions({width - 1 + lag, 0}));
    const auto out = F::conv1d(padded, conv->weight.unsqueeze(1),
                               F::Conv1dFuncOptions().bias(conv->bias).groups(channels));
    return out.slice(2, 0, length).transpose(1, 2);
}

// Interleaved-pair RoPE (algorithm.md §2.3 step 4) on [B, T, H, d]; `cosines`/`sines` are
// [T, 1, d/2] or [B, T, 1, d/2].
torch::Tensor rotate(const torch::Tensor& x, const torch::Tensor& cosines,
                     const torch::Tensor& sines) {
    auto sizes = x.sizes().vec();
    sizes.back() /= 2;
    sizes.push_back(2);
    const auto pairs = x.reshape(sizes);
    const auto a = pairs.select(-1, 0), b = pairs.select(-1, 1);
    return torch::stack({a * cosines - b * sines, a * sines + b * cosines}, -1).reshape(x.sizes());
}

// RoPE tables for x [B, T, D] (algorithm.md §2.3 step 4): angles pos·θ^(−2p/d) with pos mod
// K, since positions only matter inside a mini-batch. [T, 1, d/2] or [B, T, 1, d/2] each.
std::pair<torch::Tensor, torch::Tensor> ropeTables(const TttConfig& c, const torch::Tensor& x,
                                                   const torch::Tensor& positions) {
    const auto length = x.size(1);
    const auto pos =
        positions.defined()
            ? positions.to(x.device())
            : torch::arange(length, torch::TensorOptions().dtype(torch::kInt64).device(x.device()));
    if (pos.size(-1) != length || pos.dim() > 2)
        throw std::invalid_argument("TTT positions must be shaped [T] or [B, T] with T = " +
                                    std::to_string(length));
    const auto invFreq = torch::exp(torch::arange(c.headDim / 2, x.options()) *
                                    (-2.0 / double(c.headDim) * std::log(c.ropeTheta)));
    const auto angles =
        torch::remainder(pos, c.miniBatch).to(x.options().dtype()).unsqueeze(-1) * invFreq;
    return {angles.cos().unsqueeze(-2), angles.sin().unsqueeze(-2)};
}

// Flax's lecun_normal: a normal truncated at ±2 std, rescaled (÷ 0.8796…, the std of a unit
// normal truncated at ±2) so the variance is 1/fan_in (algorithm.md §2.2). Drawn in float64 on
// the CPU by inverse CDF so a seed gives the same weights on every device and dtype.
void lecunNormal(torch::Tensor& param, std::int64_t fanIn) {
    const double upper = 0.5 * (1.0 + std::erf(2.0 / std::sqrt(2.0)));  // Φ(2)
    const double lower = 1.0 - upper;
    const auto u = torch::rand(param.sizes(), torch::kFloat64) * (upper - lower) + lower;
    const auto unit = (torch::erfinv(2.0 * u - 1.0) * std::sqrt(2.0)).clamp(-2.0, 2.0);
    param.copy_(unit * (std::sqrt(1.0 / double(fanIn)) / 0.87962566103423978));
}

void fillNorm(torch::Tensor& weight, torch::Tensor& bias) {
    weight.fill_(1.0);
    bias.zero_();
}

// The published code requires whole mini-batches (algorithm.md §2.6); say how to comply.
void checkInput(const torch::Tensor& x, const TttConfig& c) {
    if (x.dim() != 3 || x.size(2) != c.hidden)
        throw std::invalid_argument("the TTT layer expects input shaped [batch, tokens, " +
                                    std::to_string(c.hidden) + "], got " + c10::str(x.sizes()));
    const auto length = x.size(1), k = c.miniBatch;
    if (length % k != 0 || length == 0)
        throw std::invalid_argument(
            "chunk of " + std::to_string(length) +
            " tokens is not a multiple of the TTT mini-batch K = " + std::to_string(k) +
            "; trim it to " + std::to_string(length / k * k) +
            " tokens (a chunk must hold whole mini-batches)");
}

}  // namespace

WeightBiasImpl::WeightBiasImpl(torch::IntArrayRef weightShape, torch::IntArrayRef biasShape) {
    weight = register_parameter("weight", torch::zeros(weightShape));
    bias = register_parameter("bias", torch::zeros(biasShape));
}

torch::Tensor innerLayerNormGrad(const torch::Tensor& z, const torch::Tensor& target,
                                 const torch::Tensor& gamma, const torch::Tensor& beta,
                                 double eps) {
    return innerGrad(z, target, gamma, beta, eps).grad;
}

TttLayerImpl::TttLayerImpl(const TttConfig& config) : m_config(config) {
    const auto dim = config.hidden, inner = config.heads * config.headDim;
    if (dim <= 0 || config.heads <= 0 || config.headDim <= 0 || config.miniBatch <= 0 ||
        config.convWidth <= 0)
        throw std::invalid_argument("TTT config sizes must be positive");
    if (config.headDim % 2 != 0)
        throw std::invalid_argument("TTT head_dim must be even (RoPE rotates feature pairs)");
    if (config.etaForm != "ponderttt" && config.etaForm != "ttt-lm")
        throw std::invalid_argument("TTT eta_form must be \"ponderttt\" or \"ttt-lm\", got \"" +
                                    config.etaForm + "\"");
    const auto noBias = [](std::int64_t in, std::int64_t out) {
        return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(false));
    };
    m_wq = register_module("wq", noBias(dim, inner));
    m_wv = register_module("wv", noBias(dim, inner));
    m_wg = register_module("wg", noBias(dim, inner));
    m_wo = register_module("wo", noBias(inner, dim));
    using Shape = std::vector<std::int64_t>;
    m_convQ = register_module("conv_q", WeightBias(Shape{inner, config.convWidth}, Shape{inner}));
    m_convK = register_module("conv_k", WeightBias(Shape{inner, config.convWidth}, Shape{inner}));
    m_lrGate = register_module("lr_gate", torch::nn::Linear(dim, config.heads));
    m_tokenIdxOffset = register_parameter("token_idx_offset", torch::zeros({config.miniBatch}));
    m_tttNorm = register_module("ttt_norm", WeightBias(Shape{config.heads, config.headDim},
                                                       Shape{config.heads, config.headDim}));
    m_postNorm = register_module(
        "post_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({inner}).eps(config.lnEps)));
    m_w0 = register_parameter("W0", torch::zeros({config.heads, config.headDim, config.headDim}));
    m_b0 = register_parameter("b0", torch::zeros({config.heads, config.headDim}));
    resetParameters();
}

void TttLayerImpl::resetParameters() {
    torch::NoGradGuard noGrad;
    const auto dim = m_config.hidden;
    lecunNormal(m_wq->weight, dim);
    lecunNormal(m_wv->weight, dim);
    lecunNormal(m_wg->weight, dim);
    m_wo->weight.zero_();  // the TTT output starts at 0, so UPDATE == SKIP at init (§2.2)
    lecunNormal(m_convQ->weight, m_config.convWidth);  // depthwise: fan_in = width
    lecunNormal(m_convK->weight, m_config.convWidth);
    m_convQ->bias.zero_();
    m_convK->bias.zero_();
    lecunNormal(m_lrGate->weight, dim);
    m_lrGate->bias.zero_();
    m_tokenIdxOffset.zero_();
    fillNorm(m_tttNorm->weight, m_tttNorm->bias);
    fillNorm(m_postNorm->weight, m_postNorm->bias);
    m_w0.copy_(torch::randn(m_w0.sizes(), torch::kFloat64) * 0.02);
    m_b0.zero_();
}

TttInner TttLayerImpl::prepareInner(const torch::Tensor& x, const torch::Tensor& positions) {
    const auto& c = m_config;
    checkInput(x, c);
    const auto batch = x.size(0), length = x.size(1), k = c.miniBatch;
    const auto heads = c.heads, headDim = c.headDim;
    const auto n = length / k;

    TttInner inner;
    const auto xqk = m_wq(x);
    inner.convQ = causalConv(xqk, m_convQ, c.convLag);
    inner.convK = causalConv(xqk, m_convK, c.convLag);

    const auto [cosines, sines] = ropeTables(c, x, positions);
    // [B, T, H*d] -> heads (head-major split) -> [B, H, n, K, d]: token t = m·K + j.
    const auto toMiniBatches = [&](const torch::Tensor& t) {
        return t.reshape({batch, n, k, heads, headDim}).permute({0, 3, 1, 2, 4});
    };
    const auto split = [&](const torch::Tensor& t) {
        return t.reshape({batch, length, heads, headDim});
    };
    inner.xq = toMiniBatches(rotate(split(inner.convQ), cosines, sines));
    inner.xk = toMiniBatches(rotate(split(inner.convK), cosines, sines));
    inner.xv = toMiniBatches(m_wv(x));

    // η, algorithm.md §2.4. The sigmoid gate always belongs to the source token j.
    const auto gate =
        torch::sigmoid(m_lrGate(x)).permute({0, 2, 1}).reshape({batch, heads, n, 1, k});
    const auto factors = etaFactors();
    if (factors.perRow.defined())
        inner.eta = gate * factors.perRow.unsqueeze(-1);
    else
        inner.eta = (gate * factors.perSource).expand({batch, heads, n, k, k});
    return inner;
}

TttLayerImpl::EtaFactors TttLayerImpl::etaFactors() const {
    const auto& c = m_config;
    const auto k = c.miniBatch;
    const auto j = torch::arange(k, m_tokenIdxOffset.options());
    const auto position = torch::clamp_min(1.0 / (j + 1.0) + m_tokenIdxOffset, 0.0);
    EtaFactors factors;
    if (c.etaForm == "ponderttt") {
        // P drops R/J's transpose: the position factor multiplies the source token j, with
        // the extra exp-decay and 768/D factors.
        factors.perSource = position * torch::exp(c.etaDecay * (j - double(k - 1))) *
                            (c.baseLr * 768.0 / double(c.hidden) / double(c.headDim));
    } else {
        // R/J: the 1/(i+1) factor belongs to the output row i (a running average).
        factors.perRow = position * (c.baseLr / double(c.headDim));
    }
    return factors;
}

torch::Tensor TttLayerImpl::initLoss(const torch::Tensor& x, const torch::Tensor& positions) {
    const auto& c = m_config;
    checkInput(x, c);
    const auto batch = x.size(0), length = x.size(1), k = c.miniBatch, n = length / k;
    const auto toHeads = [&](const torch::Tensor& t) {  // [B, n, H*d] -> [B, H, n, d]
        return t.reshape({batch, n, c.heads, c.headDim}).permute({0, 2, 1, 3});
    };
    // Only each mini-batch's last token enters §3's statistic. Its key needs the conv over the
    // tokens before it, so all of x·Wq; x·Wv is projected whole too (a small cost next to the
    // backbone) so that every product has forward's shapes and the values match it bit for
    // bit: an online gate then decides exactly as a replay of the both-paths run.
    const auto convK = causalConv(m_wq(x), m_convK, c.convLag);
    const auto [cosines, sines] = ropeTables(c, x, positions);
    const auto keys = rotate(convK.reshape({batch, length, c.heads, c.headDim}), cosines, sines);
    const auto lastRows = [&](const torch::Tensor& t) { return t.slice(1, k - 1, length, k); };
    return initStatistic(toHeads(lastRows(keys)), toHeads(lastRows(m_wv(x))));
}

torch::Tensor TttLayerImpl::initStatistic(const torch::Tensor& lastK,
                                          const torch::Tensor& lastV) const {
    const auto heads = m_config.heads, headDim = m_config.headDim;
    return lastTokenLoss(lastK.matmul(m_w0.unsqueeze(0)) + m_b0.view({1, heads, 1, headDim}),
                         lastV - lastK, m_tttNorm->weight.view({1, heads, 1, headDim}),
                         m_tttNorm->bias.view({1, heads, 1, headDim}), m_config.lnEps);
}

TttOutput TttLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& positions) {
    const auto& c = m_config;
    const auto inner = prepareInner(x, positions);
    const auto batch = x.size(0), length = x.size(1), k = c.miniBatch, n = length / k;
    const auto heads = c.heads, headDim = c.headDim;
    const auto gamma = m_tttNorm->weight.view({1, heads, 1, headDim});
    const auto beta = m_tttNorm->bias.view({1, heads, 1, headDim});
    const auto w0 = m_w0.unsqueeze(0), b0 = m_b0.view({1, heads, 1, headDim});
    const auto mask = torch::ones({k, k}, x.options()).tril(c.causalK);

    // §3 ttt_loss_init: every mini-batch's last token against the chunk-initial (W0, b0).
    TttStats stats;
    stats.init = initStatistic(inner.xk.select(3, k - 1), inner.xv.select(3, k - 1));

    // The scan over mini-batches (algorithm.md §2.5), vectorised over batch and heads. No
    // in-place updates, so outer training can differentiate through every step.
    auto weight = w0.expand({batch, heads, headDim, headDim});
    auto bias = b0.expand({batch, heads, 1, headDim});
    std::vector<torch::Tensor> outputs, step0, step1;
    for (std::int64_t m = 0; m < n; ++m) {
        const auto q = inner.xq.select(2, m), kk = inner.xk.select(2, m);
        const auto target = inner.xv.select(2, m) - kk;  // S = V − K
        const auto eta = inner.eta.select(2, m);
        const auto [grad, residual] =
            innerGrad(kk.matmul(weight) + bias, target, gamma, beta, c.lnEps);
        step0.push_back(residual.select(2, k - 1).pow(2).mean(-1));

        // Step 4: row i sees W − Σ_j M_ij η_ij k_jᵀ g_j (gradients at the mini-batch start).
        const auto maskedEta = eta * mask;
        const auto attention = q.matmul(kk.transpose(-1, -2)) * maskedEta;
        const auto biasBar = bias - maskedEta.matmul(grad);
        const auto zBar = q.matmul(weight) - attention.matmul(grad) + biasBar;
        outputs.push_back(q + layerNorm(zBar, gamma, beta, c.lnEps));  // step 5: adds Q

        // Step 6: the carry uses all K tokens with row K−1's rates, whatever causal_k is.
        const auto scaledGrad = eta.select(2, k - 1).unsqueeze(-1) * grad;
        weight = weight - kk.transpose(-1, -2).matmul(scaledGrad);
        bias = bias - scaledGrad.sum(2, true);
        step1.push_back(lastTokenLoss(kk.select(2, k - 1).unsqueeze(2).matmul(weight) + bias,
                                      target.select(2, k - 1).unsqueeze(2), gamma, beta, c.lnEps)
                            .squeeze(2));
    }
    stats.step0 = torch::stack(step0, 2);
    stats.step1 = torch::stack(step1, 2);
    return {outputOf(x, torch::stack(outputs, 2)), stats};
}

torch::Tensor TttLayerImpl::outputOf(const torch::Tensor& x, const torch::Tensor& miniBatchOut) {
    const auto batch = x.size(0), length = x.size(1);
    const auto heads = m_config.heads, headDim = m_config.headDim;
    // [B, H, n, K, d] -> [B, T, H*d], then post_norm, gate and output projection (§2.3 8-10).
    auto z = miniBatchOut.reshape({batch, heads, length, headDim})
                 .permute({0, 2, 1, 3})
                 .reshape({batch, length, heads * headDim});
    z = torch::gelu(m_wg(x), "tanh") * m_postNorm(z);
    return m_wo(z);
}

torch::Tensor TttLayerImpl::forwardStatic(const torch::Tensor& x, const torch::Tensor& positions) {
    // algorithm.md §4.1: with every η zero, §2.5's Z̄_i = q_i·W0 + b0 on every row and the
    // carry keeps (W0, b0), so the scan collapses to one product per head.
    const auto& c = m_config;
    const auto inner = prepareInner(x, positions);
    const auto gamma = m_tttNorm->weight.view({1, c.heads, 1, 1, c.headDim});
    const auto beta = m_tttNorm->bias.view({1, c.heads, 1, 1, c.headDim});
    const auto w0 = m_w0.view({1, c.heads, 1, c.headDim, c.headDim});
    const auto b0 = m_b0.view({1, c.heads, 1, 1, c.headDim});
    const auto zBar = inner.xq.matmul(w0) + b0;
    return outputOf(x, inner.xq + layerNorm(zBar, gamma, beta, c.lnEps));  // step 5: adds Q
}

TttStreamState TttLayerImpl::startStream() const {
    TttStreamState state;
    state.weight = m_w0.detach().clone();
    state.bias = m_b0.detach().unsqueeze(1).clone();
    const auto factors = etaFactors();
    state.etaPerSource = factors.perSource;
    state.etaPerRow = factors.perRow;
    return state;
}

// The dual form of algorithm.md §2.5 one token at a time: token i of mini-batch m sees
// W_m − Σ_{j≤i} η_ij k_jᵀ g_j with every g_j taken at (W_m, b_m), so the gradients of the
// tokens read so far are all it needs; the carry at the mini-batch's end is forward()'s.
torch::Tensor TttLayerImpl::streamStep(TttStreamState& state, const torch::Tensor& x,
                                       TttStreamStats& stats) {
    const auto& c = m_config;
    const auto heads = c.heads, headDim = c.headDim, k = c.miniBatch;
    const auto row = x.reshape({1, 1, c.hidden});
    const auto j = state.position % k;

    // The causal conv over the chunk's tokens so far (design.md §3.1: zeros before the chunk).
    state.convIn.push_back(m_wq(row).reshape({1, heads * headDim}));
    const auto width = c.convWidth, lag = c.convLag;
    if (std::int64_t(state.convIn.size()) > width + lag) state.convIn.erase(state.convIn.begin());
    const auto conv = [&](const WeightBias& filter) {
        auto out = filter->bias.unsqueeze(0);
        for (std::int64_t tap = 0; tap < width; ++tap) {
            const auto back = (width - 1) + lag - tap;  // tokens before the current one
            if (back >= std::int64_t(state.convIn.size())) continue;
            out =
                out + filter->weight.select(1, tap) * state.convIn[state.convIn.size() - 1 - back];
        }
        return out;
    };
    const auto position = torch::full({1}, state.position, torch::kInt64);
    // Not a structured binding: lambdas may capture those only from C++20 (clang).
    const auto rope = ropeTables(c, row, position);
    const auto& cosines = rope.first;
    const auto& sines = rope.second;
    const auto toHeads = [&](const torch::Tensor& t) {  // [1, H*d] -> RoPE'd [H, 1, d]
        return rotate(t.reshape({1, 1, heads, headDim}), cosines, sines)
            .reshape({heads, 1, headDim});
    };
    const auto q = toHeads(conv(m_convQ)), key = toHeads(conv(m_convK));
    const auto value = m_wv(row).reshape({heads, 1, headDim});
    const auto gamma = m_tttNorm->weight.view({heads, 1, headDim});
    const auto beta = m_tttNorm->bias.view({heads, 1, headDim});

    const auto target = value - key;  // S = V − K
    const auto [grad, residual] =
        innerGrad(key.matmul(state.weight) + state.bias, target, gamma, beta, c.lnEps);
    auto sourceRate = torch::sigmoid(m_lrGate(row)).reshape({heads, 1, 1});
    if (state.etaPerSource.defined()) sourceRate = sourceRate * state.etaPerSource[j];
    state.keys.push_back(key);
    state.grads.push_back(grad);
    state.sourceRates.push_back(sourceRate);

    // Row j's rates over the sources j' ≤ j + causal_k (the dual form's mask M).
    const auto rowRates = [&](std::int64_t i, std::int64_t visible) {
        auto rates = torch::cat(std::vector<torch::Tensor>(state.sourceRates.begin(),
                                                           state.sourceRates.begin() + visible),
                                2);  // [H, 1, visible]
        return state.etaPerRow.defined() ? rates * state.etaPerRow[i] : rates;
    };
    const auto visible = std::min<std::int64_t>(j + 1 + c.causalK, j + 1);
    auto zBar = q.matmul(state.weight) + state.bias;
    if (visible > 0) {
        const auto keys = torch::cat(
            std::vector<torch::Tensor>(state.keys.begin(), state.keys.begin() + visible), 1);
        const auto grads = torch::cat(
            std::vector<torch::Tensor>(state.grads.begin(), state.grads.begin() + visible), 1);
        const auto rates = rowRates(j, visible);
        zBar =
            zBar - (q.matmul(keys.transpose(-1, -2)) * rates).matmul(grads) - rates.matmul(grads);
    }
    const auto out = (q + layerNorm(zBar, gamma, beta, c.lnEps)).reshape({1, 1, heads * headDim});

    if (j == k - 1) {  // the mini-batch ends: §3's statistics and the carry (§2.5 step 6)
        stats.step0 = residual.pow(2).mean(-1).reshape({heads});
        stats.init =
            lastTokenLoss(key.matmul(m_w0) + m_b0.unsqueeze(1), target, gamma, beta, c.lnEps)
                .reshape({heads});
        const auto keys = torch::cat(state.keys, 1), grads = torch::cat(state.grads, 1);
        const auto scaledGrad = rowRates(k - 1, k).transpose(-1, -2) * grads;  // [H, K, d]
        state.weight = state.weight - keys.transpose(-1, -2).matmul(scaledGrad);
        state.bias = state.bias - scaledGrad.sum(1, true);
        stats.step1 =
            lastTokenLoss(key.matmul(state.weight) + state.bias, target, gamma, beta, c.lnEps)
                .reshape({heads});
        state.keys.clear();
        state.grads.clear();
        state.sourceRates.clear();
    }
    ++state.position;
    const auto gated = torch::gelu(m_wg(row), "tanh") * m_postNorm(out);
    return m_wo(gated).reshape({1, c.hidden});
}

TttModelImpl::TttModelImpl(const TttConfig& config) : m_config(config) {
    if (config.fastNorm == "rmsnorm") {
        auto norm = register_module("fast_norm", std::make_shared<torch::nn::Module>());
        m_fastNormRms = norm->register_parameter("weight", torch::zeros({config.hidden}));
    } else {
        m_fastNorm = register_module(
            "fast_norm",
            torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.hidden}).eps(config.lnEps)));
    }
    auto layerConfig = config;
    layerConfig.hidden = config.layerWidth();
    if (config.tttWidth > 0) {
        auto in = register_module("ttt_proj_in", std::make_shared<torch::nn::Module>());
        m_projIn = in->register_parameter("weight", torch::zeros({config.tttWidth, config.hidden}));
        auto out = register_module("ttt_proj_out", std::make_shared<torch::nn::Module>());
        m_projOut =
            out->register_parameter("weight", torch::zeros({config.hidden, config.tttWidth}));
    }
    m_layer = register_module("ttt", TttLayer(layerConfig));
}

torch::Tensor TttModelImpl::layerInput(const torch::Tensor& h) {
    torch::Tensor x;
    if (m_fastNormRms.defined()) {  // Gemma's RMSNorm: x / rms(x) * (1 + w)
        x = h * torch::rsqrt(h.pow(2).mean(-1, true) + m_config.fastNormEps) *
            (1.0 + m_fastNormRms);
    } else {
        x = m_fastNorm(h);
    }
    return m_projIn.defined() ? torch::linear(x, m_projIn) : x;
}

torch::Tensor TttModelImpl::initLoss(const torch::Tensor& h, const torch::Tensor& positions) {
    return m_layer->initLoss(layerInput(h), positions);
}

TttModelImpl::Result TttModelImpl::forward(const torch::Tensor& h, const torch::Tensor& positions) {
    checkInput(h, config());
    auto out = m_layer(layerInput(h), positions);
    // Residual onto the un-normalised final hidden state; no extra final norm (algorithm.md §1).
    return {h + projectOut(out.y), out.stats};
}

torch::Tensor TttModelImpl::forwardStatic(const torch::Tensor& h, const torch::Tensor& positions) {
    checkInput(h, config());
    return h + projectOut(m_layer->forwardStatic(layerInput(h), positions));
}

torch::Tensor TttModelImpl::projectOut(const torch::Tensor& y) const {
    return m_projOut.defined() ? torch::linear(y, m_projOut) : y;
}

torch::Tensor TttModelImpl::streamStep(TttStreamState& state, const torch::Tensor& h,
                                       TttStreamStats& stats) {
    const auto row = h.reshape({1, m_config.hidden});
    return row + projectOut(m_layer->streamStep(state, layerInput(row), stats));
}

void TttModelImpl::initialiseWeights(std::uint64_t seed) {
    torch::NoGradGuard noGrad;
    torch::manual_seed(seed);
    if (m_fastNormRms.defined())
        m_fastNormRms.zero_();
    else
        fillNorm(m_fastNorm->weight, m_fastNorm->bias);
    m_layer->resetParameters();
    if (m_projIn.defined()) {
        lecunNormal(m_projIn, m_config.hidden);
        m_projOut.zero_();
    }
}

void TttModelImpl::setCausalK(std::int64_t k) {
    m_layer->setCausalK(k);
    m_config.causalK = k;
}

void TttLayerImpl::setCausalK(std::int64_t k) {
    if (k != 0 && k != -1)
        throw std::invalid_argument("causal_k must be 0 or -1, not " + std::to_string(k));
    m_config.causalK = k;
}

TttLayer TttModelImpl::layer() const {
    return m_layer;
}

TttModel loadTttCheckpoint(const fs::path& dir, std::int64_t backboneHidden,
                           const std::string& backboneSha256, bool force, torch::Device device) {
    BackboneInfo backbone;
    backbone.hidden = backboneHidden;
    return loadTttCheckpoint(dir, backbone, backboneSha256, force, device);
}

TttModel loadTttCheckpoint(const fs::path& dir, const BackboneInfo& backbone,
                           const std::string& backboneSha256, bool force, torch::Device device) {
    const auto config = checkedCheckpointConfig(dir, backbone, backboneSha256, force, "TTT");
    TttModel model(config);
    loadCheckpointTensors(*model, dir, "TTT",
                          "a TTT layer with heads=" + std::to_string(config.heads) +
                              ", head_dim=" + std::to_string(config.headDim));
    model->to(device);
    model->eval();
    return model;
}

void saveTttCheckpoint(TttModel& model, const fs::path& dir) {
    saveCheckpointFiles(*model, model->config(), dir);
}

}  // namespace ponder::core
