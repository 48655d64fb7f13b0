// Loading a model directory's backbone, whichever architecture config.json declares, from one
// safetensors file or Hugging Face shards.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/model/backbone_impl.h"
#include "core/model/gemma3_model_impl.h"
#include "core/model/gpt2_model_impl.h"
#include "core/model/tensor_convert_impl.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"

namespace ponder::core {
namespace fs = std::filesystem;

WeightShards::WeightShards(const std::vector<fs::path>& files) {
    for (const auto& file : files)
        m_files.push_back(SafetensorsFile::open(file));
}

WeightShards::WeightShards(std::vector<SafetensorsFile> files) : m_files(std::move(files)) {}

std::optional<WeightShards::Entry> WeightShards::find(const std::string& name) const {
    for (const auto& file : m_files)
        if (const auto* info = file.find(name)) return Entry{&file, info};
    return std::nullopt;
}

std::vector<WeightShards::Entry> WeightShards::all() const {
    std::vector<Entry> entries;
    for (const auto& file : m_files)
        for (const auto& info : file.tensors())
            entries.push_back({&file, &info});
    return entries;
}

std::string WeightShards::label() const {
    if (m_files.size() == 1) return m_files[0].label();
    return std::to_string(m_files.size()) + " shards in '" +
           fs::path(m_files[0].label()).parent_path().string() + "'";
}

WeightShards openWeightShards(const fs::path& modelDir) {
    const auto files = backboneWeightFiles(modelDir);
    std::vector<SafetensorsFile> opened;
    for (const auto& file : files)
        opened.push_back(SafetensorsFile::open(file));
    const auto index = modelDir / "model.safetensors.index.json";
    if (files.size() > 1 || files.front().filename() != "model.safetensors") {
        const auto root = nlohmann::json::parse(readFileBytes(index), nullptr, false);
        for (const auto& [name, shard] : root["weight_map"].items()) {
            // A named copy: lambdas may capture structured bindings only from C++20 (clang).
            const auto shardName = shard.get<std::string>();
            const auto at = std::find_if(files.begin(), files.end(), [&](const fs::path& file) {
                return file.filename() == shardName;
            });
            if (!opened[std::size_t(at - files.begin())].find(name))
                throw ModelLoadError("shard index '" + index.string() + "' puts tensor '" + name +
                                         "' in " + shard.get<std::string>() + ", which lacks it",
                                     "the index and its shards must come from the same download");
        }
    }
    return WeightShards(std::move(opened));
}

void checkFloatDtype(const WeightShards::Entry& entry) {
    const auto stored = entry.info->dtype;
    if (stored != DType::F32 && stored != DType::F16 && stored != DType::BF16 &&
        stored != DType::F64)
        throw ModelLoadError("tensor '" + entry.info->name + "' in '" + entry.file->label() +
                                 "' has dtype " + std::string(dtypeName(stored)) +
                                 "; expected a floating-point dtype",
                             "the weights file is not a model checkpoint");
}

torch::Tensor loadFloatTensor(const WeightShards::Entry& entry, torch::ScalarType dtype) {
    checkFloatDtype(entry);
    return loadTensor(*entry.file, *entry.info).to(dtype);
}

std::shared_ptr<Backbone> loadBackbone(const fs::path& modelDir, torch::Device device, bool bf16) {
    if (backboneArch(modelDir) == kArchGemma3) return loadGemma3(modelDir, device, bf16).ptr();
    auto gpt2 = loadGpt2(modelDir, device);
    // Loaded in float32, then held and computed in bfloat16; hidden states and logits come out
    // in float32, so the TTT layer, the losses and the signals stay float32 (design.md §3).
    if (bf16) gpt2->to(torch::kBFloat16);
    return gpt2.ptr();
}

}  // namespace ponder::core
