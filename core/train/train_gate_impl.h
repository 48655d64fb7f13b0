// Private (includes LibTorch): the loss terms of `train-gate` (gates.md §2-3), apart from the
// training loop so the tests can check each against a hand computation.
#pragma once

#include <filesystem>
#include <vector>

#include <torch/torch.h>

#include "core/eval/eval_plan.h"
#include "core/model/backbone_impl.h"
#include "core/model/ttt_layer_impl.h"

namespace ponder::core {

// Straight-through Gumbel-Softmax over logits [B, 2] ([SKIP, UPDATE]) with noise g [B, 2]:
// y = softmax((l + g)/τ), d = onehot(argmax y) - sg(y) + y. `p` = d[:, UPDATE] is exactly 0 or
// 1 forward and has y[:, UPDATE]'s gradient; `hard` is the same 0/1 without a graph.
struct StraightThrough {
    torch::Tensor p, hard;
};
StraightThrough straightThrough(const torch::Tensor& logits, const torch::Tensor& gumbel,
                                double temperature);

// CE of the blended logits z = (1 - p)·SKIP + p·UPDATE, weighted over units (weights sum to 1),
// from each unit's two CEs and the slopes d CE / d p at p = 0 and 1 (blendSlopeRows): exact
// in value and gradient wherever p is 0 or 1, which the straight-through forward guarantees.
torch::Tensor blendedCe(const StraightThrough& decision, const torch::Tensor& ceSkip,
                        const torch::Tensor& ceUpdate, const torch::Tensor& slopeSkip,
                        const torch::Tensor& slopeUpdate, const torch::Tensor& weight);

// RankNet: pairs P = {(i, j): a_i - a_j > 0.1}, Σ_P softplus(s_j - s_i) / max(|P|, 1).
torch::Tensor rankNetLoss(const torch::Tensor& score, const torch::Tensor& advantage);
// ListNet: -Σ softmax(a/T)·log(softmax(s/T) + 1e-7) + (mean σ(s) - ρ)².
torch::Tensor listNetLoss(const torch::Tensor& score, const torch::Tensor& advantage,
                          double temperature, double rate);

struct GateTrainOptions;

// `train-gate --train-ttt` (gates.md §2-3, the published joint training): the TTT layer learns
// with the gate, so a unit's UPDATE CE and L_TTT are recomputed with a graph at every step.
// The backbone stays frozen and in eval mode (no dropout): the SKIP CE is the one the stored
// features and the cached units were computed with, and the same every step.
class JointTtt {
public:
    // Loads the frozen backbone of options.modelDir (whose model.safetensors hashes to
    // `backboneSha`) and its TTT checkpoint (options.freshTtt: a freshly initialised layer of
    // the same ttt.json instead, as the published Gumbel run).
    JointTtt(const GateTrainOptions& options, const EvalPlan& plan, const std::string& backboneSha);

    struct Rows {
        torch::Tensor ceSkip;      // [n] float64, constant
        torch::Tensor ceUpdate;    // [n] float64, in the TTT layer's graph
        torch::Tensor reconStep1;  // [n] mean ttt_loss_step_1 per unit (L_TTT), in the graph
        torch::Tensor ceBlend;     // [n] CE of (1 - p)·SKIP + p·UPDATE; only when p is given
    };
    // The plan's units `units` (rows in that order); `p` [n] (float64, may carry the gate's
    // graph) blends the logits per unit.
    Rows forward(const std::vector<std::size_t>& units, const torch::Tensor& p = {});

    TttModel& ttt() { return m_ttt; }
    // Makes `dir` a model directory of the backbone with the layer as trained so far: the
    // backbone's files are copied once, ttt.safetensors + ttt.json rewritten each call.
    void writeModelDir(const std::filesystem::path& dir);

private:
    const EvalPlan& m_plan;
    std::filesystem::path m_modelDir;
    torch::Device m_device;
    std::shared_ptr<Backbone> m_backbone;
    TttModel m_ttt{nullptr};
};

}  // namespace ponder::core
