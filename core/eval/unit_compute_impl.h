// Private (includes LibTorch): the tensor work of one evaluation unit, shared by the
// evaluator and `ponder bench` (design.md §4).
#pragma once

#include <torch/torch.h>

#include "core/model/backbone_impl.h"
#include "core/model/update_layer_impl.h"

namespace ponder::core {

struct PathLosses {
    torch::Tensor ce;          // [S, T-1] next-token cross-entropy
    torch::Tensor entropy;     // [S, T-1] (only when asked)
    torch::Tensor confidence;  // [S, T-1] top-1 probability (only when asked)
    // [S, T-1] over the top five probabilities renormalised (only when asked for the gate
    // features): their population deviation and their entropy.
    torch::Tensor topFiveStd, topFiveEntropy;
};

// Next-token CE of hidden[:, :-1] against ids[:, 1:], computed in row blocks so the full
// [S, T, V] logits tensor is never materialised.
PathLosses nextTokenLosses(Backbone& backbone, const torch::Tensor& hidden,
                           const torch::Tensor& ids, bool withDistributionStats,
                           bool withTopFive = false);

// The learned gates' 28 stored features (gate.h, gates.md §2) of ids [S, T] from the SKIP
// pass (`skip` with distribution stats and top five, `hidden` the backbone output the LM head
// reads): per row, then the mean over rows.
std::vector<float> gateFeatures(const torch::Tensor& hidden, const PathLosses& skip,
                                const torch::Tensor& ids, std::int64_t vocabSize);

// d CE / d p of z = (1 - p)·logits(skipHidden) + p·logits(updateHidden) at p = 0 and p = 1,
// mean over each row's targets then over rows: a Gumbel gate's straight-through gradient.
// The same per position for logits [R, V] of both paths and targets [R, 1].
std::pair<torch::Tensor, torch::Tensor> blendSlopeRows(const torch::Tensor& skipLogits,
                                                       const torch::Tensor& updateLogits,
                                                       const torch::Tensor& targets);
std::pair<double, double> blendSlopes(Backbone& backbone, const torch::Tensor& skipHidden,
                                      const torch::Tensor& updateHidden, const torch::Tensor& ids);

struct UnitTensors {
    PathLosses skip, update;
    torch::Tensor staticCe;  // [S, T-1] the static path's CE (algorithm.md §4.1), when asked
    TttStats stats;          // undefined tensors for LoRA fast weights
    torch::Tensor skipHidden, updateHidden;  // [S, T, D]: what each path's LM head read
};

// SKIP and UPDATE for ids [S, T] at `positions`. `shareBackbone` runs the frozen backbone
// once and derives both paths from it (ours); false runs it once per path, as the published
// code does, for the benchmark's comparison.
// The UPDATE path from the backbone's hidden states: TTT layer (fast_norm, dual form,
// residual), the second LM head (with its entropy and confidence when asked) and the layer's
// statistics.
void computeUpdatePath(Backbone& backbone, UpdateLayer& ttt, const torch::Tensor& hidden,
                       const torch::Tensor& ids, const torch::Tensor& positions,
                       bool withDistributionStats, UnitTensors& out);

// The static path's next-token CE [S, T-1] (algorithm.md §4.1): the TTT layer at its
// initial fast weights on the backbone's hidden states, then the LM head.
torch::Tensor staticPathLosses(Backbone& backbone, UpdateLayer& ttt, const torch::Tensor& hidden,
                               const torch::Tensor& ids, const torch::Tensor& positions);

// withStaticPath adds the static path (UnitTensors::staticCe) from the same backbone pass.
UnitTensors computeUnit(Backbone& backbone, UpdateLayer& ttt, const torch::Tensor& ids,
                        const torch::Tensor& positions, bool shareBackbone = true,
                        bool withStaticPath = false);

// The gated fast path's first half: the backbone, the SKIP path (with its entropy and
// confidence) and ttt_loss_init, all known before any update; `hidden` is kept so an UPDATE
// decision can continue with computeUpdatePath.
struct SkipPass {
    torch::Tensor hidden;
    PathLosses skip;
    torch::Tensor init;  // [S, H, n]
};
SkipPass computeSkipPass(Backbone& backbone, UpdateLayer& ttt, const torch::Tensor& ids,
                         const torch::Tensor& positions, bool withDistributionStats);

}  // namespace ponder::core
