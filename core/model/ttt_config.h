// TTT-Linear layer configuration: the ttt.json of design.md §3.1 (a contract other tools read).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/model/backbone.h"

namespace ponder::core {

constexpr std::int64_t kMaxUpdateSteps = 64;

// The fast-weight layer a checkpoint holds ("fast_weights" in ttt.json, design.md §3.1).
inline constexpr const char* kFastWeightsTtt = "ttt-linear";  // the default (algorithm.md §2)
inline constexpr const char* kFastWeightsLora = "lora";       // algorithm.md §2.7

struct TttConfig {
    std::int64_t hidden = 768;    // D, the backbone width (the width of the hidden state it adapts)
    std::int64_t heads = 12;      // H
    std::int64_t headDim = 64;    // d (H * d need not equal D)
    std::int64_t miniBatch = 16;  // K
    double baseLr = 1.0;
    double etaDecay = 0.0;              // λ in exp(λ (j - (K-1))), algorithm.md §2.4
    std::string etaForm = "ponderttt";  // "ponderttt" | "ttt-lm" (algorithm.md §2.4-2.5)
    std::int64_t convWidth = 4;         // W
    std::int64_t convLag = 1;           // 1: excludes token t (published code), 0: TTT-LM
    double ropeTheta = 10000.0;
    std::int64_t causalK = 0;  // 0, or -1 for the diagonal ablation
    double lnEps = 1e-5;
    std::string backboneSha256;  // sha256 of the backbone's model.safetensors
    // UPDATE_N (algorithm.md §6, §5): trained with N optimiser steps per chunk at lr/N; the
    // published cost model then counts an UPDATE as 1 + 2N. Optional "update_steps" in
    // ttt.json, written only when N != 1 (absent = 1).
    std::int64_t updateSteps = 1;
    // How the layer attaches to a backbone other than GPT-2 (design.md §3.1, optional keys
    // written only when they differ from GPT-2's, so GPT-2 files stay as they were):
    std::string backboneArch = kArchGpt2;  // "backbone_arch"; a checkpoint never loads on another
    std::string fastNorm = "layernorm";    // "fast_norm": "layernorm" (γ, β) | "rmsnorm" (Gemma's
                                           // (1 + w) form, weight only)
    double fastNormEps = 1e-5;             // "fast_norm_eps", written with rmsnorm (else ln_eps)
    // "ttt_width" P > 0: the layer works at width P between a projection D -> P and a
    // zero-initialised projection P -> D (Gemma: D != heads * head_dim). 0: no projections.
    std::int64_t tttWidth = 0;

    // "fast_weights" (optional, written only when not the default): kFastWeightsTtt, or
    // kFastWeightsLora for the LoRA layer of algorithm.md §2.7. A LoRA checkpoint keeps every
    // field above (the TTT-Linear ones are written and validated but the LoRA layer does not
    // read them) and adds the three below, written only for LoRA.
    std::string fastWeights = kFastWeightsTtt;
    std::int64_t loraRank = 64;  // "lora_rank" r >= 1
    double loraAlpha = 0.0;      // "lora_alpha" α > 0; 0 here means α = r (ttt.json's default)
    double loraDropout = 0.1;    // "lora_dropout" in [0, 1), on A(x), training mode only

    std::int64_t layerWidth() const { return tttWidth > 0 ? tttWidth : hidden; }
    bool isLora() const { return fastWeights == kFastWeightsLora; }
    // α, with 0 resolved to the rank; the LoRA delta is scaled by α / r.
    double loraAlphaValue() const { return loraAlpha > 0.0 ? loraAlpha : double(loraRank); }

    // The published defaults for a GPT-2 width (algorithm.md §2.1): H = D / 64, d = 64,
    // λ = 0 for small (D = 768) and 0.3 above.
    static TttConfig forBackbone(std::int64_t hidden);
    // The published attachment for `backbone`: forBackbone(D) for GPT-2; for Gemma 3 (the
    // published Gemma3TTTModel) heads and head_dim of the backbone's attention, an RMS fast
    // norm, projections when D != heads * head_dim, and λ by the layer width as above.
    static TttConfig forBackboneInfo(const BackboneInfo& backbone);
    // A LoRA checkpoint's config for `backbone` (algorithm.md §2.7): forBackboneInfo's fields
    // (fast_norm as for TTT-Linear, no ttt_width: the layer works at the backbone width) with
    // fast_weights "lora", rank r, α = r and dropout 0.1, the published defaults.
    static TttConfig forLora(const BackboneInfo& backbone, std::int64_t rank = 64);
};

// Reads and validates ttt.json; throws ModelLoadError naming the bad field.
TttConfig loadTttConfig(const std::filesystem::path& path);
// The same validation on ttt.json text already in memory; `label` names it in errors.
TttConfig parseTttConfig(std::string_view text, const std::string& label);
std::string tttConfigJson(const TttConfig& config);
// update_steps of ttt.json text (a stored run's), 1 when absent, empty or unreadable: what the
// cost columns need, never a reason to refuse a stored run.
std::int64_t updateStepsOf(std::string_view tttConfigJsonText);
void saveTttConfig(const TttConfig& config, const std::filesystem::path& path);
// Whether the checkpoint in model directory `dir` is a LoRA one (ttt.json's fast_weights is
// "lora"): what decides between loadTttCheckpoint and loadLoraCheckpoint. false when the
// directory has no ttt.json; a ttt.json that is there but invalid throws the ModelLoadError
// loadTttConfig gives.
bool isLoraCheckpoint(const std::filesystem::path& dir);

}  // namespace ponder::core
