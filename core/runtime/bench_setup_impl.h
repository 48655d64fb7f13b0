// Private (includes LibTorch): the random-weight models and the timing loop that `ponder
// bench`'s measurements share (benchmarks.cpp, dtype_bench.cpp).
#pragma once

#include <chrono>
#include <memory>

#include <torch/torch.h>

#include "core/model/backbone_impl.h"
#include "core/model/update_layer_impl.h"
#include "core/runtime/benchmarks.h"

namespace ponder::core {

// A backbone of `shape` with its seeded initialisation (the same weights for every dtype),
// held in `dtype`.
std::shared_ptr<Backbone> randomBackbone(const BenchShape& shape, const torch::Device& device,
                                         torch::ScalarType dtype = torch::kFloat32);
std::int64_t vocabOf(const BenchShape& shape);
// A float32 TTT layer of the published attachment for `backbone`, seeded random weights with a
// non-zero output path (a trained layer's output is not zero; a fresh one's is).
UpdateLayer randomUpdateLayer(const Backbone& backbone, const torch::Device& device);

// Calls `run` until `minSeconds` have passed (after one warm-up); returns runs per second.
template <typename Run>
double runsPerSecond(Run&& run, double minSeconds, const torch::Device& device) {
    using Clock = std::chrono::steady_clock;
    const auto sync = [&] {
        if (device.is_cuda()) torch::cuda::synchronize();
    };
    run();
    sync();
    int runs = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    do {
        run();
        sync();
        ++runs;
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < minSeconds);
    return runs / elapsed;
}

}  // namespace ponder::core
