// `train-base`: a GPT-2-architecture model from scratch on a code corpus, written as a
// Hugging Face model directory (the bundled default model's backbone).
#include <cmath>
#include <random>

#include "core/model/gpt2_model_impl.h"
#include "core/model/model_dir.h"
#include "core/runtime/runtime.h"
#include "core/text/bpe_tokenizer.h"
#include "core/train/train_checkpoint_impl.h"
#include "core/train/train_common_impl.h"
#include "core/train/training.h"
#include "core/util/errors.h"

namespace ponder::core {
namespace fs = std::filesystem;

double warmupCosineLr(const BaseTrainOptions& options, std::int64_t step) {
    if (step < options.warmup) return options.lr * double(step + 1) / double(options.warmup);
    const double span = double(std::max<std::int64_t>(1, options.steps - options.warmup));
    const double progress = std::min(1.0, double(step - options.warmup) / span);
    const double floor = options.lr * options.minLrRatio;
    return floor + 0.5 * (options.lr - floor) * (1.0 + std::cos(M_PI * progress));
}

namespace {

void checkOptions(const BaseTrainOptions& o) {
    const auto bad = [](const std::string& what) {
        throw InputError("train-base: " + what, "see `ponder train-base --help`");
    };
    if (o.sequence < 2 || o.sequence > o.config.nPositions)
        bad("sequence must be in [2, n_positions]");
    if (o.batch < 1 || o.steps < 1 || o.warmup < 0) bad("batch and steps must be positive");
    if (!(o.lr > 0) || !(o.gradClip > 0) || o.minLrRatio < 0 || o.minLrRatio > 1)
        bad("lr and grad clip must be positive, min-lr-ratio in [0, 1]");
    if (o.config.nEmbd % o.config.nHead != 0) bad("n_embd must be divisible by n_head");
}

// Saves the model directory: config.json, model.safetensors and the tokenizer files.
void writeModelDir(Gpt2Model& model, const BaseTrainOptions& options) {
    saveGpt2Config(model->config(), options.outDir / "config.json");
    saveGpt2Weights(model, options.outDir / "model.safetensors");
    copyTokenizerFiles(options.tokenizerDir, options.outDir);
}

}  // namespace

namespace {

// AdamW with weight decay on matrices only (embeddings and Conv1D weights), as GPT-2 recipes do.
torch::optim::AdamW makeOptimizer(Gpt2Model& model, const BaseTrainOptions& options) {
    std::vector<torch::Tensor> decay, noDecay;
    for (const auto& item : model->named_parameters())
        (item.value().dim() >= 2 ? decay : noDecay).push_back(item.value());
    auto defaults = torch::optim::AdamWOptions(options.lr)
                        .betas({options.beta1, options.beta2})
                        .weight_decay(options.weightDecay);
    auto noDecayOptions = std::make_unique<torch::optim::AdamWOptions>(defaults);
    noDecayOptions->weight_decay(0.0);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(defaults));
    groups.emplace_back(noDecay, std::move(noDecayOptions));
    return torch::optim::AdamW(std::move(groups), defaults);
}

// What a resumed run must share with its checkpoint: the settings (training.h) but the corpus
// as given, with the tokenizer's vocabulary and the stream it made instead.
nlohmann::json checkpointIdentity(const BaseTrainOptions& options, std::size_t trainTokens) {
    auto identity = trainingSettings(options);
    identity.erase("corpus");
    identity["vocab_size"] = options.config.vocabSize;
    identity["train_tokens"] = trainTokens;
    return identity;
}

// `batch` windows of sequence + 1 tokens at offsets drawn from the step's seed, so a resumed
// run draws what an uninterrupted one would.
std::vector<std::int64_t> drawWindows(const std::vector<std::int32_t>& stream,
                                      const BaseTrainOptions& options, std::int64_t step) {
    const auto limit = std::int64_t(stream.size()) - options.sequence - 1;
    std::vector<std::int64_t> window(std::size_t(options.batch * (options.sequence + 1)));
    std::mt19937_64 draw(stepSeed(options.seed, step));
    std::uniform_int_distribution<std::int64_t> offset(0, std::max<std::int64_t>(0, limit));
    for (std::int64_t row = 0; row < options.batch; ++row) {
        const auto start = offset(draw);
        for (std::int64_t i = 0; i <= options.sequence; ++i)
            window[std::size_t(row * (options.sequence + 1) + i)] = stream[std::size_t(start + i)];
    }
    return window;
}

}  // namespace

TrainResult trainBase(const BaseTrainOptions& requested, const TrainCallbacks& callbacks) {
    auto options = requested;
    const auto tokenizer = BpeTokenizer::load(options.tokenizerDir);
    const auto eot = tokenizer.endOfTextId();
    if (!eot)
        throw TokenizerError(
            "the tokenizer in '" + options.tokenizerDir.string() + "' has no <|endoftext|>",
            "train it with `ponder train-tokenizer`, which adds it");
    options.config.vocabSize = std::int64_t(tokenizer.vocabSize());
    options.config.bosTokenId = options.config.eosTokenId = *eot;
    checkOptions(options);
    const auto plan = trainingPlan(tokenizer, options.corpus, 16, 16, 1);
    const auto& stream = plan.stream;
    if (std::int64_t(stream.size()) <= options.sequence)
        throw InputError("the corpus has " + std::to_string(stream.size()) +
                             " tokens, fewer than one training sequence",
                         "add files or lower {--sequence}");

    const torch::Device device(resolveDevice(options.device));
    torch::manual_seed(options.seed);
    Gpt2Model model(options.config);
    model->initialiseWeights(options.seed);
    model->to(device);
    model->train();
    auto optimizer = makeOptimizer(model, options);
    createOutDir(options.outDir);
    const auto identity = checkpointIdentity(options, stream.size());
    TrainResult result;
    result.trainTokens = std::int64_t(stream.size());
    if (const auto state = loadTrainCheckpoint(options.outDir, "base", identity, *model, optimizer))
        result.startStep = state->step;
    DataParallel parallel(options.session);
    agreeOnTraining(parallel, identity, stream, result.startStep, model->parameters(),
                    options.batch);
    // A pair, not a structured binding: the step lambda uses both, and C++17 lambdas cannot
    // capture structured bindings (GCC allows it, clang does not).
    const auto rankRows = parallel.rows(options.batch);
    const double share = parallel.share(options.batch);

    const auto step = [&](std::int64_t s) {
        parallel.throwIfFailed();
        const auto ids = torch::tensor(drawWindows(stream, options, s), torch::kInt64)
                             .view({options.batch, options.sequence + 1})
                             .slice(0, rankRows.first, rankRows.second)  // this rank's rows
                             .to(device);
        torch::manual_seed(stepSeed(options.seed ^ 0xD0D0, s));  // dropout masks
        const double lr = warmupCosineLr(options, s);
        for (auto& group : optimizer.param_groups())
            static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
        torch::Tensor logits;
        {
            Bf16Autocast autocast(options.bf16, device);
            logits = model->forward(ids.slice(1, 0, options.sequence));
        }
        const auto loss = torch::nn::functional::cross_entropy(
            logits.to(torch::kFloat32).reshape({-1, logits.size(-1)}),
            ids.slice(1, 1).reshape({-1}));
        optimizer.zero_grad();
        (loss * share).backward();
        parallel.sumGradients(model->parameters());
        StepReport report;
        report.progress.gradNorm =
            torch::nn::utils::clip_grad_norm_(model->parameters(), options.gradClip);
        optimizer.step();
        // The whole batch's loss, and whether any rank was asked to stop after this step.
        const auto summed =
            parallel.sum({loss.item<double>() * share,
                          callbacks.cancel && callbacks.cancel->load() ? 1.0 : 0.0});
        report.stopAfter = parallel.distributed() && summed[1] > 0;
        report.progress.loss = report.progress.ce = summed[0];
        report.progress.lr = lr;
        report.tokens = options.batch * options.sequence;
        return report;
    };
    const auto save = [&](std::int64_t done) {
        saveTrainCheckpoint(options.outDir, {"base", done, identity}, *model, optimizer);
        writeModelDir(model, options);
    };
    runTrainingLoop(
        dataParallelLoop("train-base",
                         "lower {--lr} or raise {--warmup}; the last checkpoint is kept",
                         options.steps, options.checkpointEvery, parallel, save),
        callbacks, step, result);
    return result;
}

}  // namespace ponder::core
