// Helpers shared by the Catch2 tests: a per-process scratch folder removed on exit, a
// whole-file read that does not go through the code under test, and the tests' tiny model.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

#include <nlohmann/json.hpp>

#include "core/gating/gate.h"
#include "core/model/gemma3_config.h"
#include "core/model/model_dir.h"
#include "core/util/errors.h"

namespace ponder::testing {

// A fresh empty folder under the system temp dir, named by `prefix`, the pid and a counter.
struct TempDir {
    std::filesystem::path path;
    explicit TempDir(const std::string& prefix) {
        static int counter = 0;
        path = std::filesystem::temp_directory_path() /
               (prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(++counter));
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

// What a model loader refused with, in the command line's words (flags as --name).
struct LoadFailure {
    std::string what, hint;
};

template <typename Load>
LoadFailure loadFailure(Load&& load) {
    try {
        load();
    } catch (const core::ModelLoadError& error) {
        return {core::inCommandLineWords(error.rawWhat()),
                core::inCommandLineWords(error.rawHint())};
    }
    return {};
}

inline std::string readText(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// The tests' tiny GPT-2 (2 layers, 32 wide, 2 heads, 256 positions, seeded, bytes-only
// tokenizer unless `corpus` is set): fast to make and to run. Callers change fields first.
inline core::TestModelOptions tinyModelOptions(bool withTtt = true) {
    core::TestModelOptions options;
    options.layers = 2;
    options.embd = 32;
    options.heads = 2;
    options.positions = 256;
    options.seed = 5;
    options.withTtt = withTtt;
    return options;
}

// A small config that exercises every feature: query width != hidden, a window shorter than
// the test sequences, a global layer between sliding ones, linear RoPE scaling, its own
// query_pre_attn_scalar.
inline core::Gemma3Config smallGemma3Config(std::int64_t kvHeads) {
    core::Gemma3Config c;
    c.vocabSize = 97;
    c.hiddenSize = 32;
    c.intermediateSize = 48;
    c.numLayers = 3;
    c.numHeads = 4;
    c.numKvHeads = kvHeads;
    c.headDim = 16;
    c.maxPositions = 64;
    c.slidingWindow = 5;
    c.slidingLayers = {true, false, true};
    c.ropeTheta = 1000000.0;
    c.ropeLocalTheta = 10000.0;
    c.ropeScalingFactor = 2.0;
    c.queryPreAttnScalar = 24.0;
    c.bosTokenId = 2;
    return c;
}

// A tiny model directory (`model`) in a scratch folder of its own (`dir`, removed with it).
struct TinyModel {
    TempDir dir;
    std::filesystem::path model = dir.path / "model";
    explicit TinyModel(const core::TestModelOptions& options = tinyModelOptions(),
                       const std::string& prefix = "ponder_tiny")
        : dir(prefix) {
        core::makeTestModel(model, options);
    }
};

// A gate folder whose network prefers UPDATE whatever the features (zero weights, output bias
// [0, 1]: q = sigmoid(1) = 0.73), trained "on" the TTT checkpoint `tttSha256`.
inline void writeAlwaysUpdateGate(const std::filesystem::path& dir, const std::string& tttSha256,
                                  const std::string& decision = "argmax", double threshold = 0.5) {
    core::GateWeights weights;
    weights.normWeight.assign(core::kGateInputs, 1.0f);
    weights.normBias.assign(core::kGateInputs, 0.0f);
    weights.fc1Weight.assign(core::kGateHidden * core::kGateInputs, 0.0f);
    weights.fc1Bias.assign(core::kGateHidden, 0.0f);
    weights.fc2Weight.assign(core::kGateHidden * core::kGateHidden, 0.0f);
    weights.fc2Bias.assign(core::kGateHidden, 0.0f);
    weights.outWeight.assign(2 * core::kGateHidden, 0.0f);
    weights.outBias = {0.0f, 1.0f};
    const nlohmann::json json = {{"format", "ponderttt-gate/1"},
                                 {"kind", "listnet"},
                                 {"features", core::gateInputNames()},
                                 {"decision", decision},
                                 {"threshold", threshold},
                                 {"rate", 0.5},
                                 {"sequence_chunks", 2},
                                 {"ttt_sha256", tttSha256},
                                 {"backbone_sha256", "b"}};
    std::filesystem::create_directories(dir);
    core::writeGateFiles(dir, weights, json.dump());
}

}  // namespace ponder::testing
