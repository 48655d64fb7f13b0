// Private (includes LibTorch): the tensor work of one evaluation unit, shared by the
// evaluator and `ponder bench` (design.md §4).
#pragma once

#include <torch/torch.h>

#include "core/gpt2_model.h"
#include "core/ttt_layer.h"

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
UnitTensors computeUnit(Gpt2Model& gpt2, TttModel& ttt, const torch::Tensor& ids,
                        const torch::Tensor& positions, bool shareBackbone = true);

}  // namespace ponder::core
