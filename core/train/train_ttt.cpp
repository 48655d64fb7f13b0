// `train-ttt`: the TTT layer on a frozen backbone (GPT-2 or Gemma 3), exactly the published recipe
// (algorithm.md §6).
#include <array>
#include <cmath>

#include "core/dist/data_parallel_impl.h"
#include "core/model/backbone_impl.h"
#include "core/model/update_layer_impl.h"
#include "core/runtime/runtime.h"
#include "core/text/tokenizer.h"
#include "core/train/train_checkpoint_impl.h"
#include "core/train/train_common_impl.h"
#include "core/train/training.h"
#include "core/util/errors.h"
#include "core/util/sha256.h"

namespace ponder::core {
namespace fs = std::filesystem;

namespace {

void checkOptions(const TttTrainOptions& o, const BackboneInfo& backbone) {
    const auto bad = [](const std::string& what) {
        throw InputError("train-ttt: " + what, "see `ponder train-ttt --help`");
    };
    if (o.chunk < 16 || o.chunk % 16 != 0 || o.chunk > backbone.maxUnitTokens())
        bad("chunk must be a multiple of 16 within the backbone's positions");
    if (o.batch < 1 || o.steps < 1) bad("batch and steps must be positive");
    if (!(o.lr > 0) || !(o.gradClip > 0) || o.sslWeight < 0)
        bad("lr and grad clip must be positive, ssl weight >= 0");
    if (o.etaForm != "ponderttt" && o.etaForm != "ttt-lm")
        bad("eta form must be ponderttt or ttt-lm");
    if (o.convLag != 0 && o.convLag != 1) bad("conv lag must be 0 or 1");
    if (o.etaDecay && !(*o.etaDecay >= 0.0 && *o.etaDecay <= 10.0))
        bad("eta decay must be within [0, 10]");
    if (o.innerBaseLr && !(*o.innerBaseLr > 0.0 && *o.innerBaseLr <= 100.0))
        bad("inner base lr must be within (0, 100]");
    if (o.updateSteps < 1 || o.updateSteps > kMaxUpdateSteps)
        bad("update steps must be within [1, " + std::to_string(kMaxUpdateSteps) + "]");
    if (o.fastWeights != kFastWeightsTtt && o.fastWeights != kFastWeightsLora)
        bad("fast weights must be ttt-linear or lora");
    if (o.fastWeights == kFastWeightsLora) {
        if (o.loraRank < 1 || o.loraRank > backbone.hidden)
            bad("lora rank must be within [1, the backbone width]");
        if (!(o.loraAlpha >= 0) || !(o.loraDropout >= 0 && o.loraDropout < 1))
            bad("lora alpha must be >= 0 (0: the rank) and lora dropout within [0, 1)");
        if (o.etaDecay || o.innerBaseLr || o.etaForm != "ponderttt" || o.convLag != 1)
            bad("the eta and conv options are TTT-Linear's; LoRA fast weights have no inner step");
    }
}

}  // namespace

namespace {

// The layer's configuration: the published one for the backbone, changed by the options.
TttConfig layerConfig(const TttTrainOptions& options, const BackboneInfo& backbone) {
    const bool lora = options.fastWeights == kFastWeightsLora;
    auto config = lora ? TttConfig::forLora(backbone, options.loraRank)
                       : TttConfig::forBackboneInfo(backbone);
    if (lora) {
        config.loraAlpha = options.loraAlpha;
        config.loraDropout = options.loraDropout;
    } else {
        config.etaForm = options.etaForm;
        config.convLag = options.convLag;
        if (options.etaDecay) config.etaDecay = *options.etaDecay;
        if (options.innerBaseLr) config.baseLr = *options.innerBaseLr;
    }
    config.updateSteps = options.updateSteps;
    config.backboneSha256 = backboneSha256(options.modelDir);
    return config;
}

// What a resumed run must share with the checkpoint. Not `steps`: the learning rate is
// constant, so a finished training can be continued to more steps.
nlohmann::json checkpointIdentity(const TttTrainOptions& options, const TttConfig& config,
                                  std::size_t trainTokens) {
    nlohmann::json identity = {{"backbone_sha256", config.backboneSha256},
                               {"chunk", options.chunk},
                               {"batch", options.batch},
                               {"lr", options.lr},
                               {"ssl_weight", options.sslWeight},
                               {"eta_form", options.etaForm},
                               {"conv_lag", options.convLag},
                               {"seed", options.seed},
                               {"train_tokens", trainTokens}};
    // Only when set, so checkpoints written before these options existed still resume.
    if (options.etaDecay) identity["eta_decay"] = config.etaDecay;
    if (options.innerBaseLr) identity["ttt_base_lr"] = config.baseLr;
    if (options.updateSteps != 1) identity["update_steps"] = options.updateSteps;
    if (options.fastWeights == kFastWeightsLora) {  // so older TTT-Linear checkpoints resume
        identity["fast_weights"] = config.fastWeights;
        identity["lora_rank"] = config.loraRank;
        identity["lora_alpha"] = config.loraAlpha;
        identity["lora_dropout"] = config.loraDropout;
    }
    identity["bf16"] = options.bf16;  // a checkpoint resumes in its own precision only
    return identity;
}

// What one Adam step on a chunk reads and changes.
struct ChunkTrainer {
    const TttTrainOptions& options;
    Backbone& backbone;
    UpdateLayer& layer;
    torch::optim::Adam& optimizer;
    DataParallel& parallel;
    torch::Tensor positions;  // local positions 0 .. chunk - 1

    // One optimiser step on this rank's rows `ids` of the batch (`share` of its tokens);
    // {loss, ce, grad norm before clipping}. `seed` fixes the backbone's dropout masks.
    std::array<double, 3> step(const torch::Tensor& ids, double share, std::uint64_t seed) {
        auto& ttt = layer.module();
        if (ids.size(0) == 0) {
            // A batch with fewer rows than ranks (the corpus' last): this rank adds zeros to
            // the others' gradients and takes the same step.
            optimizer.zero_grad();
            for (auto& parameter : ttt.parameters())
                parameter.mutable_grad() = torch::zeros_like(parameter);
            return finish(0.0, 0.0);
        }
        torch::manual_seed(seed);
        torch::Tensor logits, ssl;
        {
            Bf16Autocast autocast(options.bf16, ids.device());
            torch::Tensor hidden;
            {
                torch::NoGradGuard frozen;  // no autograd graph through the frozen backbone
                hidden = backbone.hidden(ids, positions);
            }
            const auto updated = layer.forward(hidden, positions);
            logits = backbone.logits(updated.hidden.slice(1, 0, ids.size(1) - 1));
            const auto& stats = updated.stats;
            // LoRA has no reconstruction statistics: its loss is the CE alone.
            ssl = stats.init.defined() ? (stats.init.to(torch::kFloat32).mean() +
                                          stats.step0.to(torch::kFloat32).mean() +
                                          stats.step1.to(torch::kFloat32).mean()) /
                                             3.0
                                       : torch::zeros({}, torch::kFloat32).to(ids.device());
        }
        // Token-weighted CE over the batch (algorithm.md §6, §9 item 9).
        const auto ce = torch::nn::functional::cross_entropy(
            logits.to(torch::kFloat32).reshape({-1, logits.size(-1)}),
            ids.slice(1, 1).reshape({-1}));
        const auto loss = ce + options.sslWeight * ssl;
        optimizer.zero_grad();
        // Rows are equally long, so the batch's token mean is the shares' weighted sum.
        (loss * share).backward();
        return finish(loss.item<double>(), ce.item<double>());
    }

private:
    std::array<double, 3> finish(double loss, double ce) {
        auto& ttt = layer.module();
        parallel.sumGradients(ttt.parameters());
        const double gradNorm =
            torch::nn::utils::clip_grad_norm_(ttt.parameters(), options.gradClip);
        optimizer.step();
        return {loss, ce, gradNorm};
    }
};

}  // namespace

TrainResult trainTtt(const TttTrainOptions& options, const TrainCallbacks& callbacks) {
    const auto tokenizer = loadTokenizer(options.modelDir);
    const torch::Device device(resolveDevice(options.device));
    // --bf16 on Gemma also holds its weights in bfloat16; GPT-2's stay float32 under autocast.
    const bool bf16Weights = options.bf16 && backboneArch(options.modelDir) == kArchGemma3;
    auto backbone = loadBackbone(options.modelDir, device, bf16Weights);
    checkOptions(options, backbone->info());
    // The backbone is frozen: no parameter of it learns (algorithm.md §6), but its dropout
    // stays on during training as in the published code.
    for (auto& parameter : backbone->parameters())
        parameter.set_requires_grad(false);
    backbone->train(options.backboneDropout);

    const auto config = layerConfig(options, backbone->info());
    auto layer = UpdateLayer::create(config, options.seed);
    auto& ttt = layer.module();
    ttt.to(device);
    ttt.train();
    // UPDATE_N: N steps per chunk at lr/N (algorithm.md §6).
    torch::optim::Adam optimizer(
        ttt.parameters(), torch::optim::AdamOptions(options.lr / double(options.updateSteps)));
    const auto plan =
        trainingPlan(*tokenizer, options.corpus, options.chunk, config.miniBatch, options.batch);
    createOutDir(options.outDir);
    const auto identity = checkpointIdentity(options, config, plan.stream.size());
    TrainResult result;
    result.trainTokens = std::int64_t(plan.stream.size());
    if (const auto state = loadTrainCheckpoint(options.outDir, "ttt", identity, ttt, optimizer))
        result.startStep = state->step;
    DataParallel parallel(options.session);
    agreeOnTraining(parallel, identity, plan.stream, result.startStep, ttt.parameters(),
                    options.batch);

    ChunkTrainer trainer{
        options,
        *backbone,
        layer,
        optimizer,
        parallel,
        torch::arange(options.chunk, torch::TensorOptions().dtype(torch::kInt64).device(device))};
    const auto step = [&](std::int64_t s) {
        parallel.throwIfFailed();
        // Units in data order (batch, then chunk 0 and 1), cycling over the corpus; this
        // rank's rows of it.
        const auto& unit = plan.units[std::size_t(s) % plan.units.size()];
        const auto [firstRow, lastRow] = parallel.rows(unit.sequences);
        const double share = parallel.share(unit.sequences);
        const auto ids = torch::tensor(plan.unitIds(unit), torch::kInt64)
                             .view({unit.sequences, unit.tokens})
                             .slice(0, firstRow, lastRow)
                             .to(device);
        // Backbone dropout masks; pass 0 keeps UPDATE_1's seeds.
        const auto seed = [&](std::int64_t pass) {
            return stepSeed(options.seed, s * options.updateSteps + pass);
        };
        auto first = trainer.step(ids, share, seed(0));
        for (std::int64_t pass = 1; pass < options.updateSteps; ++pass)
            trainer.step(ids, share, seed(pass));
        // The whole batch's loss, and whether any rank was asked to stop after this step.
        const auto summed =
            parallel.sum({first[0] * share, first[1] * share,
                          callbacks.cancel && callbacks.cancel->load() ? 1.0 : 0.0});
        StepReport report;
        report.stopAfter = parallel.distributed() && summed[2] > 0;
        report.progress.loss = summed[0];
        report.progress.ce = summed[1];
        report.progress.lr = options.lr / double(options.updateSteps);
        report.progress.gradNorm = first[2];
        report.tokens = unit.sequences * unit.tokens;
        return report;
    };
    const auto save = [&](std::int64_t done) {
        saveTrainCheckpoint(options.outDir, {"ttt", done, identity}, ttt, optimizer);
        layer.save(options.outDir);
    };
    runTrainingLoop(dataParallelLoop("train-ttt", "lower {--lr}; the last checkpoint is kept",
                                     options.steps, options.checkpointEvery, parallel, save),
                    callbacks, step, result);
    return result;
}

}  // namespace ponder::core
