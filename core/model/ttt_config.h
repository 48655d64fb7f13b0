// TTT-Linear layer configuration: the ttt.json of design.md §3.1 (a contract other tools read).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace ponder::core {

constexpr std::int64_t kMaxUpdateSteps = 64;

struct TttConfig {
    std::int64_t hidden = 768;   // D, the backbone width
    std::int64_t heads = 12;     // H
    std::int64_t headDim = 64;   // d (H * d need not equal D)
    std::int64_t miniBatch = 16; // K
    double baseLr = 1.0;
    double etaDecay = 0.0;             // λ in exp(λ (j - (K-1))), algorithm.md §2.4
    std::string etaForm = "ponderttt"; // "ponderttt" | "ttt-lm" (algorithm.md §2.4-2.5)
    std::int64_t convWidth = 4;        // W
    std::int64_t convLag = 1;          // 1: excludes token t (published code), 0: TTT-LM
    double ropeTheta = 10000.0;
    std::int64_t causalK = 0;          // 0, or -1 for the diagonal ablation
    double lnEps = 1e-5;
    std::string backboneSha256;        // sha256 of the backbone's model.safetensors
    // UPDATE_N (algorithm.md §6, §5): trained with N optimiser steps per chunk at lr/N; the
    // published cost model then counts an UPDATE as 1 + 2N. Optional "update_steps" in
    // ttt.json, written only when N != 1 (absent = 1).
    std::int64_t updateSteps = 1;

    // The published defaults for a GPT-2 width (algorithm.md §2.1): H = D / 64, d = 64,
    // λ = 0 for small (D = 768) and 0.3 above.
    static TttConfig forBackbone(std::int64_t hidden);
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

}  // namespace ponder::core
