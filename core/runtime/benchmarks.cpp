// Benchmarks for `ponder bench`: backbone forward, units, tokenizer and policy replay.
#include "core/runtime/benchmarks.h"

#include <algorithm>
#include <chrono>
#include <random>

#include <torch/torch.h>

#include "core/eval/unit_compute_impl.h"
#include "core/gating/policies.h"
#include "core/model/gemma3_model_impl.h"
#include "core/model/gpt2_model_impl.h"
#include "core/model/ttt_layer_impl.h"
#include "core/runtime/bench_setup_impl.h"
#include "core/text/bpe_tokenizer.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"

namespace ponder::core {

namespace {
using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}
}  // namespace

double gpt2BackboneFlops(const Gpt2Config& config, std::int64_t length) {
    const double t = double(length), d = double(config.nEmbd), inner = double(config.innerSize());
    const double projections = 2.0 * t * d * (3 * d + d) + 2.0 * t * d * inner * 2;
    const double attention = 2.0 * 2.0 * t * t * d;  // QK^T and AV over all heads
    return double(config.nLayer) * (projections + attention);
}

double gpt2LmHeadFlops(const Gpt2Config& config, std::int64_t length) {
    return 2.0 * double(length) * double(config.nEmbd) * double(config.vocabSize);
}

std::int64_t BenchShape::positions() const {
    return gemma3 ? gemma.maxPositions : gpt2.nPositions;
}

std::int64_t BenchShape::parameterCount() const {
    return gemma3 ? gemma.parameterCount() : gpt2.parameterCount();
}

BenchShape benchShape(const std::string& name) {
    BenchShape shape;
    shape.name = name;
    auto& g = shape.gpt2;  // defaults are GPT-2 small (124M)
    auto& c = shape.gemma;
    if (name == "small") {
    } else if (name == "medium") {
        g.nEmbd = 1024, g.nLayer = 24, g.nHead = 16;
    } else if (name == "large") {
        g.nEmbd = 1280, g.nLayer = 36, g.nHead = 20;
    } else if (name == "xl") {
        g.nEmbd = 1600, g.nLayer = 48, g.nHead = 25;
    } else if (name == "gemma3-1b" || name == "gemma3-4b" || name == "gemma3-12b") {
        shape.gemma3 = true;  // Gemma3Config's defaults are the 1B's
        if (name == "gemma3-4b") {
            c.vocabSize = 262208, c.hiddenSize = 2560, c.intermediateSize = 10240;
            c.numLayers = 34, c.numHeads = 8, c.numKvHeads = 4, c.slidingWindow = 1024;
            c.maxPositions = 131072, c.ropeScalingFactor = 8.0;
        } else if (name == "gemma3-12b") {
            c.vocabSize = 262208, c.hiddenSize = 3840, c.intermediateSize = 15360;
            c.numLayers = 48, c.numHeads = 16, c.numKvHeads = 8, c.slidingWindow = 1024;
            c.maxPositions = 131072, c.ropeScalingFactor = 8.0;
        }
        c.slidingLayers = gemma3SlidingPattern(c.numLayers);
    } else {
        throw InputError("unknown {--shape} '" + name + "'",
                         "use small, medium, large, xl, gemma3-1b, gemma3-4b or gemma3-12b");
    }
    return shape;
}

double backboneFlops(const BenchShape& shape, std::int64_t length) {
    if (!shape.gemma3) return gpt2BackboneFlops(shape.gpt2, length);
    const auto& c = shape.gemma;
    const double t = double(length) + 1, d = double(c.hiddenSize);  // + the BOS
    const double projections = 2.0 * t * d * double(2 * c.queryWidth() + 2 * c.kvWidth()) +
                               2.0 * t * d * double(c.intermediateSize) * 3;
    const double attention = 2.0 * 2.0 * t * t * double(c.queryWidth());
    return double(c.numLayers) * (projections + attention);
}

double lmHeadFlops(const BenchShape& shape, std::int64_t length) {
    if (!shape.gemma3) return gpt2LmHeadFlops(shape.gpt2, length);
    return 2.0 * double(length) * double(shape.gemma.hiddenSize) * double(shape.gemma.vocabSize);
}

std::shared_ptr<Backbone> randomBackbone(const BenchShape& shape, const torch::Device& device,
                                         torch::ScalarType dtype) {
    std::shared_ptr<Backbone> model;
    if (shape.gemma3) {
        Gemma3Model gemma(shape.gemma,
                          torch::TensorOptions().dtype(torch::kFloat32).device(device));
        gemma->initialiseWeights(0);
        model = gemma.ptr();
    } else {
        Gpt2Model gpt2(shape.gpt2);
        gpt2->initialiseWeights(0);
        model = gpt2.ptr();
    }
    // Initialised in float32, then converted: each dtype holds the same weights, rounded.
    model->to(device, dtype);
    model->eval();
    return model;
}

std::int64_t vocabOf(const BenchShape& shape) {
    return shape.gemma3 ? shape.gemma.vocabSize : shape.gpt2.vocabSize;
}

UpdateLayer randomUpdateLayer(const Backbone& backbone, const torch::Device& device) {
    const auto tttConfig = TttConfig::forBackboneInfo(backbone.info());
    TttModel model(tttConfig);
    model->initialiseWeights(1);
    model->named_parameters()["ttt.wo.weight"].normal_(0.0, 0.02);
    if (tttConfig.tttWidth > 0) model->named_parameters()["ttt_proj_out.weight"].normal_(0.0, 0.02);
    model->to(device);
    model->eval();
    return UpdateLayer(model);
}

ForwardBenchmark benchmarkForward(const BenchShape& shape, std::int64_t batch, std::int64_t length,
                                  double minSeconds, const std::string& device) {
    torch::InferenceMode inference;
    const torch::Device dev(device);
    auto model = randomBackbone(shape, dev);
    const auto ids = torch::randint(vocabOf(shape), {batch, length},
                                    torch::TensorOptions().dtype(torch::kInt64).device(dev));
    const auto sync = [&] {
        if (dev.is_cuda()) torch::cuda::synchronize();
    };
    model->logits(model->hidden(ids));  // warm-up
    sync();
    ForwardBenchmark result;
    result.tokensPerRun = batch * length;
    const auto start = Clock::now();
    do {
        auto logits = model->logits(model->hidden(ids));
        sync();
        ++result.runs;
        result.seconds = secondsSince(start);
    } while (result.seconds < minSeconds);
    result.tokensPerSecond = double(result.tokensPerRun) * result.runs / result.seconds;
    const double flopsPerRun =
        double(batch) * (backboneFlops(shape, length) + lmHeadFlops(shape, length));
    result.gflops = flopsPerRun * result.runs / result.seconds / 1e9;
    return result;
}

double tttLayerFlops(std::int64_t hidden, std::int64_t heads, std::int64_t headDim,
                     std::int64_t miniBatch, std::int64_t length) {
    const double t = double(length), d = double(headDim), inner = double(heads * headDim);
    const double projections = 2.0 * t * double(hidden) * inner * 4;  // wq, wv, wg, wo
    // Per head and token: K W0-row products and output/carry products with d x d weights
    // (3 of them) and the K x K attention-like products (2 of them), 2 FLOPs each.
    const double dualForm = double(heads) * t * (2.0 * 3 * d * d + 2.0 * 2 * double(miniBatch) * d);
    return projections + dualForm;
}

UnitBenchmark benchmarkEvalUnit(const BenchShape& shape, std::int64_t batch, std::int64_t length,
                                double minSeconds, const std::string& device) {
    torch::InferenceMode inference;
    const torch::Device dev(device);
    auto gpt2 = randomBackbone(shape, dev);
    auto ttt = randomUpdateLayer(*gpt2, dev);
    const auto tttConfig = TttConfig::forBackboneInfo(gpt2->info());
    const auto options = torch::TensorOptions().dtype(torch::kInt64).device(dev);
    const auto ids = torch::randint(vocabOf(shape), {batch, length}, options);
    const auto positions = torch::arange(length, options);

    UnitBenchmark result;
    result.tokensPerUnit = batch * length;
    const double tokens = double(result.tokensPerUnit);
    result.backboneTokensPerSecond =
        tokens * runsPerSecond([&] { gpt2->hidden(ids, positions); }, minSeconds, dev);
    const double sharedRate =
        runsPerSecond([&] { computeUnit(*gpt2, ttt, ids, positions, true); }, minSeconds, dev);
    result.sharedTokensPerSecond = tokens * sharedRate;
    result.splitTokensPerSecond =
        tokens * runsPerSecond([&] { computeUnit(*gpt2, ttt, ids, positions, true, true); },
                               minSeconds, dev);
    result.twoForwardTokensPerSecond =
        tokens *
        runsPerSecond([&] { computeUnit(*gpt2, ttt, ids, positions, false); }, minSeconds, dev);
    const double predicted = double(length - 1) / double(length);
    const double unitFlops =
        double(batch) *
        (backboneFlops(shape, length) + 2.0 * predicted * lmHeadFlops(shape, length) +
         tttLayerFlops(tttConfig.layerWidth(), tttConfig.heads, tttConfig.headDim,
                       tttConfig.miniBatch, length) +
         (tttConfig.tttWidth > 0
              ? 2.0 * 2.0 * double(length) * double(tttConfig.hidden) * double(tttConfig.tttWidth)
              : 0.0));
    result.sharedGflops = unitFlops * sharedRate / 1e9;
    result.flopBoundSpeedup =
        (unitFlops + double(batch) * backboneFlops(shape, length)) / unitFlops;
    return result;
}

TokenizerBenchmark benchmarkTokenizer(const std::filesystem::path& tokenizerDir,
                                      const std::vector<std::filesystem::path>& files) {
    const auto tokenizer = BpeTokenizer::load(tokenizerDir);
    std::vector<std::string> texts;
    TokenizerBenchmark result;
    for (const auto& file : files) {
        texts.push_back(readFileBytes(file));
        result.bytes += texts.back().size();
    }
    const auto pass = [&] {
        std::uint64_t tokens = 0;
        const auto start = Clock::now();
        for (const auto& text : texts)
            tokens += tokenizer.encode(text).size();
        return std::make_pair(tokens, secondsSince(start));
    };
    const auto [coldTokens, coldSeconds] = pass();
    const auto [warmTokens, warmSeconds] = pass();
    result.tokens = coldTokens;
    result.coldTokensPerSecond = double(coldTokens) / coldSeconds;
    result.warmTokensPerSecond = double(warmTokens) / warmSeconds;
    return result;
}

double benchmarkPolicyReplayMs(std::size_t units, int runs, std::uint64_t seed) {
    // Signals shaped like real runs: positive, skewed, loosely tied to the advantage.
    std::mt19937_64 generator(seed);
    std::lognormal_distribution<double> recon(-3.0, 0.5);
    std::normal_distribution<double> noise(0.0, 0.05);
    UnitTable table;
    table.reconStep0.resize(units);
    table.lossSkip.resize(units);
    table.advantage.resize(units);
    table.lossUpdate.resize(units);
    for (std::size_t u = 0; u < units; ++u) {
        table.reconStep0[u] = recon(generator);
        table.lossSkip[u] = 2.0 + noise(generator);
        table.advantage[u] = 2.0 * table.reconStep0[u] + noise(generator);
        table.lossUpdate[u] = table.lossSkip[u] - table.advantage[u];
    }
    PolicySpec spec;
    spec.name = "recon-ema";
    PolicyRun run;
    runPolicyInto(spec, table, run);  // warm-up: sizes the reused buffers, as a slider would
    std::vector<double> times;
    for (int i = 0; i < std::max(1, runs); ++i) {
        spec.rate = 0.1 + 0.8 * double(i) / double(std::max(1, runs));
        const auto start = Clock::now();
        runPolicyInto(spec, table, run);
        times.push_back(secondsSince(start) * 1e3);
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

}  // namespace ponder::core
