// ttt.json (design.md §3.1) parsing with field-level validation, and the published per-width
// defaults (algorithm.md §2.1).
#include "core/model/ttt_config.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "core/model/config_fields.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"

namespace ponder::core {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {
constexpr const char* kFormat = "ponderttt-ttt/1";
}

TttConfig TttConfig::forBackbone(std::int64_t hidden) {
    TttConfig config;
    config.hidden = hidden;
    config.heads = std::max<std::int64_t>(1, hidden / 64);
    config.headDim = 64;
    config.miniBatch = 16;
    config.baseLr = 1.0;
    // Only GPT-2 small (D = 768) trains without the exponential decay (algorithm.md §2.1).
    config.etaDecay = hidden == 768 ? 0.0 : 0.3;
    config.etaForm = "ponderttt";
    config.convWidth = 4;
    config.convLag = 1;
    config.ropeTheta = 10000.0;
    config.causalK = 0;
    config.lnEps = 1e-5;
    return config;
}

TttConfig TttConfig::forBackboneInfo(const BackboneInfo& backbone) {
    if (backbone.arch == kArchGpt2) return forBackbone(backbone.hidden);
    TttConfig config = forBackbone(backbone.hidden);
    config.heads = backbone.heads;
    config.headDim = backbone.headDim;
    const auto width = config.heads * config.headDim;
    config.tttWidth = width == backbone.hidden ? 0 : width;
    config.etaDecay = width == 768 ? 0.0 : 0.3;
    config.backboneArch = backbone.arch;
    config.fastNorm = "rmsnorm";
    config.fastNormEps = 1e-6;  // Gemma's rms_norm_eps
    return config;
}

TttConfig TttConfig::forLora(const BackboneInfo& backbone, std::int64_t rank) {
    auto config = forBackboneInfo(backbone);
    config.tttWidth = 0;
    config.fastWeights = kFastWeightsLora;
    config.loraRank = rank;
    config.loraAlpha = double(rank);
    config.loraDropout = 0.1;
    return config;
}

TttConfig loadTttConfig(const fs::path& path) {
    std::string text;
    try {
        text = readFileBytes(path);
    } catch (const InputError&) {
        throw ModelLoadError("no readable ttt.json ('" + path.string() + "')",
                             "train one with `ponder train-ttt` or make a test model with {--ttt}");
    }
    return parseTttConfig(text, path.string());
}

namespace {

// A finite number (required).
double finiteReal(const ConfigFields& fields, const char* key) {
    const auto& value = fields.field(key);
    if (!value.is_number() || !std::isfinite(value.get<double>()))
        fields.fail(std::string(key) + " must be a finite number, got " + value.dump());
    return value.get<double>();
}

// `key`'s text, which must be one of `allowed` (listed in the message).
std::string oneOf(const ConfigFields& fields, const char* key,
                  std::initializer_list<const char*> allowed) {
    const auto value = fields.text(key);
    std::string list;
    for (const char* option : allowed) {
        if (value == option) return value;
        list += std::string(list.empty() ? "" : " or ") + "\"" + option + "\"";
    }
    fields.fail(std::string(key) + " is \"" + value + "\", expected " + list);
}

// The fields every ttt.json has (design.md §3.1).
TttConfig requiredFields(const ConfigFields& fields) {
    const auto format = fields.text("format");
    if (format != kFormat)
        fields.fail("format is \"" + format + "\", expected \"" + std::string(kFormat) + "\"");
    const auto integer = [&](const char* key) {
        const auto& value = fields.field(key);
        if (!value.is_number_integer())
            fields.fail(std::string(key) + " must be an integer, got " + value.dump());
        return value.get<std::int64_t>();
    };
    TttConfig config;
    config.hidden = fields.positive("hidden");
    config.heads = fields.positive("heads");
    config.headDim = fields.positive("head_dim");
    config.miniBatch = fields.positive("mini_batch");
    config.baseLr = finiteReal(fields, "base_lr");
    config.etaDecay = finiteReal(fields, "eta_decay");
    config.etaForm = fields.text("eta_form");
    config.convWidth = fields.positive("conv_width");
    config.convLag = integer("conv_lag");
    config.ropeTheta = finiteReal(fields, "rope_theta");
    config.causalK = integer("causal_k");
    config.lnEps = finiteReal(fields, "ln_eps");
    config.backboneSha256 = fields.text("backbone_sha256");
    return config;
}

// The fields later versions added, each with the meaning its absence had before.
void optionalFields(const ConfigFields& fields, TttConfig& config) {
    if (fields.root().contains("update_steps")) {
        config.updateSteps = fields.positive("update_steps");
        if (config.updateSteps > kMaxUpdateSteps)
            fields.fail("update_steps must be at most " + std::to_string(kMaxUpdateSteps) +
                        ", got " + std::to_string(config.updateSteps));
    }
    if (fields.root().contains("backbone_arch"))
        config.backboneArch = oneOf(fields, "backbone_arch", {kArchGpt2, kArchGemma3});
    if (fields.root().contains("fast_norm")) {
        config.fastNorm = fields.text("fast_norm");
        if (config.fastNorm != "layernorm" && config.fastNorm != "rmsnorm")
            fields.fail("fast_norm is \"" + config.fastNorm + "\", expected layernorm or rmsnorm");
    }
    config.fastNormEps = fields.root().contains("fast_norm_eps")
                             ? finiteReal(fields, "fast_norm_eps")
                             : config.lnEps;
    if (fields.root().contains("ttt_width")) config.tttWidth = fields.positive("ttt_width");
}

// The fast-weight layer (algorithm.md §2.7): "ttt-linear" when absent; LoRA's own fields.
void fastWeightFields(const ConfigFields& fields, TttConfig& config) {
    const auto& root = fields.root();
    if (root.contains("fast_weights"))
        config.fastWeights = oneOf(fields, "fast_weights", {kFastWeightsTtt, kFastWeightsLora});
    if (!config.isLora()) {
        for (const char* key : {"lora_rank", "lora_alpha", "lora_dropout"})
            if (root.contains(key))
                fields.fail(std::string(key) +
                            " is only used with fast_weights \"lora\"; add "
                            "\"fast_weights\": \"lora\" or remove it");
        return;
    }
    if (root.contains("lora_rank")) config.loraRank = fields.positive("lora_rank");
    config.loraAlpha =
        root.contains("lora_alpha") ? finiteReal(fields, "lora_alpha") : double(config.loraRank);
    if (!(config.loraAlpha > 0.0))
        fields.fail("lora_alpha must be positive, got " + fields.field("lora_alpha").dump());
    if (root.contains("lora_dropout")) config.loraDropout = finiteReal(fields, "lora_dropout");
    if (!(config.loraDropout >= 0.0 && config.loraDropout < 1.0))
        fields.fail("lora_dropout must be in [0, 1), got " + fields.field("lora_dropout").dump());
    if (config.tttWidth > 0)
        fields.fail(
            "ttt_width is not supported with fast_weights \"lora\" (the LoRA layer "
            "works at the backbone width)");
}

// Values that parse but cannot run.
void checkValues(const ConfigFields& fields, const TttConfig& config) {
    if (config.headDim % 2 != 0)
        fields.fail("head_dim must be even (RoPE rotates pairs of features), got " +
                    std::to_string(config.headDim));
    if (config.etaForm != "ponderttt" && config.etaForm != "ttt-lm")
        fields.fail("eta_form is \"" + config.etaForm + "\", expected \"ponderttt\" or \"ttt-lm\"");
    if (config.convLag != 0 && config.convLag != 1)
        fields.fail("conv_lag must be 0 or 1, got " + std::to_string(config.convLag));
    if (config.causalK != 0 && config.causalK != -1)
        fields.fail("causal_k must be 0 or -1, got " + std::to_string(config.causalK));
    if (!(config.lnEps > 0.0))
        fields.fail("ln_eps must be positive, got " + fields.field("ln_eps").dump());
    if (!(config.fastNormEps > 0.0))
        fields.fail("fast_norm_eps must be positive, got " + std::to_string(config.fastNormEps));
    if (!(config.ropeTheta > 0.0))
        fields.fail("rope_theta must be positive, got " + fields.field("rope_theta").dump());
    const auto& sha = config.backboneSha256;
    const bool hexDigest = sha.size() == 64 && std::all_of(sha.begin(), sha.end(), [](char c) {
                               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                           });
    if (!sha.empty() && !hexDigest)
        fields.fail("backbone_sha256 must be 64 lowercase hex digits, got \"" + sha + "\"");
}

}  // namespace

TttConfig parseTttConfig(std::string_view content, const std::string& label) {
    const ConfigFields fields(content, [&](const std::string& why) {
        return ModelLoadError("bad TTT checkpoint config '" + label + "': " + why,
                              "ttt.json is written by `ponder train-ttt`; fix the field or train "
                              "the checkpoint again");
    });
    auto config = requiredFields(fields);
    optionalFields(fields, config);
    fastWeightFields(fields, config);
    checkValues(fields, config);
    return config;
}

std::string tttConfigJson(const TttConfig& config) {
    // ordered_json keeps the fields in design.md's order for people reading the file.
    nlohmann::ordered_json root = {
        {"format", kFormat},
        {"hidden", config.hidden},
        {"heads", config.heads},
        {"head_dim", config.headDim},
        {"mini_batch", config.miniBatch},
        {"base_lr", config.baseLr},
        {"eta_decay", config.etaDecay},
        {"eta_form", config.etaForm},
        {"conv_width", config.convWidth},
        {"conv_lag", config.convLag},
        {"rope_theta", config.ropeTheta},
        {"causal_k", config.causalK},
        {"ln_eps", config.lnEps},
        {"backbone_sha256", config.backboneSha256},
    };
    if (config.updateSteps != 1) root["update_steps"] = config.updateSteps;
    if (config.backboneArch != kArchGpt2) root["backbone_arch"] = config.backboneArch;
    if (config.fastNorm != "layernorm") {
        root["fast_norm"] = config.fastNorm;
        root["fast_norm_eps"] = config.fastNormEps;
    }
    if (config.tttWidth > 0) root["ttt_width"] = config.tttWidth;
    if (config.fastWeights != kFastWeightsTtt) root["fast_weights"] = config.fastWeights;
    if (config.isLora()) {
        root["lora_rank"] = config.loraRank;
        root["lora_alpha"] = config.loraAlphaValue();
        root["lora_dropout"] = config.loraDropout;
    }
    return root.dump(2) + "\n";
}

std::int64_t updateStepsOf(std::string_view text) {
    try {
        return parseTttConfig(text, "stored ttt.json").updateSteps;
    } catch (const ModelLoadError&) {
        return 1;
    }
}

void saveTttConfig(const TttConfig& config, const fs::path& path) {
    writeFileAtomic(path, tttConfigJson(config));
}

bool isLoraCheckpoint(const fs::path& dir) {
    const auto path = dir / "ttt.json";
    std::error_code error;
    if (!fs::is_regular_file(path, error)) return false;
    return loadTttConfig(path).isLora();
}

}  // namespace ponder::core
