// Private: includes LibTorch. Inverted dropout whose CPU mask is a counter-based hash, filled
// in parallel, instead of LibTorch's serial bernoulli_ (algorithm.md §6: the frozen backbone's
// dropout stays on in train-ttt, and the serial masks were a large share of its step).
#pragma once

#include <torch/torch.h>

namespace ponder::core {

// x · mask / (1 − p) with mask ~ Bernoulli(1 − p) per element while `training`; x itself
// otherwise. On the CPU, elements 2k and 2k + 1 take the two halves of output k of a splitmix64
// stream seeded by one draw from LibTorch's default generator: torch::manual_seed fixes the
// mask, and the thread count does not change it. Other devices use torch::dropout (CUDA has a
// fused kernel).
torch::Tensor hashedDropout(const torch::Tensor& x, double p, bool training);

}  // namespace ponder::core
