// Runs units through the model (unit_compute.h does the tensor work) and turns the results
// into plain records: losses, signals, SKIP statistics, line ranges, timing.
#include "core/eval/evaluator_impl.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <random>
#include <tuple>

#include <torch/torch.h>

#include "core/eval/unit_compute_impl.h"
#include "core/model/backbone_impl.h"
#include "core/model/ttt_layer_impl.h"
#include "core/runtime/runtime.h"
#include "core/text/tokenizer.h"
#include "core/util/errors.h"
#include "core/util/sha256.h"

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
    impl.tokenizer = loadTokenizer(modelDir);
    impl.backbone = loadBackbone(modelDir, impl.torchDevice, options.bf16);
    impl.backboneInfo = impl.backbone->info();
    impl.backboneSha = ponder::core::backboneSha256(modelDir);
    impl.ttt = UpdateLayer::load(modelDir, impl.backboneInfo, impl.backboneSha,
                                 options.forceCheckpoint, impl.torchDevice);
    impl.tttSha = sha256FileHex(modelDir / "ttt.safetensors");
    if (options.causalK) {
        if (*options.causalK != 0 && *options.causalK != -1)
            throw InputError("causal_k must be 0 or -1, not " + std::to_string(*options.causalK),
                             "use {--causal-k -1} for the diagonal ablation");
        impl.ttt.setCausalK(*options.causalK);
    }
    if (options.shuffle) impl.options.keepTokenLosses = false;
    if (impl.tokenizer->vocabSize() > static_cast<std::size_t>(impl.backboneInfo.vocabSize))
        throw ModelLoadError("tokenizer has more tokens than the model's vocab_size",
                             "the tokenizer files belong to another model");
}

Evaluator::~Evaluator() = default;

const Tokenizer& Evaluator::tokenizer() const {
    return *m_impl->tokenizer;
}
const BackboneInfo& Evaluator::backboneInfo() const {
    return m_impl->backboneInfo;
}
const TttConfig& Evaluator::tttConfig() const {
    return m_impl->ttt.config();
}
const std::string& Evaluator::backboneSha256() const {
    return m_impl->backboneSha;
}
const std::string& Evaluator::tttSha256() const {
    return m_impl->tttSha;
}
const std::string& Evaluator::device() const {
    return m_impl->device;
}

std::string Evaluator::dtype() const {
    return m_impl->options.bf16 ? "bfloat16" : "float32";
}

PlanOptions Evaluator::planOptions(EvalMode mode, std::int64_t chunk) const {
    PlanOptions options;
    options.mode = mode;
    options.chunk = chunk;
    options.miniBatch = tttConfig().miniBatch;
    const auto positions = backboneInfo().maxUnitTokens();
    if (chunk > positions)
        throw InputError("chunk of " + std::to_string(chunk) + " tokens exceeds the model's " +
                             std::to_string(positions) + " positions",
                         "use a smaller {--chunk}");
    return options;
}

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The SKIP-side fields: known before any update (what the gated fast path decides on).
void fillSkipSide(UnitRecord& record, const PathLosses& skip, const torch::Tensor& init,
                  bool keepTokenLosses) {
    if (keepTokenLosses) record.tokenLossSkip = toVector(skip.ce);
    record.lossSkip = sequenceMean(skip.ce);
    // Signals: means over sequences, heads and mini-batches (algorithm.md §3); LoRA fast
    // weights have no reconstruction task, so none (algorithm.md §2.7).
    record.reconInit = init.defined() ? init.to(torch::kFloat64).mean().item<double>() : kNaN;
    const bool withStats = skip.entropy.defined();
    record.entropy = withStats ? sequenceMean(skip.entropy) : kNaN;
    record.confidence = withStats ? sequenceMean(skip.confidence) : kNaN;
}

void fillUpdateSide(UnitRecord& record, const PathLosses& update, const TttStats& stats,
                    bool keepTokenLosses) {
    if (keepTokenLosses) record.tokenLossUpdate = toVector(update.ce);
    record.lossUpdate = sequenceMean(update.ce);
    record.advantage = record.lossSkip - record.lossUpdate;
    const auto mean = [](const torch::Tensor& t) {
        return t.defined() ? t.to(torch::kFloat64).mean().item<double>() : kNaN;
    };
    record.reconStep0 = mean(stats.step0);
    record.reconStep1 = mean(stats.step1);
    record.improvement = record.reconStep0 - record.reconStep1;
    const bool withStats = update.entropy.defined();
    record.entropyUpdate = withStats ? sequenceMean(update.entropy) : kNaN;
    record.confidenceUpdate = withStats ? sequenceMean(update.confidence) : kNaN;
}

double secondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

torch::Tensor Evaluator::Impl::unitIds(const EvalPlan& plan, const PlanUnit& unit) const {
    auto ids = plan.unitIds(unit);
    if (options.shuffle)
        shuffleRows(ids, unit.sequences, unit.tokens,
                    options.shuffleSeed + std::uint64_t(unit.chunkIndex));
    return torch::tensor(ids, torch::kInt64).view({unit.sequences, unit.tokens}).to(torchDevice);
}

torch::Tensor Evaluator::Impl::unitPositions(const PlanUnit& unit) const {
    // Local positions 0..T-1 for every chunk (algorithm.md §1, §9.4).
    return torch::arange(unit.tokens,
                         torch::TensorOptions().dtype(torch::kInt64).device(torchDevice));
}

UnitRecord Evaluator::Impl::placedRecord(const EvalPlan& plan, const PlanUnit& unit) const {
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
    } else {
        record.file = "<packed corpus>";
    }
    return record;
}

UnitRecord Evaluator::evaluateUnit(const EvalPlan& plan, const PlanUnit& unit) {
    auto& impl = *m_impl;
    torch::InferenceMode inference;
    const auto start = std::chrono::steady_clock::now();
    const auto ids = impl.unitIds(plan, unit);
    const auto result = computeUnit(*impl.backbone, impl.ttt, ids, impl.unitPositions(unit), true,
                                    impl.options.staticPath);
    auto record = impl.placedRecord(plan, unit);
    const bool keepTokens = unit.fileIndex >= 0 && impl.options.keepTokenLosses;
    fillSkipSide(record, result.skip, result.stats.init, keepTokens);
    impl.addGateFeatures(record, result.skipHidden, result.skip, ids);
    fillUpdateSide(record, result.update, result.stats, keepTokens);
    if (result.staticCe.defined()) record.lossStatic = sequenceMean(result.staticCe);
    if (impl.options.blendSlopes)
        std::tie(record.blendSlopeSkip, record.blendSlopeUpdate) =
            blendSlopes(*impl.backbone, result.skipHidden, result.updateHidden, ids);
    record.seconds = secondsSince(start);
    return record;
}

UnitRecord Evaluator::evaluateUnitGated(const EvalPlan& plan, const PlanUnit& unit,
                                        const GateDecision& decide, bool skipStatistics) {
    auto& impl = *m_impl;
    torch::InferenceMode inference;
    const auto start = std::chrono::steady_clock::now();
    const auto ids = impl.unitIds(plan, unit);
    const auto positions = impl.unitPositions(unit);
    const auto pass = computeSkipPass(*impl.backbone, impl.ttt, ids, positions, skipStatistics);
    auto record = impl.placedRecord(plan, unit);
    const bool keepTokens = unit.fileIndex >= 0 && impl.options.keepTokenLosses;
    fillSkipSide(record, pass.skip, pass.init, keepTokens);
    impl.addGateFeatures(record, pass.hidden, pass.skip, ids);
    record.lossUpdate = record.advantage = record.reconStep0 = record.reconStep1 =
        record.improvement = record.entropyUpdate = record.confidenceUpdate = kNaN;
    if (decide(record)) {
        UnitTensors updated;
        // No UPDATE-path entropy or confidence: no gate of the fast path reads them.
        computeUpdatePath(*impl.backbone, impl.ttt, pass.hidden, ids, positions, false, updated);
        fillUpdateSide(record, updated.update, updated.stats, keepTokens);
    }
    record.seconds = secondsSince(start);
    return record;
}

double Evaluator::timePath(const EvalPlan& plan, const PlanUnit& unit, Path path) {
    auto& impl = *m_impl;
    torch::InferenceMode inference;
    const auto start = std::chrono::steady_clock::now();
    const auto ids = impl.unitIds(plan, unit);
    const auto positions = impl.unitPositions(unit);
    auto hidden = impl.backbone->hidden(ids, positions);
    if (path == Path::Update) hidden = impl.ttt.forward(hidden, positions).hidden;
    const auto losses = nextTokenLosses(*impl.backbone, hidden, ids, false);
    if (losses.ce.is_cuda()) torch::cuda::synchronize();
    return secondsSince(start);
}

bool Evaluator::run(const EvalPlan& plan, const std::function<void(const UnitRecord&)>& onUnit,
                    const std::function<void(const EvalProgress&)>& onProgress,
                    const std::atomic<bool>* cancel) {
    return runUnits(
        plan, [&](const PlanUnit& unit) { return evaluateUnit(plan, unit); }, onUnit, onProgress,
        cancel);
}

bool Evaluator::runGated(const EvalPlan& plan, const Gate& gate, bool skipStatistics,
                         const std::function<void(const UnitRecord&)>& onUnit,
                         const std::function<void(const EvalProgress&)>& onProgress,
                         const std::atomic<bool>* cancel) {
    const auto evaluate = [&](const PlanUnit& unit) {
        auto record = evaluateUnitGated(plan, unit, gate.decide, skipStatistics);
        if (gate.observe) gate.observe(record);
        return record;
    };
    return runUnits(plan, evaluate, onUnit, onProgress, cancel);
}

bool Evaluator::runUnits(const EvalPlan& plan,
                         const std::function<UnitRecord(const PlanUnit&)>& evaluate,
                         const std::function<void(const UnitRecord&)>& onUnit,
                         const std::function<void(const EvalProgress&)>& onProgress,
                         const std::atomic<bool>* cancel) {
    const auto start = std::chrono::steady_clock::now();
    std::int64_t tokensDone = 0;
    EvalProgress progress;
    progress.total = plan.units.size();
    for (const auto& unit : plan.units) {
        if (cancel && cancel->load()) return false;
        const auto record = evaluate(unit);
        tokensDone += unit.tokens * unit.sequences;
        if (onUnit) onUnit(record);
        ++progress.done;
        progress.elapsedSeconds = secondsSince(start);
        progress.tokensPerSecond = double(tokensDone) / std::max(progress.elapsedSeconds, 1e-9);
        progress.etaSeconds = progress.elapsedSeconds / double(progress.done) *
                              double(progress.total - progress.done);
        if (onProgress) onProgress(progress);
    }
    return true;
}

}  // namespace ponder::core
