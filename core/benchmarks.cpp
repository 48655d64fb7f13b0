// Benchmarks for `ponder bench`: GPT-2 forward and tokenizer throughput.
#include "core/benchmarks.h"

#include <chrono>

#include <torch/torch.h>

#include "core/bpe_tokenizer.h"
#include "core/file_io.h"
#include "core/gpt2_model.h"

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

ForwardBenchmark benchmarkGpt2Forward(const Gpt2Config& config, std::int64_t batch,
                                      std::int64_t length, double minSeconds,
                                      const std::string& device) {
    torch::InferenceMode inference;
    const torch::Device dev(device);
    Gpt2Model model(config);
    model->initialiseWeights(0);
    model->to(dev);
    model->eval();
    const auto ids = torch::randint(config.vocabSize, {batch, length},
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
        double(batch) * (gpt2BackboneFlops(config, length) + gpt2LmHeadFlops(config, length));
    result.gflops = flopsPerRun * result.runs / result.seconds / 1e9;
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
        for (const auto& text : texts) tokens += tokenizer.encode(text).size();
        return std::make_pair(tokens, secondsSince(start));
    };
    const auto [coldTokens, coldSeconds] = pass();
    const auto [warmTokens, warmSeconds] = pass();
    result.tokens = coldTokens;
    result.coldTokensPerSecond = double(coldTokens) / coldSeconds;
    result.warmTokensPerSecond = double(warmTokens) / warmSeconds;
    return result;
}

}  // namespace ponder::core
