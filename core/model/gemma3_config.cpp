// Gemma 3 config.json parsing with field-level validation; unknown HF fields are ignored.
#include "core/model/gemma3_config.h"

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

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

Gemma3Config parseGemma3Config(std::string_view text, const std::string& label) {
    const auto fail = [&](const std::string& why) {
        return ModelLoadError("bad Gemma 3 config '" + label + "': " + why,
                              "config.json must be a Hugging Face Gemma 3 config (model_type "
                              "gemma3_text, or gemma3 with a text_config)");
    };
    json outer;
    try {
        outer = json::parse(text);
    } catch (const json::exception& error) {
        throw fail(std::string("not valid JSON (") + error.what() + ")");
    }
    if (!outer.is_object()) throw fail("not a JSON object");
    // json::value() throws type_error when the field is not a string; say which field it is.
    const auto stringField = [&](const json& object, const char* key, const std::string& fallback) {
        if (!object.contains(key) || object[key].is_null()) return fallback;
        if (!object[key].is_string())
            throw fail(std::string(key) + " must be a string, got " + object[key].dump());
        return object[key].get<std::string>();
    };
    const auto type = stringField(outer, "model_type", "");
    if (type != "gemma3_text" && type != "gemma3")
        throw fail("model_type is \"" + type + "\", not gemma3_text or gemma3");
    // The multimodal checkpoints nest the decoder's fields in text_config; the ids and the
    // tie flag may sit at either level.
    json root = outer;
    if (type == "gemma3") {
        if (!outer.contains("text_config") || !outer["text_config"].is_object())
            throw fail("model_type gemma3 without a text_config object");
        root = outer["text_config"];
        for (const char* key :
             {"bos_token_id", "eos_token_id", "pad_token_id", "tie_word_embeddings"})
            if (!root.contains(key) && outer.contains(key)) root[key] = outer[key];
    }

    const auto integer = [&](const char* key, std::int64_t fallback, std::int64_t limit) {
        if (!root.contains(key) || root[key].is_null()) return fallback;
        const auto& value = root[key];
        if (!value.is_number_integer() || value.get<std::int64_t>() <= 0)
            throw fail(std::string(key) + " must be a positive integer, got " + value.dump());
        if (value.get<std::int64_t>() > limit)
            throw fail(std::string(key) + " is " + value.dump() + ", above the limit " +
                       std::to_string(limit));
        return value.get<std::int64_t>();
    };
    const auto real = [&](const char* key, double fallback) {
        if (!root.contains(key) || root[key].is_null()) return fallback;
        if (!root[key].is_number() || !(root[key].get<double>() > 0.0))
            throw fail(std::string(key) + " must be a positive number, got " + root[key].dump());
        return root[key].get<double>();
    };
    const auto optionalReal = [&](const char* key) -> std::optional<double> {
        if (!root.contains(key) || root[key].is_null()) return std::nullopt;
        return real(key, 0.0);
    };
    const auto id = [&](const char* key, std::int64_t fallback) {
        if (!root.contains(key) || root[key].is_null()) return fallback;
        const auto& value = root[key];
        // HF allows a list of eos ids; the first is the document separator.
        const auto& first = value.is_array() && !value.empty() ? value[0] : value;
        if (!first.is_number_integer() || first.get<std::int64_t>() < 0)
            throw fail(std::string(key) + " must be a token id, got " + value.dump());
        return first.get<std::int64_t>();
    };

    Gemma3Config c;
    c.modelType = type;
    // A missing field takes Gemma3TextConfig's default, as transformers does: the released
    // 4B/12B config.json files leave vocab_size, the head counts and head_dim to it. (A wrong
    // guess cannot load silently: every weight's shape is checked against this config.)
    // Limits far above any release (12B: 3840 wide, 48 layers) keep sizes inside int64.
    c.vocabSize = integer("vocab_size", 262208, std::int64_t{1} << 24);
    c.hiddenSize = integer("hidden_size", 2304, std::int64_t{1} << 16);
    c.intermediateSize = integer("intermediate_size", 9216, std::int64_t{1} << 18);
    c.numLayers = integer("num_hidden_layers", 26, std::int64_t{1} << 10);
    c.numHeads = integer("num_attention_heads", 8, std::int64_t{1} << 10);
    c.numKvHeads = integer("num_key_value_heads", 4, std::int64_t{1} << 10);
    c.headDim = integer("head_dim", 256, std::int64_t{1} << 12);
    c.maxPositions = integer("max_position_embeddings", 131072, std::int64_t{1} << 24);
    c.rmsNormEps = real("rms_norm_eps", 1e-6);
    c.ropeTheta = real("rope_theta", 1000000.0);
    c.ropeLocalTheta = real("rope_local_base_freq", 10000.0);
    c.queryPreAttnScalar = real("query_pre_attn_scalar", 256.0);
    c.slidingWindow = integer("sliding_window", 4096, std::int64_t{1} << 24);
    c.attnLogitSoftcap = optionalReal("attn_logit_softcapping");
    c.finalLogitSoftcap = optionalReal("final_logit_softcapping");
    c.bosTokenId = id("bos_token_id", 2);
    c.eosTokenId = id("eos_token_id", 1);
    c.padTokenId = id("pad_token_id", 0);
    if (root.contains("tie_word_embeddings")) {
        if (!root["tie_word_embeddings"].is_boolean())
            throw fail("tie_word_embeddings must be true or false");
        c.tieWordEmbeddings = root["tie_word_embeddings"].get<bool>();
    }

    if (c.numHeads % c.numKvHeads != 0)
        throw fail("num_attention_heads " + std::to_string(c.numHeads) +
                   " is not a multiple of num_key_value_heads " + std::to_string(c.numKvHeads));
    if (c.slidingWindow > c.maxPositions)
        throw fail("sliding_window " + std::to_string(c.slidingWindow) +
                   " is larger than max_position_embeddings " + std::to_string(c.maxPositions));
    // The ids as they will be used, defaults included: a small vocab_size without the ids
    // must not load with a BOS its writer then writes out and its reader refuses.
    for (const auto& [key, value] :
         {std::pair<const char*, std::int64_t>{"bos_token_id", c.bosTokenId},
          {"eos_token_id", c.eosTokenId}})
        if (value >= c.vocabSize)
            throw fail(std::string(key) + " " + std::to_string(value) + " is outside vocab_size " +
                       std::to_string(c.vocabSize));
    const auto activation = stringField(root, "hidden_activation", "gelu_pytorch_tanh");
    if (activation != "gelu_pytorch_tanh")
        throw fail("hidden_activation \"" + activation + "\" is not gelu_pytorch_tanh");

    if (root.contains("rope_scaling") && !root["rope_scaling"].is_null()) {
        const auto& scaling = root["rope_scaling"];
        if (!scaling.is_object()) throw fail("rope_scaling must be an object or null");
        const auto kind = stringField(scaling, "rope_type", stringField(scaling, "type", ""));
        if (kind != "linear")
            throw fail("rope_scaling type \"" + kind + "\" is not supported (only linear)");
        if (!scaling.contains("factor") || !scaling["factor"].is_number() ||
            !(scaling["factor"].get<double>() >= 1.0))
            throw fail("rope_scaling needs a factor >= 1");
        c.ropeScalingFactor = scaling["factor"].get<double>();
    }

    if (root.contains("layer_types") && !root["layer_types"].is_null()) {
        const auto& types = root["layer_types"];
        if (!types.is_array() || std::int64_t(types.size()) != c.numLayers)
            throw fail("layer_types must list one type for each of the " +
                       std::to_string(c.numLayers) + " layers");
        for (const auto& entry : types) {
            const auto value = entry.is_string() ? entry.get<std::string>() : std::string();
            if (value != "sliding_attention" && value != "full_attention")
                throw fail("layer_types entry " + entry.dump() +
                           " is not sliding_attention or full_attention");
            c.slidingLayers.push_back(value == "sliding_attention");
        }
    } else {
        c.slidingLayers =
            gemma3SlidingPattern(c.numLayers, integer("sliding_window_pattern", 6, 1 << 10));
    }
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
