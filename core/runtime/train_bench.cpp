// Times the real training loops (train_base.cpp, train_ttt.cpp) for a few steps.
#include "core/runtime/train_bench.h"

#include <unistd.h>

#include <system_error>

#include "core/model/gpt2_config.h"
#include "core/model/ttt_config.h"
#include "core/runtime/benchmarks.h"
#include "core/train/training.h"
#include "core/util/errors.h"

namespace ponder::core {
namespace fs = std::filesystem;

namespace {

// A scratch folder removed when the benchmark ends, however it ends.
struct ScratchDir {
    fs::path path;
    ScratchDir() {
        path = fs::temp_directory_path() / ("ponder_bench_train_" + std::to_string(::getpid()));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~ScratchDir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
};

// Seconds from the end of the warm-up step to the end of the last, from the loop's own clock.
struct StepTimer {
    double warm = 0, last = 0;
    TrainCallbacks callbacks() {
        TrainCallbacks out;
        out.onStep = [this](const TrainProgress& progress) {
            (progress.step == 1 ? warm : last) = progress.elapsedSeconds;
        };
        return out;
    }
    double seconds() const { return last - warm; }
};

TrainBenchmark finished(std::string kind, std::string shape, std::int64_t steps,
                        std::int64_t tokensPerStep, double flopsPerStep, double seconds) {
    TrainBenchmark out;
    out.kind = std::move(kind);
    out.shape = std::move(shape);
    out.steps = steps;
    out.tokensPerStep = tokensPerStep;
    out.tokensPerSecond = double(steps * tokensPerStep) / seconds;
    out.gflops = flopsPerStep * double(steps) / seconds / 1e9;
    return out;
}

}  // namespace

std::vector<TrainBenchmark> benchmarkTraining(const TrainBenchOptions& options) {
    if (options.steps < 1)
        throw InputError("bench {--train} needs at least one timed step", "pass {--steps 6}");
    ScratchDir scratch;
    const auto config = loadGpt2Config(options.modelDir / "config.json");
    std::vector<TrainBenchmark> results;

    BaseTrainOptions base;
    base.corpus = {options.corpus, options.extensions};
    base.tokenizerDir = options.modelDir;
    base.outDir = scratch.path / "base";
    base.config = config;
    base.sequence = options.sequence;
    base.batch = options.batch;
    base.steps = 1 + options.steps;
    base.warmup = 1;
    base.checkpointEvery = base.steps;  // one checkpoint, after the last timed step
    base.device = options.device;
    base.bf16 = options.bf16;
    StepTimer baseTimer;
    trainBase(base, baseTimer.callbacks());
    const double baseFlops =
        3.0 * double(base.batch) *
        (gpt2BackboneFlops(config, base.sequence) + gpt2LmHeadFlops(config, base.sequence));
    const std::string precision = options.bf16 ? " bf16" : "";
    results.push_back(finished("train-base" + precision,
                               std::to_string(base.batch) + " x " + std::to_string(base.sequence) +
                                   " tokens, forward + backward",
                               options.steps, base.batch * base.sequence, baseFlops,
                               baseTimer.seconds()));

    TttTrainOptions ttt;
    ttt.modelDir = options.modelDir;
    ttt.outDir = scratch.path / "ttt";
    ttt.corpus = {options.corpus, options.extensions};
    ttt.chunk = options.chunk;
    ttt.batch = options.tttBatch;
    ttt.steps = 1 + options.steps;
    ttt.checkpointEvery = ttt.steps;
    ttt.device = options.device;
    ttt.bf16 = options.bf16;
    StepTimer tttTimer;
    trainTtt(ttt, tttTimer.callbacks());
    const auto layer = TttConfig::forBackbone(config.nEmbd);
    const double sequences = double(ttt.batch);
    const double tttFlops =
        sequences *
        (gpt2BackboneFlops(config, ttt.chunk) +
         3.0 * tttLayerFlops(config.nEmbd, layer.heads, layer.headDim, layer.miniBatch, ttt.chunk) +
         2.0 * gpt2LmHeadFlops(config, ttt.chunk - 1));
    results.push_back(finished("train-ttt" + precision,
                               std::to_string(ttt.batch) + " x " + std::to_string(ttt.chunk) +
                                   " tokens, frozen backbone + TTT layer",
                               options.steps, ttt.batch * ttt.chunk, tttFlops, tttTimer.seconds()));
    return results;
}

}  // namespace ponder::core
