// The learned gates (docs/gates.md §2-3): each loss term against a hand computation, the
// straight-through estimator, the blended-CE slopes against autograd, the Torch-free forward
// pass against LibTorch, the history features, gate files and their refusals, the replay, and
// train-gate on real code (loss goes down, resume equals an uninterrupted run, a stored run
// replays the gate to the same decisions), and a gate driving the gated fast path.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/eval/evaluator.h"
#include "core/eval/online_gate.h"
#include "core/eval/run_description.h"
#include "core/eval/unit_compute_impl.h"
#include "core/gating/gate.h"
#include "core/gating/policies.h"
#include "core/model/model_dir.h"
#include "core/model/safetensors.h"
#include "core/store/run_store.h"
#include "core/train/train_gate_impl.h"
#include "core/train/training.h"
#include "core/util/errors.h"
#include "tests/test_support.h"

#undef CHECK  // glog's, from LibTorch; Catch's is the one wanted
#include <catch2/catch.hpp>

using namespace ponder::core;
using ponder::testing::TempDir;
namespace fs = std::filesystem;

namespace {

double softplus(double x) {
    return std::log1p(std::exp(x));
}

GateWeights randomWeights(std::uint64_t seed) {
    torch::manual_seed(seed);
    const auto values = [](std::vector<std::int64_t> shape) {
        const auto t = torch::randn(shape) * 0.5;
        return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
    };
    const std::int64_t in = kGateInputs, hidden = kGateHidden;
    return {values({in}),
            values({in}),
            values({hidden, in}),
            values({hidden}),
            values({hidden, hidden}),
            values({hidden}),
            values({2, hidden}),
            values({2})};
}

nlohmann::json gateJson(const std::string& tttSha) {
    return {{"format", "ponderttt-gate/1"}, {"kind", "gumbel"},     {"features", gateInputNames()},
            {"decision", "argmax"},         {"threshold", 0.5},     {"rate", 0.5},
            {"sequence_chunks", 2},         {"ttt_sha256", tttSha}, {"backbone_sha256", "b"}};
}

fs::path writeGate(const fs::path& dir, const GateWeights& weights, const nlohmann::json& json) {
    fs::create_directories(dir);
    writeGateFiles(dir, weights, json.dump());
    return dir;
}

torch::Tensor tensorOf(const std::vector<float>& values, std::vector<std::int64_t> shape) {
    return torch::tensor(values).view(shape);
}

}  // namespace

TEST_CASE("gate: the straight-through decision is exactly 0 or 1 forward, with the soft gradient",
          "[gate]") {
    const auto logits =
        torch::tensor({{0.2, 1.0}, {1.5, -0.5}, {0.0, 0.1}}, torch::kFloat64).requires_grad_(true);
    const auto gumbel = torch::tensor({{0.1, -0.3}, {0.0, 0.4}, {0.7, 0.2}}, torch::kFloat64);
    const double temperature = 0.5;
    const auto decision = straightThrough(logits, gumbel, temperature);
    for (int i = 0; i < 3; ++i) {
        const double p = decision.p[i].item<double>();
        CHECK((p == 0.0 || p == 1.0));
        CHECK(p == decision.hard[i].item<double>());
    }
    // Unit 0: y_U = softmax((0.1, 0.7)/0.5)[1] > 0.5: UPDATE; unit 1: SKIP; unit 2: SKIP.
    CHECK(decision.hard[0].item<double>() == 1.0);
    CHECK(decision.hard[1].item<double>() == 0.0);
    CHECK(decision.hard[2].item<double>() == 0.0);
    const auto weights = torch::tensor({1.0, 2.0, 3.0}, torch::kFloat64);
    (decision.p * weights).sum().backward();
    const auto hardGrad = logits.grad().clone();
    logits.grad().zero_();
    const auto soft = torch::softmax((logits + gumbel) / temperature, -1).select(1, 1);
    (soft * weights).sum().backward();
    CHECK(torch::allclose(hardGrad, logits.grad(), 0, 1e-15));
}

TEST_CASE("gate: the blended CE from the two slopes equals autograd through the blended logits",
          "[gate]") {
    torch::manual_seed(3);
    const std::int64_t positions = 7, vocab = 11;
    const auto skip = torch::randn({positions, vocab}, torch::kFloat64);
    const auto update = torch::randn({positions, vocab}, torch::kFloat64);
    const auto targets = torch::randint(vocab, {positions, 1});
    const auto [atSkip, atUpdate] = blendSlopeRows(skip, update, targets);
    for (double hardValue : {0.0, 1.0}) {
        INFO("p = " << hardValue);
        // Reference: CE(mean over positions) of (1 - p)·skip + p·update, p a leaf at 0 or 1.
        const auto p = torch::tensor(hardValue, torch::kFloat64).requires_grad_(true);
        const auto z = (1 - p) * skip + p * update;
        const auto reference = torch::nn::functional::cross_entropy(z, targets.squeeze(1));
        reference.backward();
        // Ours, for one unit whose p is the same leaf through the straight-through form.
        const auto leaf = torch::tensor({hardValue}, torch::kFloat64).requires_grad_(true);
        StraightThrough decision{leaf, torch::tensor({hardValue}, torch::kFloat64)};
        const auto ceSkip = torch::nn::functional::cross_entropy(skip, targets.squeeze(1));
        const auto ceUpdate = torch::nn::functional::cross_entropy(update, targets.squeeze(1));
        const auto ours =
            blendedCe(decision, ceSkip.view({1}), ceUpdate.view({1}), atSkip.mean().view({1}),
                      atUpdate.mean().view({1}), torch::ones({1}, torch::kFloat64));
        ours.backward();
        CHECK(ours.item<double>() == Approx(reference.item<double>()).epsilon(1e-12));
        CHECK(leaf.grad()[0].item<double>() == Approx(p.grad().item<double>()).epsilon(1e-10));
    }
}

TEST_CASE("gate: RankNet and ListNet against a hand computation", "[gate]") {
    const auto s = torch::tensor({0.5, -0.2, 1.0}, torch::kFloat64);
    const auto a = torch::tensor({0.3, 0.0, 0.25}, torch::kFloat64);
    // Pairs with a_i - a_j > 0.1: (0, 1) and (2, 1); (0, 2) differs by only 0.05.
    const double rank = (softplus(-0.2 - 0.5) + softplus(-0.2 - 1.0)) / 2.0;
    CHECK(rankNetLoss(s, a).item<double>() == Approx(rank).epsilon(1e-12));
    CHECK(rankNetLoss(s, torch::zeros({3}, torch::kFloat64)).item<double>() == 0.0);  // no pair
    const double t = 3.0, rate = 0.5;
    const double sv[3] = {0.5, -0.2, 1.0}, av[3] = {0.3, 0.0, 0.25};
    double za = 0, zs = 0, meanQ = 0;
    for (int i = 0; i < 3; ++i) {
        za += std::exp(av[i] / t);
        zs += std::exp(sv[i] / t);
        meanQ += 1 / (1 + std::exp(-sv[i])) / 3;
    }
    double list = std::pow(meanQ - rate, 2);
    for (int i = 0; i < 3; ++i)
        list -= std::exp(av[i] / t) / za * std::log(std::exp(sv[i] / t) / zs + 1e-7);
    CHECK(listNetLoss(s, a, t, rate).item<double>() == Approx(list).epsilon(1e-12));
    CHECK(percentile({4, 1, 3, 2}, 50) == Approx(2.5));
    CHECK(percentile({4, 1, 3, 2}, 75) == Approx(3.25));
    CHECK(percentile({7}, 30) == 7);
}

TEST_CASE("gate: the Torch-free forward pass equals LibTorch's on the same weights", "[gate]") {
    TempDir dir("ponder_gate_forward");
    const auto weights = randomWeights(11);
    const auto gate = loadGate(writeGate(dir.path / "g", weights, gateJson("t")));
    torch::manual_seed(12);
    const auto input = torch::randn({5, std::int64_t(kGateInputs)}) * 2;
    const auto& w = gate.weights;
    auto x = torch::layer_norm(input, {std::int64_t(kGateInputs)}, tensorOf(w.normWeight, {32}),
                               tensorOf(w.normBias, {32}), kGateLayerNormEps);
    x = torch::relu(torch::linear(x, tensorOf(w.fc1Weight, {64, 32}), tensorOf(w.fc1Bias, {64})));
    x = torch::relu(torch::linear(x, tensorOf(w.fc2Weight, {64, 64}), tensorOf(w.fc2Bias, {64})));
    x = torch::linear(x, tensorOf(w.outWeight, {2, 64}), tensorOf(w.outBias, {2}));
    for (std::int64_t r = 0; r < 5; ++r) {
        const auto ours = gate.logits(input[r].data_ptr<float>());
        CHECK(ours[0] == Approx(x[r][0].item<float>()).margin(1e-4));
        CHECK(ours[1] == Approx(x[r][1].item<float>()).margin(1e-4));
        CHECK(gate.decide(input[r].data_ptr<float>()) == (ours[1] > ours[0]));
    }
}

TEST_CASE("gate: history features follow their EMAs and the budget of the sequence", "[gate]") {
    GateHistory history(0.5);
    history.reset(4);  // budget 0.5 x 4 = 2 updates
    float input[kGateInputs] = {};
    history.fill(input);
    CHECK(input[22] == 0);
    CHECK(input[23] == 0);
    CHECK(input[24] == 0);
    CHECK(input[25] == 1);
    history.observe(2.0, true);   // difficulty 0.2, variance 0.1·4 = 0.4, cost 0.3
    history.observe(1.0, false);  // dev 0.8: difficulty 0.28, var 0.36 + 0.064, cost 0.37
    history.fill(input);
    CHECK(input[22] == Approx(0.28));
    CHECK(input[23] == Approx(std::sqrt(0.9 * 0.4 + 0.1 * 0.64)));
    CHECK(input[24] == Approx(0.37));
    CHECK(input[25] == Approx(0.5));
    history.reset(1);
    history.fill(input);
    CHECK(input[22] == 0);
    CHECK(input[25] == 1);
    // The stored 28 land around the history slots.
    std::vector<float> stored(kStoredGateFeatures);
    for (std::size_t i = 0; i < stored.size(); ++i)
        stored[i] = float(i + 1);
    const auto placed = gateInputFrom(stored.data());
    CHECK(placed[21] == 22);
    CHECK(placed[22] == 0);
    CHECK(placed[25] == 0);
    CHECK(placed[26] == 23);
    CHECK(placed[31] == 28);
}

TEST_CASE("gate: loadGate refuses missing, damaged and foreign gate folders", "[gate]") {
    TempDir dir("ponder_gate_load");
    const auto weights = randomWeights(1);
    CHECK_THROWS_WITH(loadGate(dir.path / "none"), Catch::Contains("does not exist"));
    const auto good = writeGate(dir.path / "good", weights, gateJson("t"));
    CHECK(loadGate(good).kind == "gumbel");
    const auto copy = [&](const std::string& name) {
        fs::copy(good, dir.path / name, fs::copy_options::recursive);
        return dir.path / name;
    };
    const auto noJson = copy("nojson");
    fs::remove(noJson / "gate.json");
    CHECK_THROWS_WITH(loadGate(noJson), Catch::Contains("lacks gate.json"));
    const auto garbled = copy("garbled");
    std::ofstream(garbled / "gate.json") << "{\"format\": ";
    CHECK_THROWS_WITH(loadGate(garbled), Catch::Contains("damaged"));
    auto otherFeatures = gateJson("t");
    otherFeatures["features"] = std::vector<std::string>(16, "x");
    CHECK_THROWS_WITH(loadGate(writeGate(dir.path / "width", weights, otherFeatures)),
                      Catch::Contains("another layout"));
    const auto truncated = copy("truncated");
    fs::resize_file(truncated / "gate.safetensors",
                    fs::file_size(truncated / "gate.safetensors") / 2);
    CHECK_THROWS_AS(loadGate(truncated), InputError);
    // A tensor of another shape (a gate for other features) is refused by name.
    const auto wrongShape = copy("shape");
    std::vector<float> narrow(64 * 16, 0.0f);
    writeSafetensors(wrongShape / "gate.safetensors",
                     {{"fc1.weight",
                       DType::F32,
                       {64, 16},
                       std::string_view(reinterpret_cast<const char*>(narrow.data()),
                                        narrow.size() * sizeof(float))}});
    CHECK_THROWS_WITH(loadGate(wrongShape), Catch::Contains("norm.weight"));
}

TEST_CASE("gate: a replay resets history per sequence and refuses runs it cannot read", "[gate]") {
    TempDir dir("ponder_gate_replay");
    const auto gate = loadGate(writeGate(dir.path / "g", randomWeights(4), gateJson("ttt-a")));
    // Five units: file 0 has three chunks (sequences {0, 1}, {2}), file 1 two ({0, 1}).
    UnitTable table;
    table.fileIndex = {0, 0, 0, 1, 1};
    table.chunkIndex = {0, 1, 2, 0, 1};
    table.block = table.fileIndex;
    table.lossSkip = {3.0, 2.5, 2.0, 4.0, 3.5};
    table.lossUpdate = {2.0, 2.4, 1.0, 3.0, 3.4};
    for (std::size_t u = 0; u < 5; ++u)
        for (std::size_t k = 0; k < kStoredGateFeatures; ++k)
            table.gateFeatures.push_back(float(std::sin(double(u * 31 + k))));
    table.tttSha256 = "ttt-a";
    PolicyRun run;
    runGate(gate, table, false, run);
    REQUIRE(run.decisions.size() == 5);
    // Each decision equals the network on the features with the history recomputed by hand.
    GateHistory history(0.5);
    const std::vector<std::int64_t> sequenceLength = {2, 2, 1, 2, 2};
    for (std::size_t u = 0; u < 5; ++u) {
        if (u == 0 || u == 2 || u == 3) history.reset(sequenceLength[u]);
        auto input = gateInputFrom(table.gateFeatures.data() + u * kStoredGateFeatures);
        history.fill(input.data());
        const bool update = gate.decide(input.data());
        CHECK(run.decisions[u] == (update ? 1 : 0));
        history.observe(update ? table.lossUpdate[u] : table.lossSkip[u], update);
    }
    CHECK(run.threshold == std::vector<double>(5, 0.5));
    auto otherTtt = table;
    otherTtt.tttSha256 = "ttt-b";
    CHECK_THROWS_WITH(runGate(gate, otherTtt, false, run), Catch::Contains("another TTT layer"));
    CHECK_NOTHROW(runGate(gate, otherTtt, true, run));
    auto noFeatures = table;
    noFeatures.gateFeatures.clear();
    CHECK_THROWS_WITH(runGate(gate, noFeatures, false, run), Catch::Contains("no gate features"));
}

TEST_CASE(
    "gate: --lookahead updates, per batch of 16 sequences and chunk position, the units "
    "above that group's percentile of q",
    "[gate]") {
    TempDir dir("ponder_gate_lookahead");
    const auto gate = loadGate(writeGate(dir.path / "g", randomWeights(5), gateJson("ttt-a")));
    // 20 files of two chunks: sequences 0-15 form the first batch, 16-19 the second.
    UnitTable table;
    for (std::int64_t f = 0; f < 20; ++f)
        for (std::int64_t c = 0; c < 2; ++c) {
            table.fileIndex.push_back(f);
            table.chunkIndex.push_back(c);
            table.lossSkip.push_back(3.0 + 0.01 * double(f));
            table.lossUpdate.push_back(2.5 + 0.02 * double(f * c));
            for (std::size_t k = 0; k < kStoredGateFeatures; ++k)
                table.gateFeatures.push_back(float(std::sin(double(f * 53 + c * 17 + 7 * k))));
        }
    table.block = table.fileIndex;
    table.tttSha256 = "ttt-a";
    PolicyRun run;
    runGate(gate, table, false, run, true, 0.25);
    // By hand: each sequence's own history, q of every unit at a position, the 75th percentile.
    std::vector<GateHistory> histories(20, GateHistory(gate.rate));
    for (auto& history : histories)
        history.reset(2);
    for (const auto& [first, count] : {std::pair<int, int>{0, 16}, {16, 4}})
        for (int c = 0; c < 2; ++c) {
            std::vector<double> q;
            std::vector<std::vector<float>> inputs;
            for (int f = first; f < first + count; ++f) {
                auto input = gateInputFrom(table.gateFeatures.data() +
                                           std::size_t(2 * f + c) * kStoredGateFeatures);
                histories[std::size_t(f)].fill(input.data());
                q.push_back(gate.updateProbability(input.data()));
            }
            const double threshold = percentile(q, 75.0);
            int updated = 0;
            for (int f = first; f < first + count; ++f) {
                const auto u = std::size_t(2 * f + c);
                const bool update = q[std::size_t(f - first)] > threshold;
                updated += update;
                CHECK(run.decisions[u] == (update ? 1 : 0));
                CHECK(run.threshold[u] == threshold);
                histories[std::size_t(f)].observe(update ? table.lossUpdate[u] : table.lossSkip[u],
                                                  update);
            }
            CHECK(updated == count / 4);  // distinct q: a quarter of each group is above it
        }
    // The causal replay of the same gate decides otherwise (its threshold is fixed).
    PolicyRun causal;
    runGate(gate, table, false, causal);
    CHECK(causal.decisions != run.decisions);
    // Not on the fast path: it would need units not yet evaluated.
    PolicySpec spec;
    spec.name = "gate:" + (dir.path / "g").string();
    spec.gateLookahead = true;
    EvalPlan plan;
    CHECK_THROWS_WITH(onlineGate(spec, plan, "ttt-a"), Catch::Contains("cannot drive the gated"));
}

TEST_CASE("gate: on the gated fast path a gate decides as its replay over both-path records",
          "[gate][fast-path]") {
    ponder::testing::TinyModel tiny;
    TempDir dir("ponder_gate_fast");
    Evaluator evaluator(tiny.model, EvalOptions{});
    const auto plan =
        buildEvalPlan(evaluator.tokenizer(), {fs::path(PONDER_SOURCE_DIR) / "core/gating/gate.cpp"},
                      evaluator.planOptions(EvalMode::File, 32));
    REQUIRE(plan.units.size() >= 8);
    std::vector<UnitRecord> full;
    evaluator.run(plan, [&](const UnitRecord& r) { full.push_back(r); });
    const auto table = unitTableFrom(full, evaluator.tttSha256());
    // Random gates thresholded at the median q of the units without history, so that they mix
    // SKIP and UPDATE and the history (fed by the path taken) matters: each must agree unit by
    // unit with its replay.
    std::size_t mixed = 0;
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
        GateModel model;
        model.weights = randomWeights(seed);
        std::vector<double> q;
        for (const auto& r : full)
            q.push_back(model.updateProbability(gateInputFrom(r.gateFeatures.data()).data()));
        std::nth_element(q.begin(), q.begin() + q.size() / 2, q.end());
        auto json = gateJson(evaluator.tttSha256());
        json["decision"] = "threshold";
        json["threshold"] = q[q.size() / 2];
        PolicySpec spec;
        spec.name =
            "gate:" + writeGate(dir.path / std::to_string(seed), model.weights, json).string();
        const auto replay = runPolicy(spec, table);
        std::vector<UnitRecord> gated;
        evaluator.runGated(plan, onlineGate(spec, plan, evaluator.tttSha256()),
                           needsSkipStatistics(spec),
                           [&](const UnitRecord& r) { gated.push_back(r); });
        REQUIRE(gated.size() == full.size());
        std::size_t updates = 0;
        for (std::size_t u = 0; u < full.size(); ++u) {
            INFO("seed " << seed << ", unit " << u);
            const bool updated = !std::isnan(gated[u].lossUpdate);
            CHECK(updated == (replay.decisions[u] == 1));
            CHECK(gated[u].gateFeatures == full[u].gateFeatures);
            updates += updated;
        }
        mixed += updates > 0 && updates < full.size();
    }
    CHECK(mixed >= 2);
    // A gate of another TTT layer is refused before any unit runs, unless forced.
    PolicySpec foreign;
    foreign.name =
        "gate:" + writeGate(dir.path / "foreign", randomWeights(1), gateJson("other")).string();
    CHECK_THROWS_WITH(onlineGate(foreign, plan, evaluator.tttSha256()),
                      Catch::Contains("another TTT layer"));
    foreign.forceGate = true;
    CHECK_NOTHROW(onlineGate(foreign, plan, evaluator.tttSha256()));
}

namespace {

// The tests' tiny model with a tokenizer trained on real Python, and that Python as corpus.
const fs::path kCorpus = "/usr/lib/python3.11/json";

GateTrainOptions tinyGateOptions(const fs::path& model, const fs::path& out, std::int64_t steps) {
    GateTrainOptions options;
    options.modelDir = model;
    options.outDir = out;
    options.corpus.inputs = {kCorpus};
    options.corpus.extensions = {".py"};
    options.chunk = 64;
    options.batch = 8;
    options.steps = steps;
    options.warmup = 0;
    options.lr = 3e-3;
    options.checkpointEvery = 10;
    return options;
}

}  // namespace

TEST_CASE("gate: train-gate learns on real code, resumes exactly, and its gate replays a run",
          "[gate][train]") {
    auto modelOptions = ponder::testing::tinyModelOptions(true);
    modelOptions.vocab = 300;
    for (const auto& entry : fs::directory_iterator(kCorpus))
        if (entry.path().extension() == ".py") modelOptions.corpus.push_back(entry.path());
    ponder::testing::TinyModel tiny(modelOptions, "ponder_gate_train");
    TempDir out("ponder_gate_out");

    SECTION("ranknet: the ranking loss falls on the default model, the files record the model") {
        // The tiny model's advantages are all within 0.1 nats (no RankNet pair): the bundled
        // model's are real.
        const fs::path model = fs::path(PONDER_SOURCE_DIR) / "assets/default-model";
        auto options = tinyGateOptions(model, out.path / "rank", 1500);
        options.corpus.inputs = {kCorpus, "/usr/lib/python3.11/email"};
        options.batch = 16;
        options.lr = 1e-3;
        options.checkpointEvery = 500;
        options.chunk = 128;
        options.maxUnits = 80;
        options.kind = "ranknet";
        std::vector<double> losses;
        TrainCallbacks callbacks;
        callbacks.onStep = [&](const TrainProgress& p) { losses.push_back(p.loss); };
        const auto result = trainGate(options, callbacks);
        REQUIRE(result.finished);
        REQUIRE(losses.size() == 1500);
        double first = 0, last = 0;  // the first and last 300 steps
        for (std::size_t i = 0; i < 300; ++i) {
            first += losses[i];
            last += losses[losses.size() - 1 - i];
        }
        CHECK(last < first * 0.9);
        const auto gate = loadGate(options.outDir);
        CHECK(gate.kind == "ranknet");
        CHECK(gate.decision == "threshold");
        CHECK(gate.threshold > 0);
        CHECK(gate.threshold < 1);
        const Evaluator evaluator(model, EvalOptions{});
        CHECK(gate.tttSha256 == evaluator.tttSha256());
    }
    SECTION("gumbel: a resumed training equals an uninterrupted one, bit for bit") {
        const auto whole = tinyGateOptions(tiny.model, out.path / "whole", 40);
        REQUIRE(trainGate(whole).finished);
        auto first = tinyGateOptions(tiny.model, out.path / "parts", 20);
        REQUIRE(trainGate(first).finished);
        auto second = tinyGateOptions(tiny.model, out.path / "parts", 40);
        const auto resumed = trainGate(second);
        CHECK(resumed.startStep == 20);
        CHECK(ponder::testing::readText(whole.outDir / "gate.safetensors") ==
              ponder::testing::readText(second.outDir / "gate.safetensors"));
        CHECK(ponder::testing::readText(whole.outDir / "gate.json") ==
              ponder::testing::readText(second.outDir / "gate.json"));
        // A cancelled run stops at a batch boundary and leaves a checkpoint to resume from.
        std::atomic<bool> cancel{true};
        TrainCallbacks callbacks;
        callbacks.cancel = &cancel;
        auto third = tinyGateOptions(tiny.model, out.path / "cancelled", 40);
        CHECK_FALSE(trainGate(third, callbacks).finished);
    }
    SECTION("a stored run's features replay the gate to the decisions made from fresh records") {
        auto options = tinyGateOptions(tiny.model, out.path / "replay", 20);
        options.kind = "listnet";
        options.warmup = 6;  // ranking gates learn nothing in warmup: zero gradients, no error
        REQUIRE(trainGate(options).finished);
        Evaluator evaluator(tiny.model, EvalOptions{});
        const auto plan = buildEvalPlan(evaluator.tokenizer(), {kCorpus / "decoder.py"},
                                        evaluator.planOptions(EvalMode::File, 64));
        std::vector<UnitRecord> records;
        evaluator.run(plan, [&](const UnitRecord& r) { records.push_back(r); });
        REQUIRE(records.size() > 4);
        // The stored features against quantities computed apart from them: the SKIP path's
        // entropy and confidence (input slots 0 and 19), the unit's token ids (16, 21, 28), the
        // constants (attention 10-13, length 26, positions 29-30, valid fraction 31). Input
        // slots from 26 on are stored 4 earlier, after the history gap.
        for (const auto& r : records) {
            REQUIRE(r.gateFeatures.size() == kStoredGateFeatures);
            const auto& f = r.gateFeatures;
            CHECK(f[0] == Approx(r.entropy).epsilon(1e-5));
            CHECK(f[19] == Approx(r.confidence).epsilon(1e-5));
            for (int k = 10; k < 14; ++k)
                CHECK(f[std::size_t(k)] == 0.0f);
            CHECK(f[22] == Approx(double(r.tokens) / 512.0));  // stored slot 22 = input slot 26
            CHECK(f[25] == Approx(0.5));  // relative positions t / (T - 1): mean and deviation
            CHECK(f[26] ==
                  Approx(std::sqrt((double(r.tokens) + 1) / (12.0 * double(r.tokens - 1)))));
            CHECK(f[27] == 1.0f);
            const auto& file = plan.files[std::size_t(r.fileIndex)];
            double sum = 0, squares = 0, maximum = 0;
            const double vocab = double(evaluator.backboneInfo().vocabSize);
            for (std::int64_t t = 0; t < r.tokens; ++t) {
                const double id = file.ids[std::size_t(r.tokenStart + t)];
                sum += id;
                maximum = std::max(maximum, id);
                if (t > 0) {
                    const double step = id - file.ids[std::size_t(r.tokenStart + t - 1)];
                    squares += step * step;
                }
            }
            CHECK(f[16] == Approx(sum / double(r.tokens) / vocab).epsilon(1e-5));
            CHECK(f[21] == Approx(std::sqrt(squares / double(r.tokens - 1)) / vocab).epsilon(1e-5));
            CHECK(f[24] == Approx(std::log1p(maximum / vocab)).epsilon(1e-5));
        }
        RunStore store(out.path / "runs.sqlite");
        auto description = describeRun(evaluator, plan, tiny.model.string());
        const auto id = store.beginRun(description, "{}", 42, {});
        store.appendUnits(id, records);
        const auto stored = store.loadRun(id);
        PolicySpec spec;
        spec.name = "gate:" + options.outDir.string();
        const auto online = runPolicy(spec, unitTableFrom(records, evaluator.tttSha256()));
        const auto replayed =
            runPolicy(spec, unitTableFrom(stored.units, stored.description.tttSha256));
        CHECK(online.decisions == replayed.decisions);
        for (std::size_t u = 0; u < records.size(); ++u)
            CHECK(records[u].gateFeatures == stored.units[u].gateFeatures);
    }
}

TEST_CASE("gate: --train-ttt starts where the frozen training does, trains the layer, resumes",
          "[gate][train]") {
    auto modelOptions = ponder::testing::tinyModelOptions(true);
    modelOptions.vocab = 300;
    for (const auto& entry : fs::directory_iterator(kCorpus))
        if (entry.path().extension() == ".py") modelOptions.corpus.push_back(entry.path());
    ponder::testing::TinyModel tiny(modelOptions, "ponder_gate_joint");
    TempDir out("ponder_gate_joint_out");
    const auto firstStep = [](GateTrainOptions options) {
        std::vector<TrainProgress> steps;
        TrainCallbacks callbacks;
        callbacks.onStep = [&](const TrainProgress& p) { steps.push_back(p); };
        REQUIRE(trainGate(options, callbacks).finished);
        return steps.front();
    };
    const auto joint = [&](const std::string& name, std::int64_t steps) {
        auto options = tinyGateOptions(tiny.model, out.path / name, steps);
        options.trainTtt = true;
        return options;
    };

    for (const std::string kind : {"gumbel", "listnet"}) {
        DYNAMIC_SECTION(kind << ": step 1 recomputed live equals step 1 from the cached units") {
            // Same gate, same draws, the layer not yet changed: the in-graph blend (or the live
            // advantage) must give the loss the cached CEs and slopes give.
            auto frozen = tinyGateOptions(tiny.model, out.path / ("frozen-" + kind), 1);
            frozen.kind = kind;
            auto live = joint("joint-" + kind, 1);
            live.kind = kind;
            const auto a = firstStep(frozen), b = firstStep(live);
            CHECK(b.loss == Approx(a.loss).epsilon(1e-4));
            CHECK(b.ce == Approx(a.ce).epsilon(1e-4));
            CHECK(b.updateRate == a.updateRate);
            CHECK(b.gradNorm > a.gradNorm);  // the layer's gradients join the gate's
        }
    }
    SECTION("the output is a model directory whose trained layer its gate is bound to") {
        const auto options = joint("model", 6);
        REQUIRE(trainGate(options).finished);
        CHECK(ponder::testing::readText(tiny.model / "ttt.safetensors") !=
              ponder::testing::readText(options.outDir / "ttt.safetensors"));
        const Evaluator evaluator(options.outDir, EvalOptions{});
        const auto gate = loadGate(options.outDir / "gate");
        CHECK(gate.tttSha256 == evaluator.tttSha256());
        const Evaluator original(tiny.model, EvalOptions{});
        CHECK(gate.tttSha256 != original.tttSha256());
    }
    SECTION("a resumed joint training equals an uninterrupted one, layer and gate") {
        REQUIRE(trainGate(joint("whole", 20)).finished);
        REQUIRE(trainGate(joint("parts", 10)).finished);
        const auto resumed = trainGate(joint("parts", 20));
        CHECK(resumed.startStep == 10);
        for (const auto* file : {"ttt.safetensors", "gate/gate.safetensors", "gate/gate.json"})
            CHECK(ponder::testing::readText(out.path / "whole" / file) ==
                  ponder::testing::readText(out.path / "parts" / file));
    }
    SECTION("the published undetached advantage moves the layer; the default does not let it") {
        auto detached = joint("detached", 4), undetached = joint("undetached", 4);
        detached.kind = undetached.kind = "listnet";
        undetached.advantageGradient = true;
        REQUIRE(trainGate(detached).finished);
        REQUIRE(trainGate(undetached).finished);
        CHECK(ponder::testing::readText(detached.outDir / "ttt.safetensors") !=
              ponder::testing::readText(undetached.outDir / "ttt.safetensors"));
        CHECK(ponder::testing::readText(detached.outDir / "gate/gate.json")
                  .find("the advantage is detached") != std::string::npos);
    }
    SECTION("refused: the model's own folder as output, the joint-only options alone") {
        auto own = joint("unused", 2);
        own.outDir = tiny.model;
        CHECK_THROWS_WITH(trainGate(own), Catch::Contains("overwrite the model's own TTT"));
        auto alone = tinyGateOptions(tiny.model, out.path / "alone", 2);
        alone.freshTtt = true;
        CHECK_THROWS_AS(trainGate(alone), InputError);
    }
}
