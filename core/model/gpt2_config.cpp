// config.json parsing with field-level validation; unknown HF fields are ignored.
#include "core/model/gpt2_config.h"

#include <nlohmann/json.hpp>

#include "core/model/config_fields.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"

namespace ponder::core {
namespace fs = std::filesystem;
using nlohmann::json;

std::int64_t Gpt2Config::parameterCount() const {
    const std::int64_t d = nEmbd;
    const std::int64_t perLayer = 2 * 2 * d                        // ln_1, ln_2
                                  + d * 3 * d + 3 * d              // c_attn
                                  + d * d + d                      // attn c_proj
                                  + d * innerSize() + innerSize()  // c_fc
                                  + innerSize() * d + d;           // mlp c_proj
    return vocabSize * d + nPositions * d + nLayer * perLayer + 2 * d;
}

Gpt2Config loadGpt2Config(const fs::path& path) {
    std::string text;
    try {
        text = readFileBytes(path);
    } catch (const InputError&) {
        throw ModelLoadError(
            "model directory has no readable config.json ('" + path.string() + "')",
            "pass a Hugging Face GPT-2 directory, or make one with "
            "`ponder make-test-model DIR`");
    }
    return parseGpt2Config(text, path.string());
}

Gpt2Config parseGpt2Config(std::string_view text, const std::string& label) {
    const ConfigFields fields(text, [&](const std::string& why) {
        return ModelLoadError("bad model config '" + label + "': " + why,
                              "config.json must be a Hugging Face GPT-2 config");
    });
    const auto& root = fields.root();
    const auto fail = [&](const std::string& why) { fields.fail(why); };
    if (root.contains("model_type") && root["model_type"] != "gpt2")
        fail("model_type is " + root["model_type"].dump() + ", expected \"gpt2\"");

    // Upper bounds far above any GPT-2 (XL: 50257, 1024, 1600, 48) keep sizes such as
    // parameterCount() inside int64 (fuzzing found the signed overflow) and refuse configs
    // that could only end in an absurd allocation.
    const auto real = [&](const char* key, double fallback) {
        if (!root.contains(key) || root[key].is_null()) return fallback;
        if (!root[key].is_number()) fail(std::string(key) + " must be a number");
        return root[key].get<double>();
    };
    const auto optionalId = [&](const char* key) -> std::optional<std::int64_t> {
        if (!root.contains(key) || !root[key].is_number_integer()) return std::nullopt;
        return root[key].get<std::int64_t>();
    };

    Gpt2Config config;
    config.vocabSize = fields.positive("vocab_size", std::int64_t{1} << 24);
    // Older GPT-2 configs name the context n_ctx.
    constexpr std::int64_t kMaxPositions = std::int64_t{1} << 20;
    config.nPositions =
        root.contains("n_ctx")
            ? fields.positiveOr("n_positions", fields.positiveOr("n_ctx", 0, kMaxPositions),
                                kMaxPositions)
            : fields.positive("n_positions", kMaxPositions);
    config.nEmbd = fields.positive("n_embd", std::int64_t{1} << 16);
    config.nLayer = fields.positive("n_layer", std::int64_t{1} << 12);
    config.nHead = fields.positive("n_head", std::int64_t{1} << 16);
    config.nInner = fields.positiveOr("n_inner", 0, std::int64_t{1} << 18);
    config.layerNormEpsilon = real("layer_norm_epsilon", 1e-5);
    config.residDropout = real("resid_pdrop", 0.1);
    config.embdDropout = real("embd_pdrop", 0.1);
    config.attnDropout = real("attn_pdrop", 0.1);
    if (root.contains("activation_function")) {
        if (!root["activation_function"].is_string()) fail("activation_function must be a string");
        config.activation = root["activation_function"].get<std::string>();
    }
    if (config.activation != "gelu_new" && config.activation != "gelu_pytorch_tanh" &&
        config.activation != "gelu" && config.activation != "relu")
        fail("unsupported activation_function \"" + config.activation + "\"");
    if (config.nEmbd % config.nHead != 0)
        fail("n_embd " + std::to_string(config.nEmbd) + " is not divisible by n_head " +
             std::to_string(config.nHead));
    if (!(config.layerNormEpsilon > 0.0)) fail("layer_norm_epsilon must be positive");
    // LibTorch's dropout throws an untyped c10::Error for these only once train-base runs.
    for (const auto& [key, p] :
         {std::pair{"resid_pdrop", config.residDropout},
          std::pair{"embd_pdrop", config.embdDropout}, std::pair{"attn_pdrop", config.attnDropout}})
        if (!(p >= 0.0 && p <= 1.0))
            fail(std::string(key) + " must be a probability in [0, 1], got " + std::to_string(p));
    config.bosTokenId = optionalId("bos_token_id");
    config.eosTokenId = optionalId("eos_token_id");
    return config;
}

std::string gpt2ConfigJson(const Gpt2Config& config) {
    json root = {
        {"architectures", {"GPT2LMHeadModel"}},
        {"model_type", "gpt2"},
        {"vocab_size", config.vocabSize},
        {"n_positions", config.nPositions},
        {"n_ctx", config.nPositions},
        {"n_embd", config.nEmbd},
        {"n_layer", config.nLayer},
        {"n_head", config.nHead},
        {"n_inner", config.nInner > 0 ? json(config.nInner) : json(nullptr)},
        {"layer_norm_epsilon", config.layerNormEpsilon},
        {"activation_function", config.activation},
        {"resid_pdrop", config.residDropout},
        {"embd_pdrop", config.embdDropout},
        {"attn_pdrop", config.attnDropout},
        {"initializer_range", 0.02},
        {"tie_word_embeddings", true},
    };
    if (config.bosTokenId) root["bos_token_id"] = *config.bosTokenId;
    if (config.eosTokenId) root["eos_token_id"] = *config.eosTokenId;
    return root.dump(2) + "\n";
}

void saveGpt2Config(const Gpt2Config& config, const fs::path& path) {
    writeFileAtomic(path, gpt2ConfigJson(config));
}

}  // namespace ponder::core
