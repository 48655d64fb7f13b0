// The LoRA fast-weight layer (algorithm.md §2.7): causal single-head attention with low-rank
// adapted queries and values, its initialisation and its checkpoint I/O (design.md §3.1).
#include "core/model/lora_layer_impl.h"

#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>

#include "core/model/fast_weights_checkpoint_impl.h"
#include "core/model/hashed_dropout_impl.h"
#include "core/model/safetensors.h"
#include "core/model/tensor_convert_impl.h"
#include "core/util/errors.h"

namespace ponder::core {
namespace fs = std::filesystem;

namespace {

constexpr double kLoraInitStd = 0.02;  // A ~ N(0, 0.02), the published initializer_range

void checkLoraConfig(const TttConfig& c) {
    if (!c.isLora())
        throw std::invalid_argument("the LoRA layer needs fast_weights \"lora\", got \"" +
                                    c.fastWeights + "\"");
    if (c.hidden <= 0) throw std::invalid_argument("LoRA hidden width must be positive");
    if (c.loraRank < 1)
        throw std::invalid_argument("lora_rank must be at least 1, got " +
                                    std::to_string(c.loraRank));
    if (!(c.loraAlphaValue() > 0.0) || !std::isfinite(c.loraAlphaValue()))
        throw std::invalid_argument("lora_alpha must be positive");
    if (!(c.loraDropout >= 0.0 && c.loraDropout < 1.0))
        throw std::invalid_argument("lora_dropout must be in [0, 1), got " +
                                    std::to_string(c.loraDropout));
    if (c.tttWidth > 0)
        throw std::invalid_argument("ttt_width is not supported with the LoRA layer");
}

void checkInput(const torch::Tensor& x, std::int64_t width) {
    if (x.dim() != 3 || x.size(2) != width || x.size(1) == 0)
        throw std::invalid_argument("the LoRA layer expects input shaped [batch, tokens >= 1, " +
                                    std::to_string(width) + "], got " + c10::str(x.sizes()));
}

void checkPositions(const torch::Tensor& positions, std::int64_t length) {
    if (!positions.defined()) return;
    if (positions.dim() < 1 || positions.dim() > 2 || positions.size(-1) != length)
        throw std::invalid_argument("LoRA positions must be shaped [T] or [B, T] with T = " +
                                    std::to_string(length));
}

// Scores with the causal mask: token t sees tokens 0..t (the published layer masks only padding).
torch::Tensor causalWeights(const torch::Tensor& q, const torch::Tensor& k) {
    const auto length = q.size(-2);
    const auto scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(double(q.size(-1)));
    const auto future = torch::ones({length, length}, q.options().dtype(torch::kBool)).triu(1);
    return torch::softmax(scores.masked_fill(future, -std::numeric_limits<double>::infinity()), -1);
}

}  // namespace

LoraLinearImpl::LoraLinearImpl(std::int64_t features, std::int64_t rank, double alpha,
                               double dropout)
    : m_scaling(alpha / double(rank)), m_dropout(dropout) {
    const auto noBias = [](std::int64_t in, std::int64_t out) {
        return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(false));
    };
    lora_A = register_module("lora_A", noBias(features, rank));
    lora_B = register_module("lora_B", noBias(rank, features));
    resetParameters();
}

torch::Tensor LoraLinearImpl::forward(const torch::Tensor& x) {
    auto down = lora_A(x);
    if (m_dropout > 0.0) down = hashedDropout(down, m_dropout, is_training());
    return lora_B(down) * m_scaling;
}

void LoraLinearImpl::resetParameters() {
    torch::NoGradGuard noGrad;
    lora_A->weight.copy_(torch::randn(lora_A->weight.sizes(), torch::kFloat64) * kLoraInitStd);
    lora_B->weight.zero_();
}

LoraLayerImpl::LoraLayerImpl(const TttConfig& config) : m_config(config) {
    checkLoraConfig(config);
    const auto alpha = config.loraAlphaValue();
    q_lora = register_module("q_lora",
                             LoraLinear(config.hidden, config.loraRank, alpha, config.loraDropout));
    v_lora = register_module("v_lora",
                             LoraLinear(config.hidden, config.loraRank, alpha, config.loraDropout));
}

void LoraLayerImpl::resetParameters() {
    q_lora->resetParameters();
    v_lora->resetParameters();
}

LoraOutput LoraLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& positions) {
    checkInput(x, m_config.hidden);
    checkPositions(positions, x.size(1));
    const auto qDelta = q_lora(x), vDelta = v_lora(x);
    const auto q = x + qDelta, v = x + vDelta;
    const auto weights = causalWeights(q, x);  // k = x
    LoraOutput out;
    out.y = torch::matmul(weights, v);

    torch::NoGradGuard noGrad;
    const auto perSequence = [](const torch::Tensor& t) {
        return t.detach().flatten(1).norm(2, 1);
    };
    out.stats.qDeltaNorm = perSequence(qDelta);
    out.stats.vDeltaNorm = perSequence(vDelta);
    out.stats.outputNorm = perSequence(out.y);
    const auto w = weights.detach();
    // 0·log 0 = 0 for the masked entries.
    const auto plogp = torch::where(w > 0, w * torch::log(w), torch::zeros_like(w));
    out.stats.attnEntropy = -plogp.sum(-1).mean(-1);
    return out;
}

torch::Tensor LoraLayerImpl::streamStep(LoraStreamState& state, const torch::Tensor& x) {
    const auto row = x.reshape({1, m_config.hidden});
    const auto q = row + q_lora(row), v = row + v_lora(row);
    state.keys = state.keys.defined() ? torch::cat({state.keys, row}) : row;
    state.values = state.values.defined() ? torch::cat({state.values, v}) : v;
    ++state.position;
    const auto scores = torch::matmul(q, state.keys.t()) / std::sqrt(double(m_config.hidden));
    return torch::matmul(torch::softmax(scores, -1), state.values);
}

LoraModelImpl::LoraModelImpl(const TttConfig& config) : m_config(config) {
    checkLoraConfig(config);
    if (config.fastNorm == "rmsnorm") {
        auto norm = register_module("fast_norm", std::make_shared<torch::nn::Module>());
        m_fastNormRms = norm->register_parameter("weight", torch::zeros({config.hidden}));
    } else {
        m_fastNorm = register_module(
            "fast_norm",
            torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.hidden}).eps(config.lnEps)));
    }
    m_layer = register_module("lora", LoraLayer(config));
}

torch::Tensor LoraModelImpl::normalise(const torch::Tensor& h) {
    if (m_fastNormRms.defined())  // Gemma's RMSNorm: x / rms(x) * (1 + w)
        return h * torch::rsqrt(h.pow(2).mean(-1, true) + m_config.fastNormEps) *
               (1.0 + m_fastNormRms);
    return m_fastNorm(h);
}

LoraModelImpl::Result LoraModelImpl::forward(const torch::Tensor& h,
                                             const torch::Tensor& positions) {
    checkInput(h, m_config.hidden);
    auto out = m_layer(normalise(h), positions);
    // Residual onto the un-normalised final hidden state, as for TTT-Linear (algorithm.md §1).
    return {h + out.y, out.stats};
}

torch::Tensor LoraModelImpl::streamStep(LoraStreamState& state, const torch::Tensor& h) {
    const auto row = h.reshape({1, m_config.hidden});
    return row + m_layer->streamStep(state, normalise(row));
}

void LoraModelImpl::initialiseWeights(std::uint64_t seed) {
    torch::NoGradGuard noGrad;
    torch::manual_seed(seed);
    if (m_fastNormRms.defined()) {
        m_fastNormRms.zero_();
    } else {
        m_fastNorm->weight.fill_(1.0);
        m_fastNorm->bias.zero_();
    }
    m_layer->resetParameters();
}

LoraModel loadLoraCheckpoint(const fs::path& dir, const BackboneInfo& backbone,
                             const std::string& backboneSha256, bool force, torch::Device device) {
    const auto config = checkedCheckpointConfig(dir, backbone, backboneSha256, force, "LoRA");
    if (!config.isLora())
        throw ModelLoadError("checkpoint '" + (dir / "ttt.json").string() + "' holds a " +
                                 config.fastWeights + " layer, not a LoRA one",
                             "load it as a TTT-Linear checkpoint (isLoraCheckpoint tells which)");
    LoraModel model(config);
    loadCheckpointTensors(*model, dir, "LoRA",
                          "a LoRA layer of rank " + std::to_string(config.loraRank));
    model->to(device);
    model->eval();
    return model;
}

void saveLoraCheckpoint(LoraModel& model, const fs::path& dir) {
    saveCheckpointFiles(*model, model->config(), dir);
}

}  // namespace ponder::core
