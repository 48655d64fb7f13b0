// Training (algorithm.md §6): the learning-rate schedule, loss going down on real code,
// exact resumption from a checkpoint, a frozen backbone under train-ttt, the published loss
// (CE + 0.1 x mean of the three statistics) and refusal of a checkpoint started differently.
#include <atomic>
#include <cmath>
#include <filesystem>

#include "core/model/gpt2_model_impl.h"
#include "core/model/model_dir.h"
#include "core/model/safetensors.h"
#include "core/model/tensor_convert_impl.h"
#include "core/model/ttt_config.h"
#include "core/model/ttt_layer_impl.h"
#include "core/text/bpe_tokenizer.h"
#include "core/train/train_common_impl.h"
#include "core/train/training.h"
#include "core/util/errors.h"
#include "core/util/sha256.h"
#include "tests/test_support.h"

// LibTorch pulls in glog, whose one-argument CHECK (abort on failure, never counted) would
// replace Catch's; so Torch comes first and Catch's CHECK is the one left defined.
#undef CHECK
#include <catch2/catch.hpp>

using namespace ponder::core;
using ponder::testing::TempDir;
namespace fs = std::filesystem;

namespace {

const fs::path kCorpus = "/usr/lib/python3.11/json";

BaseTrainOptions tinyBase(const fs::path& out, const fs::path& tokenizer, std::int64_t steps) {
    BaseTrainOptions options;
    options.corpus.inputs = {kCorpus};
    options.tokenizerDir = tokenizer;
    options.outDir = out;
    options.config.nLayer = 2;
    options.config.nEmbd = 32;
    options.config.nHead = 2;
    options.config.nPositions = 128;
    options.sequence = 32;
    options.batch = 4;
    options.steps = steps;
    options.warmup = 4;
    options.lr = 3e-3;
    options.checkpointEvery = 5;
    return options;
}

// A tiny GPT-2 with a tokenizer trained on the corpus, made by make-test-model.
fs::path tinyModel(const fs::path& dir) {
    auto model = ponder::testing::tinyModelOptions(false);
    model.seed = 0;
    model.vocab = 400;
    for (const auto& entry : fs::directory_iterator(kCorpus))
        if (entry.path().extension() == ".py") model.corpus.push_back(entry.path());
    makeTestModel(dir, model);
    return dir;
}

TttTrainOptions tinyTtt(const fs::path& model, const fs::path& out, std::int64_t steps) {
    TttTrainOptions options;
    options.modelDir = model;
    options.outDir = out;
    options.corpus.inputs = {kCorpus};
    options.chunk = 64;
    options.batch = 2;
    options.steps = steps;
    options.checkpointEvery = 3;
    return options;
}

// Runs train-ttt, appending each step's loss (CE + ssl-weight x statistics) to `losses`.
TrainResult trainTttRecording(const TttTrainOptions& options, std::vector<double>& losses) {
    TrainCallbacks record;
    record.onStep = [&](const TrainProgress& p) { losses.push_back(p.loss); };
    return trainTtt(options, record);
}

double maxDifference(const fs::path& a, const fs::path& b, const char* file) {
    const auto left = SafetensorsFile::open(a / file), right = SafetensorsFile::open(b / file);
    double worst = 0;
    for (const auto& info : left.tensors()) {
        const auto* other = right.find(info.name);
        REQUIRE(other != nullptr);
        worst = std::max(
            worst, (loadTensor(left, info) - loadTensor(right, *other)).abs().max().item<double>());
    }
    return worst;
}

}  // namespace

TEST_CASE("train: train-base's learning rate warms up linearly, then decays by cosine to the floor",
          "[training]") {
    BaseTrainOptions options;
    options.lr = 1e-3;
    options.warmup = 10;
    options.steps = 110;
    options.minLrRatio = 0.1;
    CHECK(warmupCosineLr(options, 0) == Approx(1e-4));
    CHECK(warmupCosineLr(options, 9) == Approx(1e-3));
    CHECK(warmupCosineLr(options, 10) == Approx(1e-3));
    CHECK(warmupCosineLr(options, 60) == Approx(1e-4 + 0.5 * 9e-4));  // halfway: cos = 0
    CHECK(warmupCosineLr(options, 110) == Approx(1e-4));
}

TEST_CASE("train: train-base lowers the loss on real code and resumes exactly from a checkpoint",
          "[training]") {
    TempDir dir("ponder_training_test");
    const auto tokenizerDir = tinyModel(dir.path / "tok");
    std::vector<double> losses;
    TrainCallbacks record;
    record.onStep = [&](const TrainProgress& p) { losses.push_back(p.ce); };
    const auto straight = trainBase(tinyBase(dir.path / "straight", tokenizerDir, 30), record);
    CHECK(straight.finished);
    REQUIRE(losses.size() == 30);
    const double first = (losses[0] + losses[1] + losses[2]) / 3,
                 last = (losses[27] + losses[28] + losses[29]) / 3;
    INFO("first steps " << first << ", last steps " << last);
    CHECK(last < first - 0.3);
    CHECK(inspectModelDir(dir.path / "straight").config.nLayer == 2);  // a loadable HF dir

    // Stop after step 10 (cancel between steps), then run the same command again.
    std::atomic<bool> cancel{false};
    TrainCallbacks stopAtTen;
    stopAtTen.onStep = [&](const TrainProgress& p) { cancel = p.step >= 10; };
    stopAtTen.cancel = &cancel;
    const auto part = trainBase(tinyBase(dir.path / "resumed", tokenizerDir, 30), stopAtTen);
    CHECK_FALSE(part.finished);
    CHECK(part.steps == 10);
    const auto rest = trainBase(tinyBase(dir.path / "resumed", tokenizerDir, 30));
    CHECK(rest.startStep == 10);
    CHECK(rest.finished);
    const double difference =
        maxDifference(dir.path / "straight", dir.path / "resumed", "model.safetensors");
    INFO("largest weight difference, straight vs resumed: " << difference);
    CHECK(difference < 1e-5);

    auto changed = tinyBase(dir.path / "resumed", tokenizerDir, 30);
    changed.lr = 1e-2;
    CHECK_THROWS_AS(trainBase(changed), InputError);
}

TEST_CASE(
    "train: train-ttt keeps the backbone frozen, optimises CE + 0.1 x the statistics, resumes",
    "[training]") {
    TempDir dir("ponder_training_test");
    const auto model = tinyModel(dir.path / "model");
    const auto backboneSha = sha256FileHex(model / "model.safetensors");

    auto options = tinyTtt(model, dir.path / "ttt-a", 6);
    options.backboneDropout = false;
    std::vector<TrainProgress> steps;
    TrainCallbacks record;
    record.onStep = [&](const TrainProgress& p) { steps.push_back(p); };
    const auto result = trainTtt(options, record);
    CHECK(result.finished);
    CHECK(sha256FileHex(model / "model.safetensors") == backboneSha);
    REQUIRE(steps.size() == 6);

    // Step 1's loss recomputed from its parts before any update: the first unit (chunk 0 of
    // the first batch of packed windows), the backbone's hidden state, the initial TTT layer,
    // token-weighted CE of the UPDATE path plus 0.1 x the mean of the three statistics.
    {
        torch::NoGradGuard noGrad;  // only for this recomputation: training below needs grads
        const auto tokenizer = BpeTokenizer::load(model);
        const auto plan = trainingPlan(tokenizer, options.corpus, options.chunk, 16, options.batch);
        const auto& unit = plan.units.front();
        const auto ids =
            torch::tensor(plan.unitIds(unit), torch::kInt64).view({unit.sequences, unit.tokens});
        const auto positions = torch::arange(unit.tokens, torch::kInt64);
        auto gpt2 = loadGpt2(model);
        gpt2->eval();
        TttModel initial(TttConfig::forBackbone(32));
        initial->initialiseWeights(options.seed);
        const auto out = initial->forward(gpt2->hidden(ids, positions), positions);
        const auto logits = gpt2->logits(out.hidden).slice(1, 0, unit.tokens - 1);
        const double ce = torch::nn::functional::cross_entropy(
                              logits.reshape({-1, logits.size(-1)}), ids.slice(1, 1).reshape({-1}))
                              .item<double>();
        const double ssl = (out.stats.init.mean() + out.stats.step0.mean() + out.stats.step1.mean())
                               .item<double>() /
                           3;
        INFO("step 1: reported loss " << steps[0].loss << " ce " << steps[0].ce
                                      << "; recomputed ce " << ce << " ssl " << ssl);
        CHECK(steps[0].ce == Approx(ce).epsilon(1e-5));
        CHECK(steps[0].loss == Approx(ce + 0.1 * ssl).epsilon(1e-5));
        CHECK(loadTttCheckpoint(dir.path / "ttt-a", 32, backboneSha, false)
                  ->config()
                  .backboneSha256 == backboneSha);
    }

    // Cancel after 3 steps, resume, and compare with the uninterrupted run.
    std::atomic<bool> cancel{false};
    TrainCallbacks stopAtThree;
    stopAtThree.onStep = [&](const TrainProgress& p) { cancel = p.step >= 3; };
    stopAtThree.cancel = &cancel;
    auto resumed = tinyTtt(model, dir.path / "ttt-b", 6);
    resumed.backboneDropout = false;
    CHECK(trainTtt(resumed, stopAtThree).steps == 3);
    CHECK(trainTtt(resumed).startStep == 3);
    const double difference =
        maxDifference(dir.path / "ttt-a", dir.path / "ttt-b", "ttt.safetensors");
    INFO("largest TTT weight difference, straight vs resumed: " << difference);
    CHECK(difference < 1e-5);
}

TEST_CASE(
    "train: under bf16 autocast both trainings learn, keep float32 weights, and start "
    "where float32 does",
    "[training]") {
    TempDir dir("ponder_training_test");
    const auto tokenizerDir = tinyModel(dir.path / "tok");
    const auto curve = [&](BaseTrainOptions options) {
        std::vector<double> losses;
        TrainCallbacks record;
        record.onStep = [&](const TrainProgress& p) { losses.push_back(p.ce); };
        trainBase(options, record);
        return losses;
    };
    const auto fp32 = curve(tinyBase(dir.path / "fp32", tokenizerDir, 30));
    auto bf16Options = tinyBase(dir.path / "bf16", tokenizerDir, 30);
    bf16Options.bf16 = true;
    const auto bf16 = curve(bf16Options);
    REQUIRE(bf16.size() == 30);
    // Step 1 uses the same initial weights and batch: only bf16 rounding differs.
    INFO("step 1: fp32 " << fp32[0] << ", bf16 " << bf16[0]);
    CHECK(std::fabs(bf16[0] - fp32[0]) < 0.02 * fp32[0]);
    const double first = (bf16[0] + bf16[1] + bf16[2]) / 3,
                 last = (bf16[27] + bf16[28] + bf16[29]) / 3;
    INFO("bf16: first steps " << first << ", last steps " << last);
    CHECK(last < first - 0.3);
    CHECK(inspectModelDir(dir.path / "bf16").storedDtypes == "F32");  // autocast, not bf16 weights
    // A checkpoint resumes in its own precision only: float32 steps continued under bf16 would
    // not be the run the checkpoint describes.
    auto switched = tinyBase(dir.path / "fp32", tokenizerDir, 40);
    switched.bf16 = true;
    CHECK_THROWS_AS(trainBase(switched), InputError);

    const auto model = tinyModel(dir.path / "model");
    std::vector<double> tttLosses[2];
    for (int precision = 0; precision < 2; ++precision) {
        auto options = tinyTtt(model, dir.path / ("ttt-" + std::to_string(precision)), 3);
        options.backboneDropout = false;
        options.bf16 = precision == 1;
        CHECK(trainTttRecording(options, tttLosses[precision]).finished);
    }
    REQUIRE(tttLosses[1].size() == 3);
    INFO("train-ttt step 1: fp32 " << tttLosses[0][0] << ", bf16 " << tttLosses[1][0]);
    CHECK(std::fabs(tttLosses[1][0] - tttLosses[0][0]) < 0.02 * tttLosses[0][0]);
}

TEST_CASE(
    "train: train-ttt's --eta-decay and --inner-lr reach ttt.json, change the inner step, "
    "and a checkpoint resumes only with the values it was started with",
    "[training]") {
    TempDir dir("ponder_training_test");
    const auto model = tinyModel(dir.path / "model");
    const auto lossesOf = [&](TttTrainOptions options) {
        options.backboneDropout = false;
        std::vector<double> losses;
        trainTttRecording(options, losses);
        return losses;
    };
    const auto published = lossesOf(tinyTtt(model, dir.path / "published", 2));
    auto changed = tinyTtt(model, dir.path / "changed", 2);
    changed.etaDecay = 0.0;
    changed.innerBaseLr = 2.5;
    const auto changedLosses = lossesOf(changed);
    // Width 32 is not a published width, so the default decay is 0.3 (algorithm.md §2.1).
    CHECK(loadTttConfig(dir.path / "published" / "ttt.json").etaDecay == Approx(0.3));
    const auto config = loadTttConfig(dir.path / "changed" / "ttt.json");
    CHECK(config.etaDecay == 0.0);
    CHECK(config.baseLr == Approx(2.5));
    // Same weights and batch at step 1: only the inner step differs, so the loss does.
    REQUIRE(published.size() == 2);
    REQUIRE(changedLosses.size() == 2);
    INFO("step 1: published " << published[0] << ", changed inner step " << changedLosses[0]);
    CHECK(std::fabs(published[0] - changedLosses[0]) > 1e-6);

    auto other = changed;
    other.steps = 3;
    other.etaDecay = 0.1;
    CHECK_THROWS_AS(trainTtt(other), InputError);
    auto invalid = tinyTtt(model, dir.path / "invalid", 1);
    invalid.innerBaseLr = -1.0;
    CHECK_THROWS_AS(trainTtt(invalid), InputError);
}

TEST_CASE(
    "train: --update-steps N takes N Adam steps per chunk at lr/N (UPDATE_N), records N "
    "in ttt.json and resumes only with the same N",
    "[training]") {
    TempDir dir("ponder_training_update_n");
    const auto model = tinyModel(dir.path / "model");
    const auto trained = [&](const std::string& name, std::int64_t updateSteps, double lr,
                             std::vector<TrainProgress>& progress) {
        auto options = tinyTtt(model, dir.path / name, 2);
        options.backboneDropout = false;
        options.updateSteps = updateSteps;
        options.lr = lr;
        TrainCallbacks record;
        record.onStep = [&](const TrainProgress& p) { progress.push_back(p); };
        REQUIRE(trainTtt(options, record).finished);
        return options;
    };
    std::vector<TrainProgress> one, two, half;
    trained("one", 1, 3e-4, one);
    const auto options = trained("two", 2, 3e-4, two);
    trained("half", 1, 1.5e-4, half);
    REQUIRE(two.size() == 2);
    // A step reports its first pass, before this chunk's updates: step 1 is the same forward.
    CHECK(two[0].loss == Approx(one[0].loss).epsilon(1e-9));
    CHECK(two[0].lr == Approx(1.5e-4));
    // The second pass on each chunk moved the weights beyond one step at lr or at lr/2.
    CHECK(maxDifference(dir.path / "two", dir.path / "one", "ttt.safetensors") > 1e-7);
    CHECK(maxDifference(dir.path / "two", dir.path / "half", "ttt.safetensors") > 1e-7);
    CHECK(loadTttConfig(dir.path / "two" / "ttt.json").updateSteps == 2);
    CHECK(loadTttConfig(dir.path / "one" / "ttt.json").updateSteps == 1);
    // ttt.json without N is unchanged for every model trained before it existed.
    CHECK(ponder::testing::readText(dir.path / "one" / "ttt.json").find("update_steps") ==
          std::string::npos);

    auto resumed = options;
    resumed.steps = 3;
    resumed.updateSteps = 1;
    CHECK_THROWS_AS(trainTtt(resumed), InputError);
    auto invalid = tinyTtt(model, dir.path / "invalid", 1);
    invalid.updateSteps = 0;
    CHECK_THROWS_AS(trainTtt(invalid), InputError);
    invalid.updateSteps = kMaxUpdateSteps + 1;
    CHECK_THROWS_AS(trainTtt(invalid), InputError);
}
