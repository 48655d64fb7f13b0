// Private (includes LibTorch): the frozen backbone every path runs first (design.md §4):
// GPT-2 or Gemma 3 behind one interface, so the evaluator, the trainers and the TTT layer
// never ask which one they have.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/model/backbone.h"
#include "core/model/safetensors.h"

namespace ponder::core {

class Backbone : public torch::nn::Module {
public:
    // Final hidden state after the last norm, float32 [B, T, D], whatever the weights' dtype.
    // `positions` ([T] or [B, T], int64) default to 0..T-1; callers pass local positions per
    // chunk (algorithm.md §1).
    virtual torch::Tensor hidden(const torch::Tensor& ids, const torch::Tensor& positions = {}) = 0;
    // Next-token logits, float32 [B, T, V], from a hidden state (one backbone pass can serve
    // several heads, design.md §4).
    virtual torch::Tensor logits(const torch::Tensor& hidden) const = 0;
    virtual BackboneInfo info() const = 0;

    // Incremental decoding for generation (core/generate): what the backbone keeps between
    // calls, e.g. GPT-2's per-layer keys and values. `length` = tokens read so far.
    struct DecodeCache {
        virtual ~DecodeCache() = default;
        std::int64_t length = 0;
    };
    virtual std::unique_ptr<DecodeCache> startDecode() const;
    // Hidden states [1, n, D] (float32) of `ids` [1, n], which follow the cache's tokens at
    // positions cache.length.., as hidden() of the whole sequence would give them; appends
    // them to the cache. This default runs hidden() over every token read so far (correct for
    // any backbone, quadratic in the length); GPT-2 and Gemma 3 override it with a KV cache.
    virtual torch::Tensor decodeStep(DecodeCache& cache, const torch::Tensor& ids);
};

// The tensors of one or several safetensors files by name (sharded HF checkpoints).
class WeightShards {
public:
    explicit WeightShards(const std::vector<std::filesystem::path>& files);
    explicit WeightShards(std::vector<SafetensorsFile> files);
    struct Entry {
        const SafetensorsFile* file = nullptr;
        const TensorInfo* info = nullptr;
    };
    std::optional<Entry> find(const std::string& name) const;
    std::vector<Entry> all() const;
    std::string label() const;  // the file name, or "N shards in DIR"

private:
    std::vector<SafetensorsFile> m_files;
};

// The directory's weights (backboneWeightFiles), with every tensor the shard index names
// checked to be in the shard it names (ModelLoadError otherwise).
WeightShards openWeightShards(const std::filesystem::path& modelDir);

// Throws ModelLoadError when the stored dtype is not a floating-point one.
void checkFloatDtype(const WeightShards::Entry& entry);
// The tensor as a CPU tensor of `dtype` (checkFloatDtype first).
torch::Tensor loadFloatTensor(const WeightShards::Entry& entry, torch::ScalarType dtype);

// Loads the directory's backbone (config.json + model.safetensors or its shards) onto
// `device`. `bf16`: weights held and computed in bfloat16 (Gemma 3 only; loaded without a
// float32 copy); GPT-2 always computes in float32 and refuses it.
std::shared_ptr<Backbone> loadBackbone(const std::filesystem::path& modelDir,
                                       torch::Device device = torch::kCPU, bool bf16 = false);

}  // namespace ponder::core
