// Private (includes LibTorch): the layer the UPDATE path adds to the frozen backbone, whichever
// kind the checkpoint's ttt.json names: TTT-Linear (algorithm.md §2) or LoRA fast weights
// (§2.7). Evaluation and train-ttt use it; what only TTT-Linear has (the reconstruction
// statistics, streaming, the diagonal ablation) is refused for LoRA with a clear InputError.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <torch/torch.h>

#include "core/model/lora_layer_impl.h"
#include "core/model/ttt_layer_impl.h"

namespace ponder::core {

class UpdateLayer {
public:
    UpdateLayer() = default;
    explicit UpdateLayer(TttModel ttt) : m_ttt(std::move(ttt)) {}
    explicit UpdateLayer(LoraModel lora) : m_lora(std::move(lora)) {}
    // The checkpoint in `dir` of the kind its ttt.json names (isLoraCheckpoint), with the
    // loaders' refusals (mismatched backbone unless `force`, bad tensors, ...).
    static UpdateLayer load(const std::filesystem::path& dir, const BackboneInfo& backbone,
                            const std::string& backboneSha256, bool force,
                            torch::Device device = torch::kCPU);
    // A new layer of `config`'s kind with its published initialisation from `seed`.
    static UpdateLayer create(const TttConfig& config, std::uint64_t seed);

    bool isLora() const { return !m_lora.is_empty(); }
    bool defined() const { return isLora() || !m_ttt.is_empty(); }
    const TttConfig& config() const;
    torch::nn::Module& module();

    struct Result {
        torch::Tensor hidden;  // the UPDATE hidden states h + y, [B, T, D]
        TttStats stats;        // §3's statistics; undefined tensors for LoRA (it has none)
    };
    Result forward(const torch::Tensor& h, const torch::Tensor& positions);
    // The static path of algorithm.md §4.1. LoRA has no inner loop: its UPDATE path is static.
    torch::Tensor forwardStatic(const torch::Tensor& h, const torch::Tensor& positions);
    // ttt_loss_init before any update (the gated fast path); InputError for LoRA.
    torch::Tensor initLoss(const torch::Tensor& h, const torch::Tensor& positions);
    void setCausalK(std::int64_t k);  // the diagonal ablation; InputError for LoRA
    void save(const std::filesystem::path& dir);
    // The TTT-Linear model itself, for what only it supports (streaming generation, joint
    // gate training); InputError naming `what` for LoRA.
    TttModel& ttt(const std::string& what);

private:
    TttModel m_ttt{nullptr};
    LoraModel m_lora{nullptr};
};

}  // namespace ponder::core
