// Private (includes LibTorch): safetensors entries <-> torch tensors.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "core/model/safetensors.h"

namespace ponder::core {

// Copies the entry into a new CPU tensor of its stored dtype (aligned, owned memory).
torch::Tensor loadTensor(const SafetensorsFile& file, const TensorInfo& info);

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Saves tensors (moved to CPU, made contiguous) with their own dtypes.
void saveTensors(const std::filesystem::path& path, const NamedTensors& tensors,
                 const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

}  // namespace ponder::core
