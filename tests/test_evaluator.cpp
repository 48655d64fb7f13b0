// The evaluation engine (design.md §4): each unit's SKIP and UPDATE losses, signals and SKIP
// distribution statistics equal a direct recomputation from the model's parts; streaming,
// cancellation, paper-mode batching and the refusal of missing or mismatched checkpoints.
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "core/eval/evaluator.h"
#include "core/eval/online_gate.h"
#include "core/gating/policies.h"
#include "core/model/gpt2_model_impl.h"
#include "core/model/model_dir.h"
#include "core/model/ttt_config.h"
#include "core/model/ttt_layer_impl.h"
#include "core/runtime/fast_path_bench.h"
#include "core/store/run_recorder.h"
#include "core/store/run_store.h"
#include "core/text/bpe_tokenizer.h"
#include "core/util/errors.h"
#include "core/util/sha256.h"
#include "tests/test_support.h"

// LibTorch pulls in glog, whose one-argument CHECK (abort on failure, never counted) would
// replace Catch's; so Torch comes first and Catch's CHECK is the one left defined.
#undef CHECK
#include <catch2/catch.hpp>

using namespace ponder::core;
namespace fs = std::filesystem;

namespace {

// The tests' tiny model with a random TTT layer, and 30 small functions of code.
struct ModelFixture {
    ponder::testing::TinyModel tiny{ponder::testing::tinyModelOptions(), "ponder_eval"};
    fs::path dir = tiny.dir.path;
    fs::path model = tiny.model;
    fs::path source = dir / "sample.py";
    ModelFixture() {
        std::ofstream out(source);
        for (int i = 0; i < 30; ++i)
            out << "def f" << i << "(x):\n    return x * " << i << " + len('héllo')\n";
    }
};

// Mean next-token CE of logits [S, T, V] against ids [S, T], per sequence then over sequences.
double directLoss(const torch::Tensor& logits, const torch::Tensor& ids) {
    const auto logProbs = torch::log_softmax(logits.slice(1, 0, -1).to(torch::kFloat64), -1);
    const auto picked = logProbs.gather(2, ids.slice(1, 1).unsqueeze(2)).squeeze(2);
    return (-picked).mean(1).mean().item<double>();
}

}  // namespace

TEST_CASE("eval: unit losses, signals and SKIP statistics equal a direct recomputation", "[eval]") {
    ModelFixture fixture;
    EvalOptions options;
    Evaluator evaluator(fixture.model, options);
    const auto plan = buildEvalPlan(evaluator.tokenizer(), {fixture.source},
                                    evaluator.planOptions(EvalMode::File, 128));
    REQUIRE(plan.units.size() >= 3);

    torch::InferenceMode inference;
    auto gpt2 = loadGpt2(fixture.model);
    auto ttt = loadTttCheckpoint(fixture.model, 32,
                                 sha256FileHex(fixture.model / "model.safetensors"), false);
    for (const auto& unit : plan.units) {
        const auto record = evaluator.evaluateUnit(plan, unit);
        const auto ids = torch::tensor(plan.unitIds(unit), torch::kInt64).view({1, unit.tokens});
        const auto positions = torch::arange(unit.tokens, torch::kInt64);
        const auto hidden = gpt2->hidden(ids, positions);
        const auto skipLogits = gpt2->logits(hidden);
        const auto updated = ttt->forward(hidden, positions);
        INFO("unit " << unit.index);
        CHECK(record.lossSkip == Approx(directLoss(skipLogits, ids)).epsilon(1e-5));
        CHECK(record.lossUpdate ==
              Approx(directLoss(gpt2->logits(updated.hidden), ids)).epsilon(1e-5));
        CHECK(record.advantage == Approx(record.lossSkip - record.lossUpdate));
        CHECK(record.lossUpdate != Approx(record.lossSkip));  // the test model's wo is non-zero
        CHECK(record.reconStep0 == Approx(updated.stats.step0.mean().item<double>()).epsilon(1e-5));
        CHECK(record.reconInit == Approx(updated.stats.init.mean().item<double>()).epsilon(1e-5));
        CHECK(record.improvement == Approx(record.reconStep0 - record.reconStep1));
        const auto probs = torch::softmax(skipLogits.slice(1, 0, -1).to(torch::kFloat64), -1);
        const double entropy = (-(probs * probs.log()).sum(-1)).mean().item<double>();
        const double confidence = std::get<0>(probs.max(-1)).mean().item<double>();
        CHECK(record.entropy == Approx(entropy).epsilon(1e-5));
        CHECK(record.confidence == Approx(confidence).epsilon(1e-5));
        // The same two on the UPDATE path's distribution (system A reads these, gates.md §1).
        const auto updateProbs =
            torch::softmax(gpt2->logits(updated.hidden).slice(1, 0, -1).to(torch::kFloat64), -1);
        const double entropyUpdate =
            (-(updateProbs * updateProbs.log()).sum(-1)).mean().item<double>();
        CHECK(record.entropyUpdate == Approx(entropyUpdate).epsilon(1e-5));
        CHECK(record.entropyUpdate != Approx(record.entropy).epsilon(1e-9));
        CHECK(record.confidenceUpdate ==
              Approx(std::get<0>(updateProbs.max(-1)).mean().item<double>()).epsilon(1e-5));
        REQUIRE(record.tokenLossSkip.size() == std::size_t(unit.tokens - 1));
        double sum = 0;
        for (float v : record.tokenLossSkip)
            sum += v;
        CHECK(sum / record.tokenLossSkip.size() == Approx(record.lossSkip).epsilon(1e-4));
        CHECK(record.lineStart >= 1);
        CHECK(record.lineEnd >= record.lineStart);
    }
}

TEST_CASE(
    "eval: loss_static is the UPDATE loss of the same model with base_lr 0, and the parts "
    "sum to the advantage",
    "[eval][split]") {
    // algorithm.md §4.1. The independent computation: a copy of the model whose ttt.json sets
    // base_lr 0, evaluated the ordinary way (the full dual-form scan with every η zero).
    ModelFixture fixture;
    const auto frozenDir = fixture.dir / "frozen-model";
    fs::copy(fixture.model, frozenDir, fs::copy_options::recursive);
    auto frozenConfig = loadTttConfig(frozenDir / "ttt.json");
    REQUIRE(frozenConfig.baseLr != 0.0);
    frozenConfig.baseLr = 0.0;
    saveTttConfig(frozenConfig, frozenDir / "ttt.json");

    EvalOptions options;
    options.staticPath = true;
    Evaluator evaluator(fixture.model, options), frozen(frozenDir, {}), plain(fixture.model, {});
    const auto plan = buildEvalPlan(evaluator.tokenizer(), {fixture.source},
                                    evaluator.planOptions(EvalMode::File, 128));
    REQUIRE(plan.units.size() >= 3);
    for (const auto& unit : plan.units) {
        INFO("unit " << unit.index);
        const auto record = evaluator.evaluateUnit(plan, unit);
        const auto reference = frozen.evaluateUnit(plan, unit);
        CHECK(record.lossStatic == Approx(reference.lossUpdate).epsilon(1e-6));
        CHECK(record.lossSkip == Approx(reference.lossSkip).epsilon(1e-9));
        CHECK(std::abs(record.advInner()) > 1e-6);  // the random layer's inner loop does move it
        CHECK(record.advStatic() + record.advInner() == Approx(record.advantage).epsilon(1e-12));
        // Everything else is what a run without the static path computes.
        const auto without = plain.evaluateUnit(plan, unit);
        CHECK(std::isnan(without.lossStatic));
        CHECK(without.lossUpdate == Approx(record.lossUpdate).epsilon(1e-9));
        CHECK(without.reconStep0 == Approx(record.reconStep0).epsilon(1e-9));
        // The gated fast path never computes it, not even for a unit it updates.
        const auto gated =
            evaluator.evaluateUnitGated(plan, unit, [](const UnitRecord&) { return true; });
        CHECK(std::isnan(gated.lossStatic));
    }
}

TEST_CASE("eval: run streams every unit in order with progress, and stops when cancelled",
          "[eval]") {
    ModelFixture fixture;
    Evaluator evaluator(fixture.model, {});
    const auto plan = buildEvalPlan(evaluator.tokenizer(), {fixture.source},
                                    evaluator.planOptions(EvalMode::File, 64));
    std::vector<std::int64_t> seen;
    std::size_t lastDone = 0;
    CHECK(evaluator.run(
        plan, [&](const UnitRecord& r) { seen.push_back(r.unit); },
        [&](const EvalProgress& p) {
            CHECK(p.done == lastDone + 1);
            CHECK(p.total == plan.units.size());
            lastDone = p.done;
        }));
    REQUIRE(seen.size() == plan.units.size());
    for (std::size_t i = 0; i < seen.size(); ++i)
        CHECK(seen[i] == std::int64_t(i));

    std::atomic<bool> cancel{false};
    std::size_t done = 0;
    const bool finished = evaluator.run(
        plan,
        [&](const UnitRecord&) {
            if (++done == 2) cancel = true;
        },
        {}, &cancel);
    CHECK_FALSE(finished);
    CHECK(done == 2);
}

TEST_CASE("eval: a paper-mode unit averages per-sequence losses over its batch of windows",
          "[eval]") {
    ModelFixture fixture;
    Evaluator evaluator(fixture.model, {});
    auto options = evaluator.planOptions(EvalMode::Paper, 64);
    options.paperBatch = 2;
    const auto plan =
        buildEvalPlan(evaluator.tokenizer(), {fixture.source, fixture.source}, options);
    REQUIRE(plan.units[0].sequences == 2);
    const auto whole = evaluator.evaluateUnit(plan, plan.units[0]);
    double perSequence = 0;
    for (std::int64_t row = 0; row < 2; ++row) {
        auto single = plan.units[0];
        single.sequences = 1;
        single.tokenStart += row * options.paperWindow();
        perSequence += evaluator.evaluateUnit(plan, single).lossSkip / 2;
    }
    CHECK(whole.lossSkip == Approx(perSequence).epsilon(1e-5));
    CHECK(whole.file == "<packed corpus>");
}

TEST_CASE("eval: a missing or mismatched TTT checkpoint is refused with a hint", "[eval]") {
    ModelFixture fixture;
    const auto bare = fixture.dir / "bare";
    fs::create_directories(bare);
    for (const char* name : {"config.json", "model.safetensors", "vocab.json", "merges.txt"})
        fs::copy_file(fixture.model / name, bare / name);
    CHECK_THROWS_AS(Evaluator(bare, {}), ModelLoadError);

    // Same TTT files next to a different backbone: the sha256 no longer matches.
    const auto other = fixture.dir / "other";
    auto options = ponder::testing::tinyModelOptions(false);
    options.seed = 99;
    makeTestModel(other, options);
    fs::copy_file(fixture.model / "ttt.safetensors", other / "ttt.safetensors");
    fs::copy_file(fixture.model / "ttt.json", other / "ttt.json");
    CHECK_THROWS_WITH(Evaluator(other, {}), Catch::Contains("backbone"));
    EvalOptions forced;
    forced.forceCheckpoint = true;
    CHECK_NOTHROW(Evaluator(other, forced));
}

TEST_CASE("eval: the gated fast path equals the both-paths unit when it updates and skips the rest",
          "[eval][fast-path]") {
    ModelFixture fixture;
    Evaluator evaluator(fixture.model, EvalOptions{});
    const auto plan = buildEvalPlan(evaluator.tokenizer(), {fixture.source},
                                    evaluator.planOptions(EvalMode::File, 64));
    REQUIRE(plan.units.size() >= 6);
    for (const auto& unit : plan.units) {
        const auto full = evaluator.evaluateUnit(plan, unit);
        double seenSignal = kNaN, seenLossUpdate = 0;
        const auto updated = evaluator.evaluateUnitGated(plan, unit, [&](const UnitRecord& r) {
            seenSignal = r.reconInit;
            seenLossUpdate = r.lossUpdate;
            return true;
        });
        INFO("unit " << unit.index);
        // The decision sees the pre-update signal, and nothing of the UPDATE path yet.
        CHECK(seenSignal == Approx(full.reconInit).epsilon(1e-12));
        CHECK(std::isnan(seenLossUpdate));
        CHECK(updated.lossSkip == Approx(full.lossSkip).epsilon(1e-12));
        CHECK(updated.lossUpdate == Approx(full.lossUpdate).epsilon(1e-12));
        CHECK(updated.reconStep0 == Approx(full.reconStep0).epsilon(1e-12));
        CHECK(updated.reconStep1 == Approx(full.reconStep1).epsilon(1e-12));
        CHECK(updated.entropy == Approx(full.entropy).epsilon(1e-12));
        // The fast path computes no UPDATE-path distribution statistics: no gate of it reads them.
        CHECK(std::isnan(updated.entropyUpdate));
        CHECK(std::isnan(updated.confidenceUpdate));
        CHECK(updated.tokenLossUpdate.size() == full.tokenLossUpdate.size());

        const auto skipped = evaluator.evaluateUnitGated(
            plan, unit, [](const UnitRecord&) { return false; }, false);
        CHECK(skipped.lossSkip == Approx(full.lossSkip).epsilon(1e-12));
        CHECK(skipped.reconInit == Approx(full.reconInit).epsilon(1e-12));
        CHECK(std::isnan(skipped.lossUpdate));
        CHECK(std::isnan(skipped.reconStep0));
        CHECK(std::isnan(skipped.entropy));  // statistics not asked for
        CHECK(std::isnan(skipped.entropyUpdate));
        CHECK(std::isnan(skipped.confidenceUpdate));
        CHECK(skipped.tokenLossUpdate.empty());
    }
}

TEST_CASE("eval: an online recon_init gate decides as its replay over both-path records",
          "[eval][fast-path]") {
    ModelFixture fixture;
    Evaluator evaluator(fixture.model, EvalOptions{});
    const auto plan = buildEvalPlan(evaluator.tokenizer(), {fixture.source},
                                    evaluator.planOptions(EvalMode::File, 32));
    REQUIRE(plan.units.size() >= 12);
    PolicySpec spec;
    spec.signal = Signal::ReconInit;
    spec.rate = 0.4;
    spec.calibrationUnits = 4;  // so most units are gated, not forced
    std::vector<UnitRecord> full, gated;
    evaluator.run(plan, [&](const UnitRecord& r) { full.push_back(r); });
    evaluator.runGated(plan, onlineGate(spec), false,
                       [&](const UnitRecord& r) { gated.push_back(r); });
    const auto replay = runPolicy(spec, unitTableFrom(full));
    REQUIRE(gated.size() == full.size());
    std::size_t skips = 0;
    for (std::size_t u = 0; u < full.size(); ++u) {
        INFO("unit " << u);
        const bool updated = !std::isnan(gated[u].lossUpdate);
        CHECK(updated == (replay.decisions[u] == 1));
        skips += !updated;
    }
    CHECK(skips > 0);
    CHECK(skips < full.size() - 4);

    FastPathOptions options;
    options.gate = spec;
    options.rates = {0.3, 0.7};
    const auto bench = benchmarkFastPath(evaluator, plan, options);
    REQUIRE(bench.timings.size() == 5);
    REQUIRE(bench.rates.size() == 2);
    for (const auto& row : bench.rates) {
        CHECK(row.decisionMismatches == 0);
        CHECK(row.maxLossDifference < 1e-9);
        CHECK(row.gated.loss == Approx(row.replayed.loss).epsilon(1e-9));
        CHECK(row.oracleLoss <= row.randomLoss + 1e-12);
    }
    CHECK(bench.rates[0].gated.rate < bench.rates[1].gated.rate);

    spec.signal = Signal::ReconStep0;  // only known after the update
    CHECK_THROWS_AS(onlineGate(spec), InputError);
}

TEST_CASE(
    "eval: a LibTorch error thrown mid-run leaves the stored run failed with the units before it",
    "[eval][recorder]") {
    ModelFixture fixture;
    Evaluator evaluator(fixture.model, {});
    const auto plan = buildEvalPlan(evaluator.tokenizer(), {fixture.source},
                                    evaluator.planOptions(EvalMode::File, 64));
    REQUIRE(plan.units.size() >= 4);
    const auto db = fixture.dir / "runs.sqlite";
    RecorderOptions recording;
    recording.database = db;
    ErrorReport report;
    try {
        RunRecorder recorder(AnalysisSettings{}, recording);
        recorder.begin(describeRun(evaluator, plan, fixture.model.string()), plan);
        evaluator.run(plan, [&](const UnitRecord& unit) {
            recorder.add(unit);
            if (recorder.units().size() == 2)
                (void)torch::zeros({2}).view({3});  // c10::Error: shape '[3]' is invalid
        });
        recorder.finish(false, 1, 1);
        FAIL("the view should have thrown");
    } catch (...) {
        report = describeError(std::current_exception());
    }
    CHECK(report.kind == ErrorKind::Internal);
    CHECK(report.what.find('\n') == std::string::npos);  // first line only, no backtrace
    CHECK(report.what.find("invalid") != std::string::npos);
    const auto runs = RunStore(db).listRuns();
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].status == RunStatus::Failed);
    CHECK(runs[0].units == 2);
}

// The CUDA variant: on a machine whose LibTorch has CUDA, every path must give the CPU's
// numbers. Without CUDA there is nothing to compare, which it says.
TEST_CASE("eval: cuda: the evaluation and the gated fast path on the GPU equal the CPU's",
          "[eval][cuda]") {
    if (!torch::cuda::is_available()) {
        WARN(
            "no CUDA device here, or no CUDA in this LibTorch: the CPU/GPU comparison did not "
            "run");
        return;
    }
    ModelFixture fixture;
    EvalOptions cpuOptions, gpuOptions;
    gpuOptions.device = "cuda";
    Evaluator cpu(fixture.model, cpuOptions), gpu(fixture.model, gpuOptions);
    const auto plan =
        buildEvalPlan(cpu.tokenizer(), {fixture.source}, cpu.planOptions(EvalMode::File, 64));
    for (const auto& unit : plan.units) {
        const auto a = cpu.evaluateUnit(plan, unit), b = gpu.evaluateUnit(plan, unit);
        INFO("unit " << unit.index);
        CHECK(b.lossSkip == Approx(a.lossSkip).epsilon(1e-4));
        CHECK(b.lossUpdate == Approx(a.lossUpdate).epsilon(1e-4));
        CHECK(b.reconStep0 == Approx(a.reconStep0).epsilon(1e-3));
        CHECK(b.reconInit == Approx(a.reconInit).epsilon(1e-3));
        const auto gated =
            gpu.evaluateUnitGated(plan, unit, [](const UnitRecord&) { return true; });
        CHECK(gated.lossUpdate == Approx(b.lossUpdate).epsilon(1e-6));
    }
}
