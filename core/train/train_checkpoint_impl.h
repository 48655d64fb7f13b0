// Private (includes LibTorch): the resumable training checkpoint OUT/checkpoint-KIND/ — module and
// optimizer state plus state.json — written into a temporary folder and swapped in by rename,
// so a process killed at any moment leaves the previous or the new checkpoint, never a mix.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

namespace ponder::core {

struct CheckpointState {
    std::string kind;  // "base" | "ttt": a checkpoint of one is refused by the other
    std::int64_t step = 0;
    nlohmann::json options;  // what the run was started with, checked on resume
};

void saveTrainCheckpoint(const std::filesystem::path& outDir, const CheckpointState& state,
                         torch::nn::Module& module, torch::optim::Optimizer& optimizer);

// Loads OUT/checkpoint-KIND (or the previous one left by a crash between the two renames) into
// `module` and `optimizer`; nullopt when there is none. Throws InputError when it belongs to
// another kind of training or was started with different options.
std::optional<CheckpointState> loadTrainCheckpoint(const std::filesystem::path& outDir,
                                                   const std::string& kind,
                                                   const nlohmann::json& options,
                                                   torch::nn::Module& module,
                                                   torch::optim::Optimizer& optimizer);

}  // namespace ponder::core
