// Private (includes LibTorch): the ttt.json + ttt.safetensors pair either fast-weight layer
// is stored as (design.md §3.1), TTT-Linear's and LoRA's alike. `kind` ("TTT", "LoRA") names
// the layer in every message.
#pragma once

#include <filesystem>
#include <string>

#include <torch/torch.h>

#include "core/model/ttt_config.h"

namespace ponder::core {

// ttt.json of the checkpoint in `dir`, after the checks made before any tensor is read: both
// files are there, it was made for this backbone's architecture and width, and for these
// weights (backbone_sha256) unless `force`. ModelLoadError with a hint otherwise.
TttConfig checkedCheckpointConfig(const std::filesystem::path& dir, const BackboneInfo& backbone,
                                  const std::string& backboneSha256, bool force,
                                  const std::string& kind);
// Every parameter of `module` from dir/ttt.safetensors, widened to float32; a missing,
// misshapen, non-float or non-finite tensor, or one the module does not have, is a
// ModelLoadError (`layerNote` ends the last message, e.g. "a LoRA layer of rank 8").
void loadCheckpointTensors(torch::nn::Module& module, const std::filesystem::path& dir,
                           const std::string& kind, const std::string& layerNote);
// The parameters in their own dtype and ttt.json from `config`, each written atomically.
void saveCheckpointFiles(torch::nn::Module& module, const TttConfig& config,
                         const std::filesystem::path& dir);

}  // namespace ponder::core
