// Private (includes LibTorch): pieces shared by the trainers — the packed training stream, the
// training loop with its timing and checkpoints, and the per-step seeding that makes resuming
// exact.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "core/dist/data_parallel_impl.h"
#include "core/eval/eval_plan.h"
#include "core/train/training.h"

namespace ponder::core {

class Tokenizer;

// Files of `corpus` tokenized and joined by <|endoftext|> in path order (algorithm.md §7),
// as a paper-mode plan with `chunk`-token chunks and `batch` windows per unit. InputError
// when the corpus yields no unit.
EvalPlan trainingPlan(const Tokenizer& tokenizer, const CorpusSelection& corpus, std::int64_t chunk,
                      std::int64_t miniBatch, std::int64_t batch);

// A distinct, reproducible seed for (seed, step): dropout masks and batch draws of a resumed
// run equal those of an uninterrupted one.
std::uint64_t stepSeed(std::uint64_t seed, std::int64_t step);

class StepClock {
public:
    StepClock(std::int64_t startStep, std::int64_t steps);
    // Fills timing fields of `progress` after step `progress.step` with `tokens` this step.
    void tick(TrainProgress& progress, std::int64_t tokens);
    double seconds() const;

private:
    std::chrono::steady_clock::time_point m_start;
    std::int64_t m_startStep, m_steps, m_tokens = 0;
};

std::vector<torch::Tensor> trainableParameters(torch::nn::Module& module);

// Creates a trainer's --out folder; OutputError when it cannot.
void createOutDir(const std::filesystem::path& outDir);

// What one optimiser step tells the training loop.
struct StepReport {
    TrainProgress progress;   // loss, ce, lr, gradNorm, updateRate (the loop adds step, timing)
    std::int64_t tokens = 0;  // tokens this step trained on (for tokens/s)
    bool stopAfter = false;   // a rank was asked to stop: end after this step (data-parallel)
};

// The loop the three trainers share around their own step: cancellation, timing, progress,
// the divergence check, the checkpoint cadence and the checkpoint of a run stopped early.
struct TrainingLoop {
    std::string command;         // "train-base": names the run in the divergence error
    std::string divergenceHint;  // what to change when the loss is not finite
    std::int64_t steps = 0;      // run until this many steps are done
    // Whether Ctrl-C may stop the run before 0-based `step` (train-gate: between batches only;
    // data-parallel runs stop through StepReport::stopAfter instead).
    std::function<bool(std::int64_t step)> mayStopBefore;
    // Whether a checkpoint is due after `stepsDone` steps (the last step always has one).
    std::function<bool(std::int64_t stepsDone)> checkpointDue;
    bool writes = true;  // this rank writes checkpoints (rank 0 of a data-parallel run)
    // Writes the checkpoint and the trained files after `stepsDone` steps.
    std::function<void(std::int64_t stepsDone)> save;
};

// The loop of a data-parallel trainer (train-base, train-ttt): Ctrl-C stops a one-process run
// before a step (ranks stop through StepReport::stopAfter), a checkpoint every
// `checkpointEvery` steps, written by rank 0 alone.
TrainingLoop dataParallelLoop(std::string command, std::string divergenceHint, std::int64_t steps,
                              std::int64_t checkpointEvery, const DataParallel& parallel,
                              std::function<void(std::int64_t stepsDone)> save);

// Runs `step(s)` for s = result.startStep .. loop.steps - 1 and fills result.steps, finished and
// seconds. TrainingError when a step's loss is not finite (the last checkpoint is kept).
void runTrainingLoop(const TrainingLoop& loop, const TrainCallbacks& callbacks,
                     const std::function<StepReport(std::int64_t step)>& step, TrainResult& result);

// Data-parallel training starts only when every rank runs the same binary with the same
// checkpoint identity (options, corpus), from the same step (a resumed run reads --out on each
// rank) and the same parameters, and has at least one of `batchRows` rows to compute.
// DistributedError on every rank otherwise. Nothing without a session.
void agreeOnTraining(DataParallel& parallel, const nlohmann::json& identity,
                     const std::vector<std::int32_t>& corpus, std::int64_t startStep,
                     const std::vector<torch::Tensor>& parameters, std::int64_t batchRows);

// While alive and `on`: autocast to bfloat16 on `device` (torch.autocast's op lists: matmuls
// and linear layers in bf16, reductions and norms in float32). Losses are taken after it ends,
// from float32 logits.
class Bf16Autocast {
public:
    Bf16Autocast(bool on, const torch::Device& device);
    ~Bf16Autocast();
    Bf16Autocast(const Bf16Autocast&) = delete;
    Bf16Autocast& operator=(const Bf16Autocast&) = delete;

private:
    bool m_on, m_cuda, m_wasEnabled = false;
};

}  // namespace ponder::core
