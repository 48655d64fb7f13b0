// `ponder bench --train`: the real train-base and train-ttt loops timed for a few steps on a
// model directory's shapes and a corpus, with the GEMM fraction from a FLOP count.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ponder::core {

struct TrainBenchmark {
    std::string kind;        // "train-base" | "train-ttt"
    std::string shape;       // what one step computes, for the printout
    std::int64_t steps = 0;  // timed steps (after one warm-up step)
    std::int64_t tokensPerStep = 0;
    double tokensPerSecond = 0;
    // Matmul FLOPs per step / step time. train-base: forward + backward of backbone and LM head
    // (3x the forward). train-ttt: the frozen backbone's forward (1x), the TTT layer forward and
    // backward (3x), the LM head forward and input gradient (2x).
    double gflops = 0;
};

struct TrainBenchOptions {
    std::filesystem::path modelDir;  // shapes, tokenizer and (for train-ttt) the backbone
    std::vector<std::filesystem::path> corpus;
    std::vector<std::string> extensions;      // e.g. {".py"}
    std::int64_t steps = 6;                   // timed steps per loop
    std::int64_t sequence = 256, batch = 16;  // train-base, as `ponder train-base` defaults
    std::int64_t chunk = 512, tttBatch = 16;  // train-ttt, the published recipe
    std::string device = "cpu";
    bool bf16 = false;  // both loops under bfloat16 autocast (BaseTrainOptions::bf16)
};

// Runs each loop for 1 + steps steps into a temporary folder (removed after), timing the last
// `steps` from the loops' own per-step clock.
std::vector<TrainBenchmark> benchmarkTraining(const TrainBenchOptions& options);

}  // namespace ponder::core
