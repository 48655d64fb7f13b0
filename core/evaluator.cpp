// Runs units through the model (unit_compute.h does the tensor work) and turns the results
// into plain records: losses, signals, SKIP statistics, line ranges, timing.
#include "core/evaluator.h"

#include <algorithm>
#include <chrono>
#include <random>

#include <torch/torch.h>

#include "core/bpe_tokenizer.h"
#include "core/errors.h"
#include "core/gpt2_model.h"
#include "core/runtime.h"
#include "core/sha256.h"
#include "core/ttt_layer.h"
#include "core/unit_compute.h"

namespace ponder::core {
namespace fs = std::filesystem;

namespace {

// Per sequence mean over its targets, then mean over sequences (algorithm.md §4 step 3).
double sequenceMean(const torch::Tensor& perToken) {
    return perToken.to(torch::kFloat64).mean(1).mean().item<double>();
}

// Permutes each row of ids [S, T] in place (EvalOptions::shuffle): row r gets the r-th
// permutation drawn from a generator seeded with seed + chunk index.
void shuffleRows(std::vector<std::int64_t>& ids, std::int64_t rows, std::int64_t tokens,
                 std::uint64_t seed) {
    std::mt19937_64 generator(seed);
    for (std::int64_t row = 0; row < rows; ++row) {
        const auto begin = ids.begin() + row * tokens;
        std::shuffle(begin, begin + tokens, generator);
    }
}

std::vector<float> toVector(const torch::Tensor& tensor) {
    const auto cpu = tensor.to(torch::kCPU, torch::kFloat32).contiguous();
    return {cpu.data_ptr<float>(), cpu.data_ptr<float>() + cpu.numel()};
}

}  // namespace

struct Evaluator::Impl {
    fs::path modelDir;
    std::string device;
    torch::Device torchDevice{torch::kCPU};
    EvalOptions options;
    std::unique_ptr<BpeTokenizer> tokenizer;
    Gpt2Model gpt2{nullptr};
    TttModel ttt{nullptr};
    std::string backboneSha;
};

Evaluator::Evaluator(const fs::path& modelDir, const EvalOptions& options)
    : m_impl(std::make_unique<Impl>()) {
    auto& impl = *m_impl;
    impl.modelDir = modelDir;
    impl.options = options;
    impl.device = resolveDevice(options.device);
    impl.torchDevice = torch::Device(impl.device);
    if (!fs::is_directory(modelDir))
        throw ModelLoadError("model directory '" + modelDir.string() + "' does not exist",
                             "pass a model directory (config.json, model.safetensors, tokenizer, "
                             "ttt.safetensors + ttt.json)");
    impl.tokenizer = std::make_unique<BpeTokenizer>(BpeTokenizer::load(modelDir));
    impl.gpt2 = loadGpt2(modelDir, impl.torchDevice);
    impl.backboneSha = sha256FileHex(modelDir / "model.safetensors");
    impl.ttt = loadTttCheckpoint(modelDir, impl.gpt2->config().nEmbd, impl.backboneSha,
                                 options.forceCheckpoint, impl.torchDevice);
    impl.ttt->eval();
    if (options.causalK) {
        if (*options.causalK != 0 && *options.causalK != -1)
            throw InputError("causal_k must be 0 or -1, not " + std::to_string(*options.causalK),
                             "use --causal-k -1 for the diagonal ablation");
        impl.ttt->setCausalK(*options.causalK);
    }
    if (options.shuffle) impl.options.keepTokenLosses = false;
    if (impl.tokenizer->vocabSize() > static_cast<std::size_t>(impl.gpt2->config().vocabSize))
        throw ModelLoadError("tokenizer has more tokens than the model's vocab_size",
                             "the tokenizer files belong to another model");
}

Evaluator::~Evaluator() = default;

const BpeTokenizer& Evaluator::tokenizer() const { return *m_impl->tokenizer; }
const Gpt2Config& Evaluator::backboneConfig() const { return m_impl->gpt2->config(); }
const TttConfig& Evaluator::tttConfig() const { return m_impl->ttt->config(); }
const std::string& Evaluator::backboneSha256() const { return m_impl->backboneSha; }
const std::string& Evaluator::device() const { return m_impl->device; }

PlanOptions Evaluator::planOptions(EvalMode mode, std::int64_t chunk) const {
    PlanOptions options;
    options.mode = mode;
    options.chunk = chunk;
    options.miniBatch = tttConfig().miniBatch;
    if (chunk > backboneConfig().nPositions)
        throw InputError("chunk of " + std::to_string(chunk) + " tokens exceeds the model's " +
                             std::to_string(backboneConfig().nPositions) + " positions",
                         "use a smaller --chunk");
    return options;
}

UnitRecord Evaluator::evaluateUnit(const EvalPlan& plan, const PlanUnit& unit) {
    auto& impl = *m_impl;
    torch::InferenceMode inference;
    const auto start = std::chrono::steady_clock::now();
    auto unitIds = plan.unitIds(unit);
    if (impl.options.shuffle)
        shuffleRows(unitIds, unit.sequences, unit.tokens,
                    impl.options.shuffleSeed + std::uint64_t(unit.chunkIndex));
    const auto ids = torch::tensor(unitIds, torch::kInt64)
                         .view({unit.sequences, unit.tokens})
                         .to(impl.torchDevice);
    // Local positions 0..T-1 for every chunk (algorithm.md §1, §9.4).
    const auto positions = torch::arange(unit.tokens, torch::TensorOptions()
                                                          .dtype(torch::kInt64)
                                                          .device(impl.torchDevice));
    const auto result = computeUnit(impl.gpt2, impl.ttt, ids, positions);
    const auto& skip = result.skip;
    const auto& update = result.update;

    UnitRecord record;
    record.unit = unit.index;
    record.fileIndex = unit.fileIndex;
    record.batchIndex = unit.batchIndex;
    record.chunkIndex = unit.chunkIndex;
    record.tokenStart = unit.tokenStart;
    record.tokens = unit.tokens;
    record.sequences = unit.sequences;
    if (unit.fileIndex >= 0) {
        const auto& file = plan.files[unit.fileIndex];
        record.file = file.path.string();
        record.lineStart = file.lineOf(file.tokenByteStart[unit.tokenStart]);
        record.lineEnd = file.lineOf(file.tokenByteStart[unit.tokenStart + unit.tokens - 1]);
        if (impl.options.keepTokenLosses) {
            record.tokenLossSkip = toVector(skip.ce);
            record.tokenLossUpdate = toVector(update.ce);
        }
    } else {
        record.file = "<packed corpus>";
    }
    record.lossSkip = sequenceMean(skip.ce);
    record.lossUpdate = sequenceMean(update.ce);
    record.advantage = record.lossSkip - record.lossUpdate;
    // Signals: means over sequences, heads and mini-batches (algorithm.md §3).
    record.reconStep0 = result.stats.step0.to(torch::kFloat64).mean().item<double>();
    record.reconInit = result.stats.init.to(torch::kFloat64).mean().item<double>();
    record.reconStep1 = result.stats.step1.to(torch::kFloat64).mean().item<double>();
    record.improvement = record.reconStep0 - record.reconStep1;
    record.entropy = sequenceMean(skip.entropy);
    record.confidence = sequenceMean(skip.confidence);
    record.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return record;
}

bool Evaluator::run(const EvalPlan& plan, const std::function<void(const UnitRecord&)>& onUnit,
                    const std::function<void(const EvalProgress&)>& onProgress,
                    const std::atomic<bool>* cancel) {
    const auto start = std::chrono::steady_clock::now();
    std::int64_t tokensDone = 0;
    EvalProgress progress;
    progress.total = plan.units.size();
    for (const auto& unit : plan.units) {
        if (cancel && cancel->load()) return false;
        const auto record = evaluateUnit(plan, unit);
        tokensDone += unit.tokens * unit.sequences;
        if (onUnit) onUnit(record);
        ++progress.done;
        progress.elapsedSeconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        progress.tokensPerSecond = double(tokensDone) / std::max(progress.elapsedSeconds, 1e-9);
        progress.etaSeconds = progress.elapsedSeconds / double(progress.done) *
                              double(progress.total - progress.done);
        if (onProgress) onProgress(progress);
    }
    return true;
}

}  // namespace ponder::core
