// Gemma 3 config.json parsing with field-level validation; unknown HF fields are ignored.
#include "core/model/gemma3_config.h"

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/model/config_fields.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"

namespace ponder::core {
namespace fs = std::filesystem;
using nlohmann::json;

std::int64_t Gemma3Config::parameterCount() const {
    const std::int64_t d = hiddenSize;
    const std::int64_t attention = d * queryWidth() * 2 + d * kvWidth() * 2 + 2 * headDim;
    const std::int64_t mlp = 3 * d * intermediateSize;
    const std::int64_t norms = 4 * d;  // input, post-attention, pre- and post-feedforward
    const std::int64_t head = tieWordEmbeddings ? 0 : vocabSize * d;
    return vocabSize * d + numLayers * (attention + mlp + norms) + d + head;
}

std::vector<bool> gemma3SlidingPattern(std::int64_t layers, std::int64_t pattern) {
    std::vector<bool> sliding;
    for (std::int64_t i = 0; i < layers; ++i)
        sliding.push_back((i + 1) % pattern != 0);
    return sliding;
}

Gemma3Config loadGemma3Config(const fs::path& path) {
    std::string text;
    try {
        text = readFileBytes(path);
    } catch (const InputError&) {
        throw ModelLoadError(
            "model directory has no readable config.json ('" + path.string() + "')",
            "pass a Hugging Face Gemma 3 directory, or make one with "
            "`ponder make-test-model DIR --arch gemma3`");
    }
    return parseGemma3Config(text, path.string());
}

namespace {

// The multimodal checkpoints (model_type gemma3) nest the decoder's fields in text_config; the
// ids and the tie flag may sit at either level.
nlohmann::json decoderFields(const ConfigFields& outer, const std::string& type) {
    if (type != "gemma3") return outer.root();
    const auto& root = outer.root();
    if (!root.contains("text_config") || !root["text_config"].is_object())
        outer.fail("model_type gemma3 without a text_config object");
    json decoder = root["text_config"];
    for (const char* key : {"bos_token_id", "eos_token_id", "pad_token_id", "tie_word_embeddings"})
        if (!decoder.contains(key) && root.contains(key)) decoder[key] = root[key];
    return decoder;
}

double positiveRealOr(const ConfigFields& fields, const char* key, double fallback) {
    if (!fields.has(key)) return fallback;
    const auto& value = fields.root()[key];
    if (!value.is_number() || !(value.get<double>() > 0.0))
        fields.fail(std::string(key) + " must be a positive number, got " + value.dump());
    return value.get<double>();
}

// A token id; HF allows a list of eos ids, whose first is the document separator.
std::int64_t tokenIdOr(const ConfigFields& fields, const char* key, std::int64_t fallback) {
    if (!fields.has(key)) return fallback;
    const auto& value = fields.root()[key];
    const auto& first = value.is_array() && !value.empty() ? value[0] : value;
    if (!first.is_number_integer() || first.get<std::int64_t>() < 0)
        fields.fail(std::string(key) + " must be a token id, got " + value.dump());
    return first.get<std::int64_t>();
}

// The sizes and constants. A missing field takes Gemma3TextConfig's default, as transformers
// does: the released 4B/12B config.json files leave vocab_size, the head counts and head_dim
// to it. (A wrong guess cannot load silently: every weight's shape is checked against this
// config.) Limits far above any release (12B: 3840 wide, 48 layers) keep sizes inside int64.
void readSizes(const ConfigFields& f, Gemma3Config& c) {
    c.vocabSize = f.positiveOr("vocab_size", 262208, std::int64_t{1} << 24);
    c.hiddenSize = f.positiveOr("hidden_size", 2304, std::int64_t{1} << 16);
    c.intermediateSize = f.positiveOr("intermediate_size", 9216, std::int64_t{1} << 18);
    c.numLayers = f.positiveOr("num_hidden_layers", 26, std::int64_t{1} << 10);
    c.numHeads = f.positiveOr("num_attention_heads", 8, std::int64_t{1} << 10);
    c.numKvHeads = f.positiveOr("num_key_value_heads", 4, std::int64_t{1} << 10);
    c.headDim = f.positiveOr("head_dim", 256, std::int64_t{1} << 12);
    c.maxPositions = f.positiveOr("max_position_embeddings", 131072, std::int64_t{1} << 24);
    c.rmsNormEps = positiveRealOr(f, "rms_norm_eps", 1e-6);
    c.ropeTheta = positiveRealOr(f, "rope_theta", 1000000.0);
    c.ropeLocalTheta = positiveRealOr(f, "rope_local_base_freq", 10000.0);
    c.queryPreAttnScalar = positiveRealOr(f, "query_pre_attn_scalar", 256.0);
    c.slidingWindow = f.positiveOr("sliding_window", 4096, std::int64_t{1} << 24);
    for (auto [key, softcap] : {std::pair{"attn_logit_softcapping", &c.attnLogitSoftcap},
                                std::pair{"final_logit_softcapping", &c.finalLogitSoftcap}})
        if (f.has(key)) *softcap = positiveRealOr(f, key, 0.0);
    c.bosTokenId = tokenIdOr(f, "bos_token_id", 2);
    c.eosTokenId = tokenIdOr(f, "eos_token_id", 1);
    c.padTokenId = tokenIdOr(f, "pad_token_id", 0);
    if (f.root().contains("tie_word_embeddings")) {
        if (!f.root()["tie_word_embeddings"].is_boolean())
            f.fail("tie_word_embeddings must be true or false");
        c.tieWordEmbeddings = f.root()["tie_word_embeddings"].get<bool>();
    }
}

// Sizes that parse but do not fit together.
void checkSizes(const ConfigFields& f, const Gemma3Config& c) {
    if (c.numHeads % c.numKvHeads != 0)
        f.fail("num_attention_heads " + std::to_string(c.numHeads) +
               " is not a multiple of num_key_value_heads " + std::to_string(c.numKvHeads));
    if (c.slidingWindow > c.maxPositions)
        f.fail("sliding_window " + std::to_string(c.slidingWindow) +
               " is larger than max_position_embeddings " + std::to_string(c.maxPositions));
    // The ids as they will be used, defaults included: a small vocab_size without the ids
    // must not load with a BOS its writer then writes out and its reader refuses.
    for (const auto& [key, value] :
         {std::pair<const char*, std::int64_t>{"bos_token_id", c.bosTokenId},
          {"eos_token_id", c.eosTokenId}})
        if (value >= c.vocabSize)
            f.fail(std::string(key) + " " + std::to_string(value) + " is outside vocab_size " +
                   std::to_string(c.vocabSize));
    const auto activation = f.textOr("hidden_activation", "gelu_pytorch_tanh");
    if (activation != "gelu_pytorch_tanh")
        f.fail("hidden_activation \"" + activation + "\" is not gelu_pytorch_tanh");
}

// rope_scaling (linear only) and which layers slide (layer_types, else the pattern).
void readAttentionLayout(const ConfigFields& f, Gemma3Config& c) {
    const auto& root = f.root();
    if (f.has("rope_scaling")) {
        const auto& scaling = root["rope_scaling"];
        if (!scaling.is_object()) f.fail("rope_scaling must be an object or null");
        const auto fields = f.within(scaling);
        const auto kind = fields.textOr("rope_type", fields.textOr("type", ""));
        if (kind != "linear")
            f.fail("rope_scaling type \"" + kind + "\" is not supported (only linear)");
        if (!scaling.contains("factor") || !scaling["factor"].is_number() ||
            !(scaling["factor"].get<double>() >= 1.0))
            f.fail("rope_scaling needs a factor >= 1");
        c.ropeScalingFactor = scaling["factor"].get<double>();
    }
    if (!f.has("layer_types")) {
        c.slidingLayers =
            gemma3SlidingPattern(c.numLayers, f.positiveOr("sliding_window_pattern", 6, 1 << 10));
        return;
    }
    const auto& types = root["layer_types"];
    if (!types.is_array() || std::int64_t(types.size()) != c.numLayers)
        f.fail("layer_types must list one type for each of the " + std::to_string(c.numLayers) +
               " layers");
    for (const auto& entry : types) {
        const auto value = entry.is_string() ? entry.get<std::string>() : std::string();
        if (value != "sliding_attention" && value != "full_attention")
            f.fail("layer_types entry " + entry.dump() +
                   " is not sliding_attention or full_attention");
        c.slidingLayers.push_back(value == "sliding_attention");
    }
}

}  // namespace

Gemma3Config parseGemma3Config(std::string_view text, const std::string& label) {
    const auto fail = [&](const std::string& why) {
        return ModelLoadError("bad Gemma 3 config '" + label + "': " + why,
                              "config.json must be a Hugging Face Gemma 3 config (model_type "
                              "gemma3_text, or gemma3 with a text_config)");
    };
    const ConfigFields outer(text, fail);
    const auto type = outer.textOr("model_type", "");
    if (type != "gemma3_text" && type != "gemma3")
        outer.fail("model_type is \"" + type + "\", not gemma3_text or gemma3");
    const ConfigFields fields(decoderFields(outer, type), fail);
    Gemma3Config c;
    c.modelType = type;
    readSizes(fields, c);
    checkSizes(fields, c);
    readAttentionLayout(fields, c);
    return c;
}

std::string gemma3ConfigJson(const Gemma3Config& c) {
    json types = json::array();
    for (const bool sliding : c.slidingLayers)
        types.push_back(sliding ? "sliding_attention" : "full_attention");
    json root = {
        {"architectures", {"Gemma3ForCausalLM"}},
        {"model_type", "gemma3_text"},
        {"vocab_size", c.vocabSize},
        {"hidden_size", c.hiddenSize},
        {"intermediate_size", c.intermediateSize},
        {"num_hidden_layers", c.numLayers},
        {"num_attention_heads", c.numHeads},
        {"num_key_value_heads", c.numKvHeads},
        {"head_dim", c.headDim},
        {"max_position_embeddings", c.maxPositions},
        {"rms_norm_eps", c.rmsNormEps},
        {"rope_theta", c.ropeTheta},
        {"rope_local_base_freq", c.ropeLocalTheta},
        {"query_pre_attn_scalar", c.queryPreAttnScalar},
        {"sliding_window", c.slidingWindow},
        {"layer_types", types},
        {"hidden_activation", "gelu_pytorch_tanh"},
        {"attn_logit_softcapping", nullptr},
        {"final_logit_softcapping", nullptr},
        {"tie_word_embeddings", c.tieWordEmbeddings},
        {"bos_token_id", c.bosTokenId},
        {"eos_token_id", c.eosTokenId},
        {"pad_token_id", c.padTokenId},
        {"torch_dtype", "float32"},
    };
    if (c.ropeScalingFactor != 1.0)
        root["rope_scaling"] = {{"rope_type", "linear"}, {"factor", c.ropeScalingFactor}};
    else
        root["rope_scaling"] = nullptr;
    if (c.attnLogitSoftcap) root["attn_logit_softcapping"] = *c.attnLogitSoftcap;
    if (c.finalLogitSoftcap) root["final_logit_softcapping"] = *c.finalLogitSoftcap;
    return root.dump(2) + "\n";
}

}  // namespace ponder::core
