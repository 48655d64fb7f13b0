// `ponder train-base` and `ponder train-ttt`: option parsing, progress on stderr, Ctrl-C as a
// clean stop (a checkpoint is written), and loss curves stored in the run database (--db).
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "app/cli/eval_runner.h"
#include "app/cli/launcher.h"
#include "core/store/run_store.h"
#include "core/train/training.h"
#include "core/util/errors.h"

namespace ponder::app {

namespace {

// The options every trainer takes, with `defaults`' values (a core options struct).
template <typename TrainOptions>
Options commonTrainOptions(const TrainOptions& defaults) {
    return {extensionOption(),
            option("--steps", "N", "optimizer steps in all (a resumed run goes on to N)",
                   shown(defaults.steps)),
            option("--batch", "N", "sequences per step", shown(defaults.batch)),
            option("--lr", "LR", "learning rate", shown(defaults.lr)),
            option("--clip", "C", "global gradient-norm clip", shown(defaults.gradClip)),
            option("--seed", "N", "seed of the initial weights, data order and dropout",
                   shown(defaults.seed)),
            option("--checkpoint-every", "N", "steps between resumable checkpoints",
                   shown(defaults.checkpointEvery)),
            deviceOption(defaults.device),
            threadsOption(),
            databaseOption("the run's loss curve"),
            quietOption()};
}

Options bf16Option() {
    return {flag("--bf16", "the forward pass under bfloat16 autocast (weights stay float32)")};
}

core::CorpusSelection corpusFrom(const ParsedArgs& args) {
    if (args.positionals().empty()) throw UsageError("expected at least one CORPUS file or folder");
    core::CorpusSelection corpus;
    corpus.inputs.assign(args.positionals().begin(), args.positionals().end());
    corpus.extensions = extensionsFrom(args);
    return corpus;
}

std::string duration(double seconds) {
    char text[32];
    if (seconds >= 3600)
        std::snprintf(text, sizeof text, "%.0fh%02.0fm", std::floor(seconds / 3600),
                      std::fmod(seconds, 3600) / 60);
    else
        std::snprintf(text, sizeof text, "%.0fm%02.0fs", std::floor(seconds / 60),
                      std::fmod(seconds, 60));
    return text;
}

// Progress lines every ~2 s, curve points buffered and committed at each checkpoint.
class TrainReporter {
public:
    // `reports` false (a rank other than 0): no lines, no database.
    TrainReporter(const ParsedArgs& args, const std::string& kind, const std::string& outDir,
                  const nlohmann::json& settings, const std::string& device, int threads,
                  bool reports = true)
        : m_quiet(args.flag("--quiet") || !reports) {
        if (const auto db = args.value("--db"); db && reports) {
            m_store.emplace(*db);
            m_trainingId = m_store->beginTraining(kind, outDir, settings.dump(), device, threads);
        }
    }

    core::TrainCallbacks callbacks() {
        core::TrainCallbacks callbacks;
        callbacks.cancel = InterruptGuard::flag();
        callbacks.onStep = [this](const core::TrainProgress& progress) { onStep(progress); };
        callbacks.onPrepare = [this](std::size_t done, std::size_t total, double eta) {
            if (m_quiet || (done != total && done % 50 != 0)) return;
            std::cerr << "  evaluating the corpus: unit " << done << "/" << total << "  ETA "
                      << duration(eta) << "\n";
        };
        callbacks.onCheckpoint = [this](std::int64_t step) {
            flush();
            if (!m_quiet) std::cerr << "  checkpoint at step " << step << "\n";
        };
        return callbacks;
    }

    void finish(const core::TrainResult& result) {
        flush();
        if (m_store)
            m_store->finishTraining(m_trainingId, result.finished ? core::RunStatus::Complete
                                                                  : core::RunStatus::Cancelled);
    }

private:
    void onStep(const core::TrainProgress& p) {
        m_pending.push_back({p.step, p.loss, p.ce, p.lr, p.gradNorm, p.tokensPerSecond,
                             p.elapsedSeconds, p.updateRate});
        const bool last = p.step == p.steps;
        if (m_quiet || (!last && p.elapsedSeconds - m_lastPrinted < 2.0 && m_printed)) return;
        m_printed = true;
        m_lastPrinted = p.elapsedSeconds;
        char line[256];
        std::snprintf(line, sizeof line,
                      "  step %lld/%lld  loss %.4f  ce %.4f  lr %.2e  |g| %.2f  %.0f tok/s  ETA %s",
                      (long long)p.step, (long long)p.steps, p.loss, p.ce, p.lr, p.gradNorm,
                      p.tokensPerSecond, duration(p.etaSeconds).c_str());
        std::cerr << line;
        if (!std::isnan(p.updateRate)) std::cerr << "  rate " << p.updateRate;
        std::cerr << "\n";
    }

    void flush() {
        if (m_store && !m_pending.empty()) m_store->appendTrainingPoints(m_trainingId, m_pending);
        m_pending.clear();
    }

    bool m_quiet;
    bool m_printed = false;
    double m_lastPrinted = 0;
    std::optional<core::RunStore> m_store;
    std::int64_t m_trainingId = -1;
    std::vector<core::TrainingPoint> m_pending;
};

// A training command's place in a multi-process run (launcher.h): the launcher's exit status
// when this process only started the ranks, else the session when it is one rank of several.
struct TrainingWorld {
    std::optional<int> launcherStatus;
    std::unique_ptr<core::RankSession> session;
    bool reports() const { return !session || session->isRoot(); }
};

TrainingWorld joinTraining(const std::string& command, const Arguments& rawArgs,
                           const ParsedArgs& args) {
    TrainingWorld world;
    const auto start = distributedStart(args);
    if (start.role == DistributedStart::Role::Launcher)
        world.launcherStatus = launchRanks(command, rawArgs, start);
    else if (start.role == DistributedStart::Role::Rank)
        world.session = std::make_unique<core::RankSession>(start.world);
    return world;
}

// Runs `train`; an error on this rank stops the others at once instead of at their timeout.
template <typename Train>
core::TrainResult trainOnRank(TrainingWorld& world, const Train& train) {
    try {
        auto result = train();
        if (world.session) world.session->leave();
        return result;
    } catch (...) {
        if (world.session && !world.session->failure())
            world.session->abort("rank " + std::to_string(world.session->rank()) +
                                 " failed: " + core::describeError(std::current_exception()).what);
        throw;
    }
}

void printResult(const core::TrainResult& result, const std::string& outDir) {
    if (result.startStep > 0) std::cerr << "resumed from step " << result.startStep << "\n";
    std::cout << (result.finished ? "finished" : "stopped") << " at step " << result.steps
              << " after " << duration(result.seconds) << "; " << result.trainTokens
              << " tokens in the training stream; wrote " << outDir << "\n";
}

// What train-base and train-ttt share after their own options: seed, checkpoint cadence,
// device (this rank's), bf16 and threads, then the run on this rank, reported by rank 0.
template <typename TrainOptions, typename Train>
int trainDataParallel(const ParsedArgs& args, TrainingWorld& world, const char* kind,
                      TrainOptions& options, Train train) {
    options.seed = std::uint64_t(args.integerOr("--seed", std::int64_t(options.seed)));
    options.checkpointEvery = args.integerOr("--checkpoint-every", options.checkpointEvery);
    options.device = args.valueOr("--device", options.device);
    options.bf16 = args.flag("--bf16");
    options.device = rankDevice(options.device, world.session.get());
    options.session = world.session.get();
    if (options.checkpointEvery < 1) throw UsageError("--checkpoint-every must be positive");
    const int threads = applyThreads(args);

    const auto settings = core::trainingSettings(options);
    TrainReporter reporter(args, kind, options.outDir.string(), settings, options.device, threads,
                           world.reports());
    InterruptGuard interrupt;
    const auto result = trainOnRank(world, [&] { return train(options, reporter.callbacks()); });
    reporter.finish(result);
    if (world.reports()) printResult(result, options.outDir.string());
    return 0;
}

}  // namespace

Command trainBaseCommand() {
    const core::BaseTrainOptions defaults;
    const auto& shape = defaults.config;
    const Options own = {
        option("--tokenizer", "DIR", "vocab.json + merges.txt (ponder train-tokenizer)"),
        option("--out", "DIR", "the model folder written"),
        option("--layers", "N", "transformer layers", shown(shape.nLayer)),
        option("--embd", "N", "width", shown(shape.nEmbd)),
        option("--heads", "N", "attention heads", shown(shape.nHead)),
        option("--positions", "N", "positions", shown(shape.nPositions)),
        option("--sequence", "N", "tokens per training window", shown(defaults.sequence)),
        option("--warmup", "N", "linear warm-up steps", shown(defaults.warmup)),
        option("--min-lr-ratio", "R", "the cosine decay's floor, as a share of --lr",
               shown(defaults.minLrRatio)),
        option("--weight-decay", "W", "AdamW's weight decay", shown(defaults.weightDecay)),
        option("--dropout", "P", "GPT-2's three dropouts", shown(shape.residDropout))};
    return {
        "train-base",
        "train a GPT-2-architecture model from scratch on a code corpus",
        {{"CORPUS... --tokenizer DIR --out DIR",
          own + commonTrainOptions(defaults) + bf16Option() + distributedOptionSpecs(),
          "AdamW, linear warmup then cosine decay, global-norm clipping, dropout; random\n"
          "windows of the <|endoftext|>-packed corpus. Writes a Hugging Face GPT-2 directory\n"
          "(config.json, model.safetensors, tokenizer) and OUT/checkpoint-base each checkpoint;\n"
          "running the same command again resumes. Ctrl-C or SIGTERM stops after a checkpoint.\n"
          "--bf16: matmuls in bfloat16 (AMX / AVX512-BF16), weights and AdamW in float32;\n"
          "`ponder bench --train` measures what it gains.\n"
          "--nproc N (and the multi-machine options, or torchrun's variables): data-parallel,\n"
          "each rank its rows of every batch, gradients summed before the step, rank 0 alone\n"
          "writes; resume with any N at the same --batch. Ranks draw their own dropout masks:\n"
          "only --dropout 0 equals one process (within rounding)."}},
        runTrainBase};
}

int runTrainBase(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, trainBaseCommand().forms.front().options);
    auto world = joinTraining("train-base", rawArgs, args);
    if (world.launcherStatus) return *world.launcherStatus;
    core::BaseTrainOptions options;
    options.corpus = corpusFrom(args);
    const auto tokenizer = args.value("--tokenizer");
    const auto out = args.value("--out");
    if (!tokenizer || !out) throw UsageError("--tokenizer DIR and --out DIR are required");
    options.tokenizerDir = *tokenizer;
    options.outDir = *out;
    auto& shape = options.config;
    shape.nLayer = args.integerOr("--layers", shape.nLayer);
    shape.nEmbd = args.integerOr("--embd", shape.nEmbd);
    shape.nHead = args.integerOr("--heads", shape.nHead);
    shape.nPositions = args.integerOr("--positions", shape.nPositions);
    // GPT-2's three dropouts (embeddings, attention, residual) at once.
    const double dropout = args.numberOr("--dropout", shape.residDropout);
    if (!(dropout >= 0 && dropout < 1)) throw UsageError("--dropout must be in [0, 1)");
    options.config.residDropout = options.config.embdDropout = options.config.attnDropout = dropout;
    options.sequence = args.integerOr("--sequence", options.sequence);
    options.batch = args.integerOr("--batch", options.batch);
    options.steps = args.integerOr("--steps", options.steps);
    options.warmup = args.integerOr("--warmup", options.warmup);
    options.lr = args.numberOr("--lr", options.lr);
    options.minLrRatio = args.numberOr("--min-lr-ratio", options.minLrRatio);
    options.weightDecay = args.numberOr("--weight-decay", options.weightDecay);
    options.gradClip = args.numberOr("--clip", options.gradClip);
    return trainDataParallel(args, world, "base", options, core::trainBase);
}

Command trainTttCommand() {
    const core::TttTrainOptions defaults;
    const Options own = {
        option("--model", "DIR", "the frozen backbone (GPT-2 or Gemma 3)"),
        option("--out", "DIR", "where ttt.safetensors + ttt.json go", "the model folder"),
        option("--chunk", "N", "tokens per chunk", shown(defaults.chunk)),
        option("--ssl-weight", "W", "weight of the reconstruction statistics in the loss",
               shown(defaults.sslWeight)),
        flag("--no-dropout", "the frozen backbone without its dropout"),
        option("--eta-form", "ponderttt|ttt-lm", "the inner step size's form", defaults.etaForm),
        option("--conv-lag", "1|0", "the key convolution's lag", shown(defaults.convLag)),
        option("--eta-decay", "L", "the inner step's decay", "published for the width"),
        option("--inner-lr", "LR", "the inner step's base lr", "published for the width"),
        option("--update-steps", "N", "UPDATE_N: N Adam steps per chunk at lr/N",
               shown(defaults.updateSteps)),
        option("--fast-weights", "ttt-linear|lora", "the layer trained", defaults.fastWeights),
        option("--lora-rank", "R", "lora: the adapters' rank", shown(defaults.loraRank)),
        option("--lora-alpha", "A", "lora: the adapters' alpha", "the rank"),
        option("--lora-dropout", "P", "lora: the adapters' dropout", shown(defaults.loraDropout))};
    return {
        "train-ttt",
        "train the TTT layer on a frozen GPT-2 or Gemma 3 (the published recipe)",
        {{"--model DIR CORPUS...",
          own + commonTrainOptions(defaults) + bf16Option() + distributedOptionSpecs(),
          "algorithm.md section 6: packed 2-chunk windows, 16 per batch, one Adam step per\n"
          "chunk with local positions; loss = CE of the UPDATE path + ssl-weight x mean of the\n"
          "three last-token reconstruction statistics; backbone frozen with dropout on.\n"
          "Writes ttt.safetensors + ttt.json and a resumable OUT/checkpoint-ttt (run again with\n"
          "a larger --steps to train on). Works for any GPT-2 directory, real GPT-2 small-xl\n"
          "too, and Gemma 3 (an RMS fast norm and projections to heads x head_dim of the\n"
          "backbone, the published attachment). --bf16 as for train-base; on Gemma 3 it also\n"
          "holds the backbone's weights in bfloat16. --eta-decay and --inner-lr default to the\n"
          "published values (section 2.4: lambda 0 at width 768 and 0.3 elsewhere).\n"
          "--update-steps N is the published UPDATE_N baseline; ttt.json records N and the\n"
          "cost columns count an UPDATE as 1 + 2N. --nproc N: data-parallel as for train-base\n"
          "(--no-dropout equals one process). --fast-weights lora trains the LoRA layer of\n"
          "section 2.7 instead (causal single-head attention with rank-r adapters on its query\n"
          "and value): the loss is the CE alone, and its runs have no reconstruction signals."}},
        runTrainTtt};
}

int runTrainTtt(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, trainTttCommand().forms.front().options);
    auto world = joinTraining("train-ttt", rawArgs, args);
    if (world.launcherStatus) return *world.launcherStatus;
    core::TttTrainOptions options;
    const auto model = args.value("--model");
    if (!model) throw UsageError("--model DIR (the frozen backbone) is required");
    options.modelDir = *model;
    options.outDir = args.valueOr("--out", *model);
    options.corpus = corpusFrom(args);
    options.chunk = args.integerOr("--chunk", options.chunk);
    options.batch = args.integerOr("--batch", options.batch);
    options.steps = args.integerOr("--steps", options.steps);
    options.lr = args.numberOr("--lr", options.lr);
    options.gradClip = args.numberOr("--clip", options.gradClip);
    options.sslWeight = args.numberOr("--ssl-weight", options.sslWeight);
    options.backboneDropout = !args.flag("--no-dropout");
    options.etaForm = args.valueOr("--eta-form", options.etaForm);
    options.convLag = args.integerOr("--conv-lag", options.convLag);
    if (args.value("--eta-decay")) options.etaDecay = args.numberOr("--eta-decay", 0.0);
    if (args.value("--inner-lr")) options.innerBaseLr = args.numberOr("--inner-lr", 1.0);
    options.updateSteps = args.integerOr("--update-steps", options.updateSteps);
    options.fastWeights = args.valueOr("--fast-weights", options.fastWeights);
    const bool lora = options.fastWeights == core::kFastWeightsLora;
    for (const char* name : {"--lora-rank", "--lora-alpha", "--lora-dropout"})
        if (!lora && args.value(name))
            throw UsageError(std::string(name) + " goes with --fast-weights lora");
    options.loraRank = args.integerOr("--lora-rank", options.loraRank);
    options.loraAlpha = args.numberOr("--lora-alpha", options.loraAlpha);
    options.loraDropout = args.numberOr("--lora-dropout", options.loraDropout);
    return trainDataParallel(args, world, "ttt", options, core::trainTtt);
}

Command trainGateCommand() {
    const core::GateTrainOptions defaults;
    const Options own = {
        option("--model", "DIR", "backbone and TTT layer (both frozen)"),
        option("--out", "GATE_DIR", "where gate.safetensors + gate.json go"),
        option("--kind", "gumbel|ranknet|listnet", "the gate's training", defaults.kind),
        option("--rate", "R", "target update rate", shown(defaults.rate)),
        option("--cost", "abs|hinge", "gumbel's rate cost", defaults.cost),
        option("--chunk", "N", "tokens per chunk", shown(defaults.chunk)),
        option("--sequence-chunks", "N", "consecutive chunks per training sequence",
               shown(defaults.sequenceChunks)),
        option("--warmup", "N", "gumbel: steps before the rate cost applies",
               shown(defaults.warmup)),
        option("--beta", "B", "gumbel: weight of L_TTT p", shown(defaults.beta)),
        option("--gamma", "G", "gumbel: weight of the rate cost", shown(defaults.gamma)),
        option("--listnet-temperature", "T", "listnet's temperature",
               shown(defaults.listnetTemperature)),
        option("--max-units", "N", "the corpus' first N file-mode units", "all"),
        forceCheckpointOption(),
        flag("--train-ttt", "the TTT layer learns with the gate (published joint training)"),
        flag("--fresh-ttt", "with --train-ttt: from a freshly initialised layer"),
        flag("--advantage-gradient", "with --train-ttt: ranking gradients reach the layer")};
    return {"train-gate",
            "train a learned gate (Gumbel-Softmax, RankNet or ListNet) on a model",
            {{"--model DIR --out GATE_DIR CORPUS...", own + commonTrainOptions(defaults),
              "The earlier releases' learned gates (docs/gates.md): the model's backbone and TTT\n"
              "layer stay frozen (unless --train-ttt). First the corpus is evaluated once in file\n"
              "mode (cached in GATE_DIR/gate-units.json); then the gate trains on sequences of\n"
              "--sequence-chunks consecutive chunks, --batch sequences per step and one Adam step\n"
              "per chunk.\n"
              "gumbel: straight-through Gumbel-Softmax, CE of the blended logits + beta L_TTT p +\n"
              "gamma cost(p, rate) after --warmup; ranknet / listnet: a ranking loss on the\n"
              "advantage. Writes gate.safetensors + gate.json (use with --policy gate:GATE_DIR)\n"
              "and a resumable GATE_DIR/checkpoint-gate; running it again resumes. Ctrl-C or\n"
              "SIGTERM stops at a checkpoint.\n"
              "--train-ttt: one Adam, same --lr and --clip, from the model's layer or a fresh one\n"
              "(--fresh-ttt, the published Gumbel run). GATE_DIR then becomes a model directory:\n"
              "the backbone's files, the trained ttt.safetensors + ttt.json and the gate in\n"
              "GATE_DIR/gate (ponder eval --model GATE_DIR --policy gate:GATE_DIR/gate).\n"
              "--advantage-gradient (ranknet/listnet): the ranking loss's gradient reaches the\n"
              "layer through the advantage, as published (default: detached)."}},
            runTrainGate};
}

int runTrainGate(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, trainGateCommand().forms.front().options);
    // Its losses are batch-wide (the rate cost, the ranking losses, the threshold's
    // percentile), so a batch does not split into per-rank sums as train-ttt's does.
    if (distributedStart(args).role != DistributedStart::Role::Alone)
        throw UsageError(
            "train-gate runs in one process: its losses are batch-wide (rate cost, "
            "ranking losses); drop --nproc (or RANK/WORLD_SIZE)");
    const auto model = args.value("--model");
    const auto out = args.value("--out");
    if (!model || !out) throw UsageError("--model DIR and --out GATE_DIR are required");
    core::GateTrainOptions options;
    options.modelDir = *model;
    options.outDir = *out;
    options.corpus = corpusFrom(args);
    options.kind = args.valueOr("--kind", options.kind);
    options.rate = args.numberOr("--rate", options.rate);
    options.cost = args.valueOr("--cost", options.cost);
    options.chunk = args.integerOr("--chunk", options.chunk);
    options.steps = args.integerOr("--steps", options.steps);
    options.batch = args.integerOr("--batch", options.batch);
    options.sequenceChunks = args.integerOr("--sequence-chunks", options.sequenceChunks);
    options.warmup = args.integerOr("--warmup", options.warmup);
    options.maxUnits = args.integerOr("--max-units", options.maxUnits);
    options.lr = args.numberOr("--lr", options.lr);
    options.gradClip = args.numberOr("--clip", options.gradClip);
    options.beta = args.numberOr("--beta", options.beta);
    options.gamma = args.numberOr("--gamma", options.gamma);
    options.listnetTemperature = args.numberOr("--listnet-temperature", options.listnetTemperature);
    options.seed = std::uint64_t(args.integerOr("--seed", std::int64_t(options.seed)));
    options.checkpointEvery = args.integerOr("--checkpoint-every", options.checkpointEvery);
    options.device = args.valueOr("--device", options.device);
    options.forceCheckpoint = args.flag("--force-checkpoint");
    options.trainTtt = args.flag("--train-ttt");
    options.freshTtt = args.flag("--fresh-ttt");
    options.advantageGradient = args.flag("--advantage-gradient");
    if ((options.freshTtt || options.advantageGradient) && !options.trainTtt)
        throw UsageError("--fresh-ttt and --advantage-gradient go with --train-ttt");
    const int threads = applyThreads(args);
    const auto settings = core::trainingSettings(options);
    TrainReporter reporter(args, "gate", options.outDir.string(), settings, options.device,
                           threads);
    InterruptGuard interrupt;
    const auto result = core::trainGate(options, reporter.callbacks());
    reporter.finish(result);
    printResult(result, options.outDir.string());
    return result.finished ? 0 : 1;
}

}  // namespace ponder::app
