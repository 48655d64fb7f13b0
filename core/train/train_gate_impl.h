// Private (includes LibTorch): the loss terms of `train-gate` (gates.md §2-3), apart from the
// training loop so the tests can check each against a hand computation.
#pragma once

#include <vector>

#include <torch/torch.h>

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

// numpy.percentile's default (linear interpolation); `values` non-empty.
double percentile(std::vector<double> values, double percent);

}  // namespace ponder::core
