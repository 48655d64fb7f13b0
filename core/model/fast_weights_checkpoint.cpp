// Loading and saving a fast-weight layer's checkpoint (fast_weights_checkpoint_impl.h).
#include "core/model/fast_weights_checkpoint_impl.h"

#include <set>

#include "core/model/safetensors.h"
#include "core/model/tensor_convert_impl.h"
#include "core/util/errors.h"

namespace ponder::core {
namespace fs = std::filesystem;

namespace {

std::string shortSha(const std::string& sha) {
    return sha.empty() ? std::string("(none)") : sha.substr(0, 12) + "\u2026";
}

}  // namespace

TttConfig checkedCheckpointConfig(const fs::path& dir, const BackboneInfo& backbone,
                                  const std::string& backboneSha256, bool force,
                                  const std::string& kind) {
    const auto configPath = dir / "ttt.json";
    for (const auto& path : {configPath, dir / "ttt.safetensors"}) {
        std::error_code error;
        if (!fs::is_regular_file(path, error))
            throw ModelLoadError(
                "no " + kind + " checkpoint in '" + dir.string() + "' (" +
                    path.filename().string() + " is missing)",
                "train one with `ponder train-ttt` or make a test model with {--ttt}");
    }
    const auto config = loadTttConfig(configPath);
    if (config.backboneArch != backbone.arch)
        throw ModelLoadError(kind + " checkpoint '" + configPath.string() + "' was made for a " +
                                 config.backboneArch + " backbone, this one is " + backbone.arch,
                             "train one for this backbone with `ponder train-ttt` "
                             "({--force-checkpoint} only overrides the weights' hash)");
    if (config.hidden != backbone.hidden)
        throw ModelLoadError(kind + " checkpoint '" + configPath.string() + "' has hidden " +
                                 std::to_string(config.hidden) + " but the backbone's width is " +
                                 std::to_string(backbone.hidden),
                             "it belongs to another model size; train one for this backbone with "
                             "`ponder train-ttt`");
    if (config.backboneSha256 != backboneSha256 && !force)
        throw ModelLoadError("checkpoint was trained for another backbone (sha256 " +
                                 shortSha(config.backboneSha256) + " vs " +
                                 shortSha(backboneSha256) + ")",
                             "pass {--force-checkpoint} to use it anyway");
    return config;
}

void loadCheckpointTensors(torch::nn::Module& module, const fs::path& dir, const std::string& kind,
                           const std::string& layerNote) {
    const auto weightsPath = dir / "ttt.safetensors";
    const auto weights = SafetensorsFile::open(weightsPath);
    const auto fail = [&](const std::string& why) {
        return ModelLoadError(
            "cannot load " + kind + " weights '" + weightsPath.string() + "': " + why,
            "ttt.json and ttt.safetensors must come from the same checkpoint; "
            "train one with `ponder train-ttt`");
    };
    torch::NoGradGuard noGrad;
    std::set<std::string> used;
    for (auto& item : module.named_parameters()) {
        const auto& name = item.key();
        const auto* info = weights.find(name);
        if (!info) throw fail("missing tensor '" + name + "'");
        auto& param = item.value();
        if (param.sizes() != torch::IntArrayRef(info->shape))
            throw fail("tensor '" + name + "' has shape " +
                       c10::str(torch::IntArrayRef(info->shape)) + ", ttt.json implies " +
                       c10::str(param.sizes()));
        if (info->dtype != DType::F32 && info->dtype != DType::F16 && info->dtype != DType::BF16 &&
            info->dtype != DType::F64)
            throw fail("tensor '" + name + "' has dtype " + std::string(dtypeName(info->dtype)) +
                       "; expected a floating-point dtype");
        const auto value = loadTensor(weights, *info).to(torch::kFloat32);
        if (!torch::isfinite(value).all().item<bool>())
            throw fail("tensor '" + name + "' contains NaN or Inf values");
        param.copy_(value);
        used.insert(name);
    }
    for (const auto& info : weights.tensors())
        if (!used.count(info.name))
            throw fail("unexpected tensor '" + info.name + "' (not part of " + layerNote + ")");
}

void saveCheckpointFiles(torch::nn::Module& module, const TttConfig& config, const fs::path& dir) {
    std::error_code error;
    fs::create_directories(dir, error);  // writeFileAtomic reports an unwritable folder
    NamedTensors tensors;
    for (const auto& item : module.named_parameters())
        tensors.emplace_back(item.key(), item.value());
    saveTensors(dir / "ttt.safetensors", tensors);
    saveTttConfig(config, dir / "ttt.json");
}

}  // namespace ponder::core
