// Throughput measurements behind `ponder bench`: each prints rates measured in one run,
// never compared against fixed times (machines are noisy).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/model/gemma3_config.h"
#include "core/model/gpt2_config.h"

namespace ponder::core {

// Matmul FLOPs (2 per multiply-add) of one GPT-2 forward over `length` tokens: the
// backbone, and the LM head separately. Attention counts the full T x T products computed.
double gpt2BackboneFlops(const Gpt2Config& config, std::int64_t length);
double gpt2LmHeadFlops(const Gpt2Config& config, std::int64_t length);

// A random-weight backbone shape `ponder bench --shape` names: GPT-2 small, medium, large, xl
// or Gemma 3 gemma3-1b, gemma3-4b, gemma3-12b (the released configs' shapes).
struct BenchShape {
    std::string name;
    bool gemma3 = false;
    Gpt2Config gpt2;
    Gemma3Config gemma;
    std::int64_t positions() const;
    std::int64_t parameterCount() const;
};
// Throws InputError for an unknown name.
BenchShape benchShape(const std::string& name);
double backboneFlops(const BenchShape& shape, std::int64_t length);
double lmHeadFlops(const BenchShape& shape, std::int64_t length);

struct ForwardBenchmark {
    std::int64_t tokensPerRun = 0;
    int runs = 0;
    double seconds = 0.0;
    double tokensPerSecond = 0.0;
    double gflops = 0.0;  // achieved, from the FLOP count
};

// Random-weight backbone of `shape`; times hidden-state + logits forwards of [batch, length]
// tokens, without autograd, for at least `minSeconds` after one warm-up.
ForwardBenchmark benchmarkForward(const BenchShape& shape, std::int64_t batch, std::int64_t length,
                                  double minSeconds, const std::string& device = "cpu");

// Matmul FLOPs of the TTT layer over `length` tokens (projections and the dual form).
double tttLayerFlops(std::int64_t hidden, std::int64_t heads, std::int64_t headDim,
                     std::int64_t miniBatch, std::int64_t length);

struct UnitBenchmark {
    std::int64_t tokensPerUnit = 0;
    double backboneTokensPerSecond = 0;    // frozen GPT-2 hidden states only
    double sharedTokensPerSecond = 0;      // a whole SKIP+UPDATE unit, one backbone pass (ours)
    double splitTokensPerSecond = 0;       // the same with the static path (algorithm.md §4.1)
    double twoForwardTokensPerSecond = 0;  // the same unit with a backbone pass per path
    double sharedGflops = 0;               // achieved by the shared unit, from the FLOP count
    // FLOPs of the two-pass unit over the shared one: the speed-up sharing can give at equal
    // efficiency. The two LM heads (vocab x width each) bound it well below 2x for small widths.
    double flopBoundSpeedup = 0;
};

// The backbone of `shape` plus a TTT layer of the published attachment for it, random weights
// (non-zero output path); units of [batch, length] tokens timed for >= minSeconds each.
UnitBenchmark benchmarkEvalUnit(const BenchShape& shape, std::int64_t batch, std::int64_t length,
                                double minSeconds, const std::string& device = "cpu");

// The shared unit with the backbone in each of `dtypes` ("f32", "bf16"; the first is the
// reference), the TTT layer and the losses in float32 (design.md §3), on the same random
// weights: tokens/s for each, and the largest relative difference from the reference over
// `comparedUnits` random units of the per-unit losses (SKIP, UPDATE, static path) and of the
// reconstruction signals (recon_init, recon_step0, recon_step1).
struct DtypeBenchmark {
    std::vector<std::string> dtypes;
    std::vector<double> unitTokensPerSecond;  // one per dtype
    int comparedUnits = 0;
    std::vector<double> maxLossRelDiff, maxSignalRelDiff;  // one per dtype (0 for the reference)
};
DtypeBenchmark benchmarkUnitDtypes(const BenchShape& shape, const std::vector<std::string>& dtypes,
                                   std::int64_t batch, std::int64_t length, double minSeconds,
                                   const std::string& device = "cpu", int comparedUnits = 8);

struct TokenizerBenchmark {
    std::uint64_t bytes = 0;
    std::uint64_t tokens = 0;
    double coldTokensPerSecond = 0.0;  // first pass: BPE cache empty
    double warmTokensPerSecond = 0.0;  // second pass over the same text
};
TokenizerBenchmark benchmarkTokenizer(const std::filesystem::path& tokenizerDir,
                                      const std::vector<std::filesystem::path>& files);

// Milliseconds to replay `recon-ema` over a synthetic table of `units` units (seeded
// log-normal signals) for a new target rate: the cost behind the GUI's rate slider
// (design.md §5), which reuses its PolicyRun (runPolicyInto). Median of `runs` replays, each
// at a different rate, after one warm-up.
double benchmarkPolicyReplayMs(std::size_t units = 100000, int runs = 9, std::uint64_t seed = 42);

}  // namespace ponder::core
