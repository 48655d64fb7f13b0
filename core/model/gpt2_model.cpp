// GPT-2 forward pass, initialisation and Hugging Face-compatible weight I/O.
#include "core/model/gpt2_model_impl.h"

#include <cmath>
#include <limits>
#include <set>

#include "core/model/hashed_dropout_impl.h"
#include "core/model/tensor_convert_impl.h"
#include "core/util/errors.h"

namespace ponder::core {
namespace fs = std::filesystem;

namespace {

torch::nn::LayerNorm makeLayerNorm(const Gpt2Config& config) {
    return torch::nn::LayerNorm(
        torch::nn::LayerNormOptions({config.nEmbd}).eps(config.layerNormEpsilon));
}

torch::Tensor activate(const torch::Tensor& x, const std::string& activation) {
    if (activation == "relu") return torch::relu(x);
    if (activation == "gelu") return torch::gelu(x);
    return torch::gelu(x, "tanh");  // gelu_new and gelu_pytorch_tanh
}

}  // namespace

Conv1DImpl::Conv1DImpl(std::int64_t in, std::int64_t out) {
    weight = register_parameter("weight", torch::empty({in, out}));
    bias = register_parameter("bias", torch::zeros({out}));
}

torch::Tensor Conv1DImpl::forward(const torch::Tensor& x) {
    auto sizes = x.sizes().vec();
    sizes.back() = weight.size(1);
    return torch::addmm(bias, x.reshape({-1, x.size(-1)}), weight).view(sizes);
}

Gpt2AttentionImpl::Gpt2AttentionImpl(const Gpt2Config& config) : m_config(config) {
    m_qkv = register_module("c_attn", Conv1D(config.nEmbd, 3 * config.nEmbd));
    m_proj = register_module("c_proj", Conv1D(config.nEmbd, config.nEmbd));
}

torch::Tensor Gpt2AttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& causalBias) {
    const auto batch = x.size(0), length = x.size(1);
    const auto heads = m_config.nHead, headDim = m_config.headDim();
    // [B, T, 3D] -> [3, B, H, T, hd]: q | k | v, each split head-major as in HF GPT-2.
    const auto qkv = m_qkv(x).view({batch, length, 3, heads, headDim}).permute({2, 0, 3, 1, 4});
    return attend(qkv[0], qkv[1], qkv[2], causalBias);
}

torch::Tensor Gpt2AttentionImpl::forwardCached(const torch::Tensor& x, torch::Tensor& keys,
                                               torch::Tensor& values) {
    const auto batch = x.size(0), length = x.size(1);
    const auto heads = m_config.nHead, headDim = m_config.headDim();
    const auto qkv = m_qkv(x).view({batch, length, 3, heads, headDim}).permute({2, 0, 3, 1, 4});
    keys = keys.defined() ? torch::cat({keys, qkv[1]}, 2) : qkv[1];
    values = values.defined() ? torch::cat({values, qkv[2]}, 2) : qkv[2];
    // New token i sits at position past + i: it sees columns 0 .. past + i.
    const auto past = keys.size(2) - length;
    const auto bias =
        torch::full({length, past + length}, -std::numeric_limits<float>::infinity(), x.options())
            .triu(past + 1);
    return attend(qkv[0], keys, values, bias);
}

torch::Tensor Gpt2AttentionImpl::attend(const torch::Tensor& q, const torch::Tensor& k,
                                        const torch::Tensor& v, const torch::Tensor& bias) {
    const auto batch = q.size(0), length = q.size(2);
    auto scores = torch::matmul(q, k.transpose(-2, -1));
    scores.mul_(1.0 / std::sqrt(double(m_config.headDim()))).add_(bias);
    // A bfloat16 backbone normalises its scores in float32 (8 mantissa bits lose the small
    // probabilities), as Gemma 3's does; the products stay in bfloat16.
    auto probs = q.scalar_type() == torch::kFloat32
                     ? torch::softmax(scores, -1)
                     : torch::softmax(scores, -1, torch::kFloat32).to(q.scalar_type());
    probs = hashedDropout(probs, m_config.attnDropout, is_training());
    auto out = torch::matmul(probs, v).transpose(1, 2).reshape({batch, length, m_config.nEmbd});
    return hashedDropout(m_proj(out), m_config.residDropout, is_training());
}

Gpt2MlpImpl::Gpt2MlpImpl(const Gpt2Config& config) : m_config(config) {
    m_fc = register_module("c_fc", Conv1D(config.nEmbd, config.innerSize()));
    m_proj = register_module("c_proj", Conv1D(config.innerSize(), config.nEmbd));
}

torch::Tensor Gpt2MlpImpl::forward(const torch::Tensor& x) {
    auto out = m_proj(activate(m_fc(x), m_config.activation));
    return hashedDropout(out, m_config.residDropout, is_training());
}

Gpt2BlockImpl::Gpt2BlockImpl(const Gpt2Config& config) : m_config(config) {
    m_ln1 = register_module("ln_1", makeLayerNorm(config));
    m_attn = register_module("attn", Gpt2Attention(config));
    m_ln2 = register_module("ln_2", makeLayerNorm(config));
    m_mlp = register_module("mlp", Gpt2Mlp(config));
}

torch::Tensor Gpt2BlockImpl::forward(const torch::Tensor& x, const torch::Tensor& causalBias) {
    auto h = x + m_attn(m_ln1(x), causalBias);
    return h + m_mlp(m_ln2(h));
}

torch::Tensor Gpt2BlockImpl::forwardCached(const torch::Tensor& x, torch::Tensor& keys,
                                           torch::Tensor& values) {
    auto h = x + m_attn->forwardCached(m_ln1(x), keys, values);
    return h + m_mlp(m_ln2(h));
}

Gpt2ModelImpl::Gpt2ModelImpl(const Gpt2Config& config, bool tiedLmHead) : m_config(config) {
    m_wte = register_module("wte", torch::nn::Embedding(config.vocabSize, config.nEmbd));
    m_wpe = register_module("wpe", torch::nn::Embedding(config.nPositions, config.nEmbd));
    m_blocks = register_module("h", torch::nn::ModuleList());
    for (std::int64_t i = 0; i < config.nLayer; ++i)
        m_blocks->push_back(Gpt2Block(config));
    m_lnF = register_module("ln_f", makeLayerNorm(config));
    if (!tiedLmHead)
        m_lmHead = register_module(
            "lm_head", torch::nn::Linear(
                           torch::nn::LinearOptions(config.nEmbd, config.vocabSize).bias(false)));
}

torch::Tensor Gpt2ModelImpl::hidden(const torch::Tensor& ids, const torch::Tensor& positions) {
    TORCH_CHECK(ids.dim() == 2, "GPT-2 expects token ids shaped [batch, length]");
    const auto length = ids.size(1);
    torch::Tensor pos = positions;
    if (!pos.defined()) {
        TORCH_CHECK(length <= m_config.nPositions, "sequence of ", length,
                    " tokens is longer than n_positions ", m_config.nPositions);
        pos =
            torch::arange(length, torch::TensorOptions().dtype(torch::kInt64).device(ids.device()));
    }
    auto x = m_wte(ids) + m_wpe(pos);
    x = hashedDropout(x, m_config.embdDropout, is_training());
    // Additive causal mask: -inf above the diagonal, so position t attends to 0..t only.
    const auto causalBias =
        torch::full({length, length}, -std::numeric_limits<float>::infinity(), x.options()).triu(1);
    for (const auto& block : *m_blocks)
        x = block->as<Gpt2Block>()->forward(x, causalBias);
    return m_lnF(x).to(torch::kFloat32);  // the TTT layer and the heads read float32
}

torch::Tensor Gpt2ModelImpl::logits(const torch::Tensor& hidden) const {
    // In the backbone's dtype (the head GEMM is the largest), returned as float32 for the loss.
    const auto& head = m_lmHead.is_empty() ? m_wte->weight : m_lmHead->weight;
    return torch::linear(hidden.to(head.scalar_type()), head).to(torch::kFloat32);
}

BackboneInfo Gpt2ModelImpl::info() const {
    return backboneInfoOf(m_config);
}

namespace {
// Per block, the keys and values of every token read so far.
struct KvCache : Backbone::DecodeCache {
    std::vector<torch::Tensor> keys, values;
};
}  // namespace

std::unique_ptr<Backbone::DecodeCache> Gpt2ModelImpl::startDecode() const {
    auto cache = std::make_unique<KvCache>();
    cache->keys.resize(m_blocks->size());
    cache->values.resize(m_blocks->size());
    return cache;
}

torch::Tensor Gpt2ModelImpl::decodeStep(DecodeCache& cache, const torch::Tensor& ids) {
    TORCH_CHECK(ids.dim() == 2 && ids.size(0) == 1, "decodeStep expects token ids shaped [1, n]");
    auto& kv = dynamic_cast<KvCache&>(cache);
    const auto past = cache.length, length = ids.size(1);
    if (past + length > m_config.nPositions)
        throw InputError("generation of " + std::to_string(past + length) +
                             " tokens exceeds the model's " + std::to_string(m_config.nPositions) +
                             " positions",
                         "use a shorter prompt or fewer {--max-tokens}");
    const auto pos = torch::arange(
        past, past + length, torch::TensorOptions().dtype(torch::kInt64).device(ids.device()));
    auto x = m_wte(ids) + m_wpe(pos);
    for (std::size_t i = 0; i < m_blocks->size(); ++i)
        x = m_blocks[i]->as<Gpt2Block>()->forwardCached(x, kv.keys[i], kv.values[i]);
    cache.length = past + length;
    return m_lnF(x).to(torch::kFloat32);
}

void Gpt2ModelImpl::initialiseWeights(std::uint64_t seed) {
    torch::NoGradGuard noGrad;
    torch::manual_seed(seed);
    const double residualStd = 0.02 / std::sqrt(2.0 * double(m_config.nLayer));
    for (auto& item : named_parameters()) {
        const auto& name = item.key();
        auto& p = item.value();
        const bool isNorm = name.find("ln_") != std::string::npos;
        if (isNorm) {
            p.fill_(name.size() > 7 && name.substr(name.size() - 6) == "weight" ? 1.0 : 0.0);
        } else if (name.size() > 4 && name.substr(name.size() - 4) == "bias") {
            p.zero_();
        } else if (name.find("c_proj.weight") != std::string::npos) {
            p.normal_(0.0, residualStd);
        } else {
            p.normal_(0.0, 0.02);
        }
    }
}

Gpt2Model loadGpt2(const fs::path& modelDir, torch::Device device) {
    const auto config = loadGpt2Config(modelDir / "config.json");
    const auto weightsPath = modelDir / "model.safetensors";
    if (!fs::exists(weightsPath))
        throw ModelLoadError("model directory '" + modelDir.string() + "' has no model.safetensors",
                             "convert PyTorch .bin weights to safetensors, or make a test model "
                             "with `ponder make-test-model DIR`");
    return loadGpt2(config, SafetensorsFile::open(weightsPath), device);
}

Gpt2Model loadGpt2(const Gpt2Config& config, const SafetensorsFile& weights, torch::Device device) {
    const auto fail = [&](const std::string& why) {
        return ModelLoadError("cannot load GPT-2 weights '" + weights.label() + "': " + why,
                              "config.json and model.safetensors must come from the same model");
    };
    // Accept HF's names with or without the "transformer." prefix.
    const auto lookup = [&](const std::string& name) {
        if (const auto* info = weights.find(name)) return info;
        return weights.find("transformer." + name);
    };
    const auto toFloat = [&](const std::string& name, const TensorInfo& info) {
        if (info.dtype != DType::F32 && info.dtype != DType::F16 && info.dtype != DType::BF16 &&
            info.dtype != DType::F64)
            throw fail("tensor '" + name + "' has dtype " + std::string(dtypeName(info.dtype)) +
                       "; expected a floating-point dtype");
        return loadTensor(weights, info).to(torch::kFloat32);
    };

    bool tied = true;
    torch::Tensor explicitHead;
    if (const auto* head = weights.find("lm_head.weight")) {
        explicitHead = toFloat("lm_head.weight", *head);
        const auto* wte = lookup("wte.weight");
        // A stored copy of wte is still a tied head.
        tied = wte && explicitHead.sizes() == torch::IntArrayRef(wte->shape) &&
               torch::equal(explicitHead, toFloat("wte.weight", *wte));
    }

    Gpt2Model model(config, tied);
    torch::NoGradGuard noGrad;
    std::set<std::string> used;
    for (auto& item : model->named_parameters()) {
        const auto& name = item.key();
        const auto* info = lookup(name);
        if (!info)
            throw fail("missing tensor '" + name +
                       "' (config.json has n_layer=" + std::to_string(config.nLayer) +
                       ", n_embd=" + std::to_string(config.nEmbd) + ")");
        auto& param = item.value();
        if (param.sizes() != torch::IntArrayRef(info->shape))
            throw fail("tensor '" + info->name + "' has shape " +
                       c10::str(torch::IntArrayRef(info->shape)) + ", config.json implies " +
                       c10::str(param.sizes()));
        auto value = name == "lm_head.weight" ? explicitHead : toFloat(info->name, *info);
        if (!torch::isfinite(value).all().item<bool>())
            throw fail("tensor '" + info->name + "' contains NaN or Inf values");
        param.copy_(value);
        used.insert(info->name);
    }
    for (const auto& info : weights.tensors()) {
        if (used.count(info.name) || info.name == "lm_head.weight") continue;
        const bool isMaskBuffer =
            info.name.size() > 9 && (info.name.find(".attn.bias") != std::string::npos ||
                                     info.name.find(".attn.masked_bias") != std::string::npos);
        if (!isMaskBuffer)
            throw fail("unexpected tensor '" + info.name + "' (not part of a GPT-2 with n_layer=" +
                       std::to_string(config.nLayer) + ")");
    }
    model->to(device);
    model->eval();
    return model;
}

void saveGpt2Weights(Gpt2Model& model, const fs::path& path) {
    NamedTensors tensors;
    for (const auto& item : model->named_parameters())
        tensors.emplace_back(item.key(), item.value());
    saveTensors(path, tensors);
}

}  // namespace ponder::core
