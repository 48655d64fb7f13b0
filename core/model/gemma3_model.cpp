// Gemma 3 text decoder (Hugging Face's Gemma3ForCausalLM): scaled embeddings, (1 + w)
// RMSNorms around attention and the MLP, grouped-query attention with q/k norms, local
// sliding-window and global layers with their own RoPE bases, gelu-tanh gated MLP, tied head.
#include "core/model/gemma3_model_impl.h"

#include <cmath>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "core/model/tensor_convert_impl.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"

namespace ponder::core {
namespace fs = std::filesystem;

namespace {

// A module holding one parameter named "weight", so HF's nested names come out of
// named_parameters() ("self_attn.q_proj.weight").
class WeightOnly : public torch::nn::Module {
public:
    WeightOnly(torch::IntArrayRef shape, torch::TensorOptions options) {
        weight = register_parameter("weight", torch::empty(shape, options), false);
    }
    torch::Tensor weight;
};

torch::Tensor addWeight(torch::nn::Module& parent, const std::string& name,
                        torch::IntArrayRef shape, torch::TensorOptions options) {
    return parent.register_module(name, std::make_shared<WeightOnly>(shape, options))->weight;
}

std::shared_ptr<torch::nn::Module> addGroup(torch::nn::Module& parent, const std::string& name) {
    return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

torch::Tensor rotateHalf(const torch::Tensor& x) {
    const auto half = x.size(-1) / 2;
    return torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

// HF's non-interleaved RoPE, in float32: x cos + rotate_half(x) sin. x [B, H, T, hd].
torch::Tensor applyRope(const torch::Tensor& x, const torch::Tensor& cos,
                        const torch::Tensor& sin) {
    const auto xf = x.to(torch::kFloat32);
    return (xf * cos.unsqueeze(1) + rotateHalf(xf) * sin.unsqueeze(1)).to(x.scalar_type());
}

// cos and sin [P, T, hd] for positions [P, T]; a linear `factor` divides the frequencies.
std::pair<torch::Tensor, torch::Tensor> ropeTables(const torch::Tensor& positions,
                                                   std::int64_t headDim, double base,
                                                   double factor) {
    const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(positions.device());
    const auto exponents = torch::arange(0, headDim, 2, options) / double(headDim);
    const auto invFreq = 1.0 / (torch::pow(base, exponents) * factor);
    const auto freqs = positions.to(torch::kFloat32).unsqueeze(-1) * invFreq;
    const auto angles = torch::cat({freqs, freqs}, -1);
    return {angles.cos(), angles.sin()};
}

}  // namespace

torch::Tensor gemmaRmsNorm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
    const auto xf = x.to(torch::kFloat32);
    const auto normed = xf * torch::rsqrt(xf.pow(2).mean(-1, true) + eps);
    return (normed * (1.0 + weight.to(torch::kFloat32))).to(x.scalar_type());
}

Gemma3LayerImpl::Gemma3LayerImpl(const Gemma3Config& c, bool sliding, torch::TensorOptions options)
    : m_config(c), m_sliding(sliding) {
    const auto d = c.hiddenSize;
    m_inputNorm = addWeight(*this, "input_layernorm", {d}, options);
    auto attn = addGroup(*this, "self_attn");
    m_q = addWeight(*attn, "q_proj", {c.queryWidth(), d}, options);
    m_k = addWeight(*attn, "k_proj", {c.kvWidth(), d}, options);
    m_v = addWeight(*attn, "v_proj", {c.kvWidth(), d}, options);
    m_o = addWeight(*attn, "o_proj", {d, c.queryWidth()}, options);
    m_qNorm = addWeight(*attn, "q_norm", {c.headDim}, options);
    m_kNorm = addWeight(*attn, "k_norm", {c.headDim}, options);
    m_postAttentionNorm = addWeight(*this, "post_attention_layernorm", {d}, options);
    m_preFeedforwardNorm = addWeight(*this, "pre_feedforward_layernorm", {d}, options);
    auto mlp = addGroup(*this, "mlp");
    m_gate = addWeight(*mlp, "gate_proj", {c.intermediateSize, d}, options);
    m_up = addWeight(*mlp, "up_proj", {c.intermediateSize, d}, options);
    m_down = addWeight(*mlp, "down_proj", {d, c.intermediateSize}, options);
    m_postFeedforwardNorm = addWeight(*this, "post_feedforward_layernorm", {d}, options);
}

torch::Tensor Gemma3LayerImpl::attention(const torch::Tensor& x, const torch::Tensor& cos,
                                         const torch::Tensor& sin, const torch::Tensor& bias,
                                         torch::Tensor* keys, torch::Tensor* values) {
    const auto& c = m_config;
    const auto batch = x.size(0), length = x.size(1);
    const auto heads = [&](const torch::Tensor& w, std::int64_t count) {
        return torch::linear(x, w).view({batch, length, count, c.headDim}).transpose(1, 2);
    };
    auto q = applyRope(gemmaRmsNorm(heads(m_q, c.numHeads), m_qNorm, c.rmsNormEps), cos, sin);
    auto k = applyRope(gemmaRmsNorm(heads(m_k, c.numKvHeads), m_kNorm, c.rmsNormEps), cos, sin);
    auto v = heads(m_v, c.numKvHeads);
    if (keys) {
        *keys = keys->defined() ? torch::cat({*keys, k}, 2) : k;
        *values = values->defined() ? torch::cat({*values, v}, 2) : v;
        k = *keys;
        v = *values;
    }
    if (c.numKvHeads != c.numHeads) {  // grouped-query attention: each kv head serves a group
        k = k.repeat_interleave(c.numHeads / c.numKvHeads, 1);
        v = v.repeat_interleave(c.numHeads / c.numKvHeads, 1);
    }
    auto scores = torch::matmul(q.to(torch::kFloat32), k.to(torch::kFloat32).transpose(-1, -2)) *
                  std::pow(c.queryPreAttnScalar, -0.5);
    if (c.attnLogitSoftcap)
        scores = torch::tanh(scores / *c.attnLogitSoftcap) * *c.attnLogitSoftcap;
    const auto probabilities = torch::softmax(scores + bias, -1).to(v.scalar_type());
    const auto mixed =
        torch::matmul(probabilities, v).transpose(1, 2).reshape({batch, length, c.queryWidth()});
    return torch::linear(mixed, m_o);
}

torch::Tensor Gemma3LayerImpl::forward(const torch::Tensor& x, const torch::Tensor& cos,
                                       const torch::Tensor& sin, const torch::Tensor& bias) {
    return block(x, cos, sin, bias, nullptr, nullptr);
}

torch::Tensor Gemma3LayerImpl::forwardCached(const torch::Tensor& x, const torch::Tensor& cos,
                                             const torch::Tensor& sin, const torch::Tensor& bias,
                                             torch::Tensor& keys, torch::Tensor& values) {
    return block(x, cos, sin, bias, &keys, &values);
}

torch::Tensor Gemma3LayerImpl::block(const torch::Tensor& x, const torch::Tensor& cos,
                                     const torch::Tensor& sin, const torch::Tensor& bias,
                                     torch::Tensor* keys, torch::Tensor* values) {
    const double eps = m_config.rmsNormEps;
    const auto attended =
        attention(gemmaRmsNorm(x, m_inputNorm, eps), cos, sin, bias, keys, values);
    const auto h = x + gemmaRmsNorm(attended, m_postAttentionNorm, eps);
    const auto f = gemmaRmsNorm(h, m_preFeedforwardNorm, eps);
    const auto mlp = torch::linear(
        torch::gelu(torch::linear(f, m_gate), "tanh") * torch::linear(f, m_up), m_down);
    return h + gemmaRmsNorm(mlp, m_postFeedforwardNorm, eps);
}

Gemma3ModelImpl::Gemma3ModelImpl(const Gemma3Config& c, torch::TensorOptions options)
    : m_config(c) {
    auto model = addGroup(*this, "model");
    m_embed = addWeight(*model, "embed_tokens", {c.vocabSize, c.hiddenSize}, options);
    auto layers = model->register_module("layers", torch::nn::ModuleList());
    for (std::int64_t i = 0; i < c.numLayers; ++i) {
        m_layers.emplace_back(c, c.slidingLayers.at(std::size_t(i)), options);
        layers->push_back(m_layers.back());
    }
    m_finalNorm = addWeight(*model, "norm", {c.hiddenSize}, options);
    if (!c.tieWordEmbeddings)
        m_lmHead = addWeight(*this, "lm_head", {c.vocabSize, c.hiddenSize}, options);
}

torch::Tensor Gemma3ModelImpl::hidden(const torch::Tensor& ids, const torch::Tensor& positions) {
    const auto& c = m_config;
    const auto batch = ids.size(0), length = ids.size(1) + 1;
    const auto longOptions = ids.options().dtype(torch::kInt64);
    const auto tokens =
        torch::cat({torch::full({batch, 1}, c.bosTokenId, longOptions), ids.to(torch::kInt64)}, 1);
    // The BOS sits at position 0, the tokens at their own positions + 1.
    torch::Tensor pos;
    if (!positions.defined()) {
        pos = torch::arange(length, longOptions).unsqueeze(0);
    } else {
        const auto given = positions.dim() == 1 ? positions.unsqueeze(0) : positions;
        pos = torch::cat({torch::zeros({given.size(0), 1}, longOptions),
                          given.to(ids.device(), torch::kInt64) + 1},
                         1);
    }
    const auto x = run(embed(tokens), pos, 0, nullptr, nullptr);
    return x.narrow(1, 1, length - 1).to(torch::kFloat32);
}

torch::Tensor Gemma3ModelImpl::embed(const torch::Tensor& tokens) const {
    const auto scale =
        torch::scalar_tensor(std::sqrt(double(m_config.hiddenSize)), m_embed.options())
            .to(m_embed.scalar_type());
    return torch::embedding(m_embed, tokens) * scale;
}

torch::Tensor Gemma3ModelImpl::run(torch::Tensor x, const torch::Tensor& pos, std::int64_t past,
                                   std::vector<torch::Tensor>* keys,
                                   std::vector<torch::Tensor>* values) {
    const auto& c = m_config;
    const auto length = x.size(1);
    const auto [globalCos, globalSin] =
        ropeTables(pos, c.headDim, c.ropeTheta, c.ropeScalingFactor);
    const auto [localCos, localSin] = ropeTables(pos, c.headDim, c.ropeLocalTheta, 1.0);
    // Additive masks: a query i sees keys j <= i, and on sliding layers only i - j < window
    // (query i is at past + i, over the past + length keys).
    const auto floatOptions = torch::TensorOptions().dtype(torch::kFloat32).device(x.device());
    const auto queries = torch::arange(past, past + length, floatOptions.dtype(torch::kInt64));
    const auto columns = torch::arange(past + length, floatOptions.dtype(torch::kInt64));
    const auto distance = queries.unsqueeze(1) - columns.unsqueeze(0);  // i - j
    const auto negInf =
        torch::full({length, past + length}, -std::numeric_limits<float>::infinity(), floatOptions);
    const auto zero = torch::zeros({length, past + length}, floatOptions);
    const auto globalBias = torch::where(distance < 0, negInf, zero);
    const auto localBias =
        torch::where((distance < 0).logical_or(distance >= c.slidingWindow), negInf, zero);
    for (std::size_t l = 0; l < m_layers.size(); ++l) {
        auto& layer = m_layers[l];
        const bool sliding = layer->sliding();
        const auto& cos = sliding ? localCos : globalCos;
        const auto& sin = sliding ? localSin : globalSin;
        const auto& bias = sliding ? localBias : globalBias;
        x = keys ? layer->forwardCached(x, cos, sin, bias, (*keys)[l], (*values)[l])
                 : layer->forward(x, cos, sin, bias);
    }
    return gemmaRmsNorm(x, m_finalNorm, c.rmsNormEps);
}

namespace {
// Per layer, the keys and values of every position read so far (the BOS included).
struct GemmaKvCache : Backbone::DecodeCache {
    std::vector<torch::Tensor> keys, values;
};
}  // namespace

std::unique_ptr<Backbone::DecodeCache> Gemma3ModelImpl::startDecode() const {
    auto cache = std::make_unique<GemmaKvCache>();
    cache->keys.resize(m_layers.size());
    cache->values.resize(m_layers.size());
    return cache;
}

torch::Tensor Gemma3ModelImpl::decodeStep(DecodeCache& cache, const torch::Tensor& ids) {
    TORCH_CHECK(ids.dim() == 2 && ids.size(0) == 1, "decodeStep expects token ids shaped [1, n]");
    auto& kv = dynamic_cast<GemmaKvCache&>(cache);
    const auto longOptions = ids.options().dtype(torch::kInt64);
    const bool first = cache.length == 0;
    // The stream's tokens sit at their index + 1: the first step puts the BOS at 0.
    const auto tokens =
        first
            ? torch::cat(
                  {torch::full({1, 1}, m_config.bosTokenId, longOptions), ids.to(torch::kInt64)}, 1)
            : ids.to(torch::kInt64);
    const auto past = first ? 0 : cache.length + 1;
    const auto total = past + tokens.size(1);
    if (total > m_config.maxPositions)
        throw InputError("generation of " + std::to_string(total - 1) +
                             " tokens exceeds the model's " +
                             std::to_string(m_config.maxPositions - 1) + " positions",
                         "use a shorter prompt or fewer {--max-tokens}");
    const auto pos = torch::arange(past, total, longOptions).unsqueeze(0);
    auto x = run(embed(tokens), pos, past, &kv.keys, &kv.values);
    cache.length += ids.size(1);
    if (first) x = x.narrow(1, 1, tokens.size(1) - 1);
    return x.to(torch::kFloat32);
}

torch::Tensor Gemma3ModelImpl::logits(const torch::Tensor& hidden) const {
    const auto& head = m_lmHead.defined() ? m_lmHead : m_embed;
    auto out = torch::linear(hidden.to(head.scalar_type()), head).to(torch::kFloat32);
    if (m_config.finalLogitSoftcap)
        out = torch::tanh(out / *m_config.finalLogitSoftcap) * *m_config.finalLogitSoftcap;
    return out;
}

BackboneInfo Gemma3ModelImpl::info() const {
    return backboneInfoOf(m_config);
}

void Gemma3ModelImpl::initialiseWeights(std::uint64_t seed) {
    torch::NoGradGuard noGrad;
    torch::manual_seed(seed);
    for (auto& item : named_parameters()) {
        const bool isNorm = item.value().dim() == 1;
        item.value().normal_(0.0, isNorm ? 0.1 : 0.02);
    }
}

namespace {

// The names a text-decoder parameter may have in a checkpoint: the causal LM's, then the
// multimodal model's (older and newer transformers).
std::vector<std::string> checkpointNames(const std::string& name) {
    if (name.rfind("model.", 0) == 0) {
        const auto rest = name.substr(6);
        return {name, "language_model.model." + rest, "model.language_model." + rest};
    }
    return {name, "language_model." + name};  // lm_head.weight
}

bool isOtherTower(const std::string& name) {
    for (const char* prefix : {"vision_tower.", "multi_modal_projector.", "model.vision_tower.",
                               "model.multi_modal_projector."})
        if (name.rfind(prefix, 0) == 0) return true;
    return false;
}

}  // namespace

Gemma3Model loadGemma3(const fs::path& modelDir, torch::Device device, bool bf16) {
    const auto config = loadGemma3Config(modelDir / "config.json");
    return loadGemma3(config, openWeightShards(modelDir), device, bf16);
}

Gemma3Model loadGemma3(const Gemma3Config& config, const WeightShards& weights,
                       torch::Device device, bool bf16, bool checkOnly) {
    const auto fail = [&](const std::string& why) {
        return ModelLoadError("cannot load Gemma 3 weights (" + weights.label() + "): " + why,
                              "config.json and the safetensors must come from the same model");
    };
    const auto dtype = bf16 ? torch::kBFloat16 : torch::kFloat32;
    Gemma3Model model(config, torch::TensorOptions().dtype(dtype).device(
                                  checkOnly ? torch::Device(torch::kMeta) : device));
    torch::NoGradGuard noGrad;
    std::set<std::string> used;
    for (auto& item : model->named_parameters()) {
        std::optional<WeightShards::Entry> entry;
        for (const auto& candidate : checkpointNames(item.key()))
            if ((entry = weights.find(candidate))) break;
        if (!entry)
            throw fail("missing tensor '" + item.key() + "' (config.json has " +
                       std::to_string(config.numLayers) + " layers, hidden_size " +
                       std::to_string(config.hiddenSize) + ")");
        auto& param = item.value();
        if (param.sizes() != torch::IntArrayRef(entry->info->shape))
            throw fail("tensor '" + entry->info->name + "' has shape " +
                       c10::str(torch::IntArrayRef(entry->info->shape)) + ", config.json implies " +
                       c10::str(param.sizes()));
        used.insert(entry->info->name);
        if (checkOnly) {
            checkFloatDtype(*entry);
            continue;
        }
        // One tensor at a time in the target dtype: no float32 copy of the whole model.
        const auto value = loadFloatTensor(*entry, dtype);
        if (!torch::isfinite(value).all().item<bool>())
            throw fail("tensor '" + entry->info->name + "' contains NaN or Inf values");
        param.copy_(value);
    }
    for (const auto& entry : weights.all()) {
        const auto& name = entry.info->name;
        if (used.count(name) || isOtherTower(name)) continue;
        // A stored copy of the embedding as lm_head is still a tied head.
        if (config.tieWordEmbeddings &&
            (name == "lm_head.weight" || name == "language_model.lm_head.weight"))
            continue;
        throw fail("unexpected tensor '" + name + "' (not part of a Gemma 3 decoder with " +
                   std::to_string(config.numLayers) + " layers)");
    }
    model->eval();
    return model;
}

void saveGemma3Weights(Gemma3Model& model, const fs::path& dir, int shards) {
    NamedTensors tensors;
    for (const auto& item : model->named_parameters())
        tensors.emplace_back(item.key(), item.value());
    if (shards <= 1) {
        saveTensors(dir / "model.safetensors", tensors);
        return;
    }
    nlohmann::json weightMap = nlohmann::json::object();
    std::uint64_t totalBytes = 0;
    const std::size_t perShard = (tensors.size() + std::size_t(shards) - 1) / std::size_t(shards);
    for (int shard = 0; shard < shards; ++shard) {
        char name[64];
        std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", shard + 1, shards);
        const auto begin = std::min(tensors.size(), std::size_t(shard) * perShard);
        const auto end = std::min(tensors.size(), begin + perShard);
        NamedTensors part(tensors.begin() + long(begin), tensors.begin() + long(end));
        for (const auto& [key, value] : part) {
            weightMap[key] = name;
            totalBytes += std::uint64_t(value.numel() * value.element_size());
        }
        saveTensors(dir / name, part);
    }
    const nlohmann::json index = {{"metadata", {{"total_size", totalBytes}}},
                                  {"weight_map", weightMap}};
    writeFileAtomic(dir / "model.safetensors.index.json", index.dump(2) + "\n");
}

}  // namespace ponder::core
