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

std::vector<OptionSpec> commonTrainOptions() {
    std::vector<OptionSpec> specs{{"--ext", true, true},
                                  {"--steps", true},
                                  {"--batch", true},
                                  {"--lr", true},
                                  {"--clip", true},
                                  {"--seed", true},
                                  {"--checkpoint-every", true},
                                  {"--device", true},
                                  {"--threads", true},
                                  {"--db", true},
                                  {"--bf16", false},
                                  {"--quiet", false}};
    for (const auto& spec : distributedOptionSpecs())
        specs.push_back(spec);
    return specs;
}

core::CorpusSelection corpusFrom(const ParsedArgs& args) {
    if (args.positionals().empty()) throw UsageError("expected at least one CORPUS file or folder");
    core::CorpusSelection corpus;
    corpus.inputs.assign(args.positionals().begin(), args.positionals().end());
    for (auto ext : args.values("--ext"))
        corpus.extensions.push_back(ext[0] == '.' ? ext : "." + ext);
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

}  // namespace

int runTrainBase(const Arguments& rawArgs) {
    auto specs = commonTrainOptions();
    for (const char* name :
         {"--tokenizer", "--out", "--layers", "--embd", "--heads", "--positions", "--sequence",
          "--warmup", "--min-lr-ratio", "--weight-decay", "--dropout"})
        specs.push_back({name, true});
    const ParsedArgs args(rawArgs, specs);
    auto world = joinTraining("train-base", rawArgs, args);
    if (world.launcherStatus) return *world.launcherStatus;
    core::BaseTrainOptions options;
    options.corpus = corpusFrom(args);
    const auto tokenizer = args.value("--tokenizer");
    const auto out = args.value("--out");
    if (!tokenizer || !out) throw UsageError("--tokenizer DIR and --out DIR are required");
    options.tokenizerDir = *tokenizer;
    options.outDir = *out;
    options.config.nLayer = args.integerOr("--layers", 4);
    options.config.nEmbd = args.integerOr("--embd", 256);
    options.config.nHead = args.integerOr("--heads", 4);
    options.config.nPositions = args.integerOr("--positions", 1024);
    // GPT-2's three dropouts (embeddings, attention, residual) at once.
    const double dropout = args.numberOr("--dropout", 0.1);
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
    options.seed = std::uint64_t(args.integerOr("--seed", std::int64_t(options.seed)));
    options.checkpointEvery = args.integerOr("--checkpoint-every", options.checkpointEvery);
    options.device = args.valueOr("--device", options.device);
    options.bf16 = args.flag("--bf16");
    options.device = rankDevice(options.device, world.session.get());
    options.session = world.session.get();
    if (options.checkpointEvery < 1) throw UsageError("--checkpoint-every must be positive");
    const int threads = applyThreads(args);

    const auto settings = core::trainingSettings(options);
    TrainReporter reporter(args, "base", options.outDir.string(), settings, options.device, threads,
                           world.reports());
    InterruptGuard interrupt;
    const auto result =
        trainOnRank(world, [&] { return core::trainBase(options, reporter.callbacks()); });
    reporter.finish(result);
    if (world.reports()) printResult(result, options.outDir.string());
    return 0;
}

int runTrainTtt(const Arguments& rawArgs) {
    auto specs = commonTrainOptions();
    for (const char* name : {"--model", "--out", "--chunk", "--ssl-weight", "--eta-form",
                             "--conv-lag", "--eta-decay", "--inner-lr", "--update-steps",
                             "--fast-weights", "--lora-rank", "--lora-alpha", "--lora-dropout"})
        specs.push_back({name, true});
    specs.push_back({"--no-dropout", false});
    const ParsedArgs args(rawArgs, specs);
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
    options.seed = std::uint64_t(args.integerOr("--seed", std::int64_t(options.seed)));
    options.checkpointEvery = args.integerOr("--checkpoint-every", options.checkpointEvery);
    options.device = args.valueOr("--device", options.device);
    options.bf16 = args.flag("--bf16");
    options.device = rankDevice(options.device, world.session.get());
    options.session = world.session.get();
    if (options.checkpointEvery < 1) throw UsageError("--checkpoint-every must be positive");
    const int threads = applyThreads(args);

    const auto settings = core::trainingSettings(options);
    TrainReporter reporter(args, "ttt", options.outDir.string(), settings, options.device, threads,
                           world.reports());
    InterruptGuard interrupt;
    const auto result =
        trainOnRank(world, [&] { return core::trainTtt(options, reporter.callbacks()); });
    reporter.finish(result);
    if (world.reports()) printResult(result, options.outDir.string());
    return 0;
}

int runTrainGate(const Arguments& rawArgs) {
    auto specs = commonTrainOptions();
    for (const char* name :
         {"--model", "--out", "--kind", "--rate", "--cost", "--chunk", "--sequence-chunks",
          "--warmup", "--beta", "--gamma", "--listnet-temperature", "--max-units"})
        specs.push_back({name, true});
    specs.push_back({"--force-checkpoint", false});
    for (const char* name : {"--train-ttt", "--fresh-ttt", "--advantage-gradient"})
        specs.push_back({name, false});
    const ParsedArgs args(rawArgs, specs);
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
    if (args.flag("--bf16")) throw UsageError("--bf16 is not an option of train-gate");
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
