// Shared training helpers: the packed stream, seeds, timing, the training loop.
#include "core/train/train_common_impl.h"

#include <ATen/autocast_mode.h>

#include <cmath>
#include <system_error>
#include <utility>

#include "core/runtime/torch_compat_impl.h"
#include "core/util/errors.h"
#include "core/util/sha256.h"
#include "core/util/splitmix64.h"

namespace ponder::core {

EvalPlan trainingPlan(const Tokenizer& tokenizer, const CorpusSelection& corpus, std::int64_t chunk,
                      std::int64_t miniBatch, std::int64_t batch) {
    PlanOptions options;
    options.mode = EvalMode::Paper;
    options.chunk = chunk;
    options.miniBatch = miniBatch;
    options.paperBatch = batch;
    return buildEvalPlan(tokenizer, corpus.inputs, options, corpus.extensions);
}

std::uint64_t stepSeed(std::uint64_t seed, std::int64_t step) {
    // splitmix64 of (seed, step): well-mixed, so nearby steps get unrelated seeds.
    return mix64(seed * kGoldenGamma + std::uint64_t(step) + 1) & 0x7FFFFFFFFFFFFFFFull;
}

StepClock::StepClock(std::int64_t startStep, std::int64_t steps)
    : m_start(std::chrono::steady_clock::now()), m_startStep(startStep), m_steps(steps) {}

double StepClock::seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
}

void StepClock::tick(TrainProgress& progress, std::int64_t tokens) {
    m_tokens += tokens;
    progress.steps = m_steps;
    progress.elapsedSeconds = seconds();
    progress.tokensPerSecond = double(m_tokens) / std::max(progress.elapsedSeconds, 1e-9);
    const auto done = progress.step - m_startStep;
    progress.etaSeconds =
        done > 0 ? progress.elapsedSeconds / double(done) * double(m_steps - progress.step) : 0.0;
}

void agreeOnTraining(DataParallel& parallel, const nlohmann::json& identity,
                     const std::vector<std::int32_t>& corpus, std::int64_t startStep,
                     const std::vector<torch::Tensor>& parameters, std::int64_t batchRows) {
    if (!parallel.distributed()) return;
    if (parallel.size() > batchRows)
        throw RunStoppedError(
            std::to_string(parallel.size()) + " ranks for a batch of " + std::to_string(batchRows) +
                " rows leave a rank without work",
            "use at most " + std::to_string(batchRows) + " ranks, or a larger {--batch}");
    parallel.agreeOnBinary();
    parallel.agree("training options", sha256Hex(identity.dump()),
                   "give every rank the same options and {--model}");
    parallel.agree("corpus",
                   sha256Hex({reinterpret_cast<const char*>(corpus.data()),
                              corpus.size() * sizeof(std::int32_t)}),
                   "every rank needs the same corpus files at the same paths");
    parallel.agree(
        "start step", std::to_string(startStep),
        "a resumed run reads its checkpoint from {--out} on every rank: put {--out} on a "
        "filesystem they all see");
    parallel.agree("parameters", tensorsDigest(parameters),
                   "every rank must start from the same checkpoint or seed");
}

void createOutDir(const std::filesystem::path& outDir) {
    std::error_code error;
    std::filesystem::create_directories(outDir, error);
    if (error)
        throw OutputError("cannot create '" + outDir.string() + "': " + error.message(),
                          "choose a writable {--out} folder");
}

TrainingLoop dataParallelLoop(std::string command, std::string divergenceHint, std::int64_t steps,
                              std::int64_t checkpointEvery, const DataParallel& parallel,
                              std::function<void(std::int64_t stepsDone)> save) {
    TrainingLoop loop;
    loop.command = std::move(command);
    loop.divergenceHint = std::move(divergenceHint);
    loop.steps = steps;
    loop.mayStopBefore = [alone = !parallel.distributed()](std::int64_t) { return alone; };
    loop.checkpointDue = [checkpointEvery](std::int64_t done) {
        return done % checkpointEvery == 0;
    };
    loop.writes = parallel.writes();
    loop.save = std::move(save);
    return loop;
}

void runTrainingLoop(const TrainingLoop& loop, const TrainCallbacks& callbacks,
                     const std::function<StepReport(std::int64_t step)>& step,
                     TrainResult& result) {
    const auto checkpoint = [&](std::int64_t stepsDone) {
        loop.save(stepsDone);
        if (callbacks.onCheckpoint) callbacks.onCheckpoint(stepsDone);
    };
    StepClock clock(result.startStep, loop.steps);
    std::int64_t s = result.startStep;
    for (; s < loop.steps; ++s) {
        if (loop.mayStopBefore(s) && callbacks.cancel && callbacks.cancel->load()) break;
        StepReport report = step(s);
        report.progress.step = s + 1;
        clock.tick(report.progress, report.tokens);
        if (!std::isfinite(report.progress.loss))
            throw TrainingError(loop.command + " diverged at step " + std::to_string(s + 1) +
                                    " (loss is not finite)",
                                loop.divergenceHint);
        if (callbacks.onStep) callbacks.onStep(report.progress);
        if (loop.writes && (loop.checkpointDue(s + 1) || s + 1 == loop.steps)) checkpoint(s + 1);
        if (report.stopAfter) {
            ++s;
            break;
        }
    }
    result.steps = s;
    result.finished = s >= loop.steps;
    if (!result.finished && s > result.startStep && loop.writes) checkpoint(s);
    result.seconds = clock.seconds();
}

std::vector<torch::Tensor> trainableParameters(torch::nn::Module& module) {
    std::vector<torch::Tensor> out;
    for (const auto& parameter : module.parameters())
        if (parameter.requires_grad()) out.push_back(parameter);
    return out;
}

Bf16Autocast::Bf16Autocast(bool on, const torch::Device& device)
    : m_on(on), m_cuda(device.is_cuda()) {
    if (!m_on) return;
    m_wasEnabled = autocastEnabled(m_cuda);
    setBf16Autocast(m_cuda, true);
}

Bf16Autocast::~Bf16Autocast() {
    if (!m_on) return;
    setBf16Autocast(m_cuda, m_wasEnabled);
    // The casts of weights cached for this forward: the optimiser changes them next.
    at::autocast::clear_cache();
}

}  // namespace ponder::core
