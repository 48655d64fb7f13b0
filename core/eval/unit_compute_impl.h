// Private (includes LibTorch): the tensor work of one evaluation unit, shared by the
// evaluator and `ponder bench` (design.md §4).
#pragma once

#include <torch/torch.h>

#include "core/model/gpt2_model_impl.h"
#include "core/model/ttt_layer_impl.h"

namespace ponder::core {

struct PathLosses {
    torch::Tensor ce;          // [S, T-1] next-token cross-entropy
    torch::Tensor entropy;     // [S, T-1] (only when asked)
    torch::Tensor confidence;  // [S, T-1] top-1 probability (only when asked)
};

// Next-token CE of hidden[:, :-1] against ids[:, 1:], computed in row blocks so the full
// [S, T, V] logits tensor is never materialised.
PathLosses nextTokenLosses(Gpt2Model& gpt2, const torch::Tensor& hidden, const torch::Tensor& ids,
                           bool withDistributionStats);

struct UnitTensors {
    PathLosses skip, update;
    TttStats stats;
};

// SKIP and UPDATE for ids [S, T] at `positions`. `shareBackbone` runs the frozen backbone
// once and derives both paths from it (ours); false runs it once per path, as the published
// code does, for the benchmark's comparison.
// The UPDATE path from the backbone's hidden states: TTT layer (fast_norm, dual form,
// residual), the second LM head (with its entropy and confidence when asked) and the layer's
// statistics.
void computeUpdatePath(Gpt2Model& gpt2, TttModel& ttt, const torch::Tensor& hidden,
                       const torch::Tensor& ids, const torch::Tensor& positions,
                       bool withDistributionStats, UnitTensors& out);

UnitTensors computeUnit(Gpt2Model& gpt2, TttModel& ttt, const torch::Tensor& ids,
                        const torch::Tensor& positions, bool shareBackbone = true);

// The gated fast path's first half: the backbone, the SKIP path (with its entropy and
// confidence) and ttt_loss_init, all known before any update; `hidden` is kept so an UPDATE
// decision can continue with computeUpdatePath.
struct SkipPass {
    torch::Tensor hidden;
    PathLosses skip;
    torch::Tensor init;  // [S, H, n]
};
SkipPass computeSkipPass(Gpt2Model& gpt2, TttModel& ttt, const torch::Tensor& ids,
                         const torch::Tensor& positions, bool withDistributionStats);

}  // namespace ponder::core
