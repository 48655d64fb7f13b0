// Streaming gated generation: the backbone's decode cache, the TTT layer's token-by-token
// scan (ttt_layer.cpp streamStep), both paths' next-token distributions at every position,
// and the policy deciding at each segment boundary from the segment before it.
#include "core/generate/generator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>

#include <torch/torch.h>

#include "core/eval/evaluator_impl.h"
#include "core/gating/decision_rules.h"
#include "core/generate/streamed_text.h"
#include "core/util/errors.h"

namespace ponder::core {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::int64_t kLogitRows = 128;  // rows of logits alive at once (the prompt's)

double seconds(Clock::time_point since) {
    return std::chrono::duration<double>(Clock::now() - since).count();
}

double mean(const std::vector<double>& values) {
    if (values.empty()) return kNaN;
    double sum = 0;
    for (double v : values)
        sum += v;
    return sum / double(values.size());
}

// The policy at segment boundaries. Segment s + 1 is decided from segment s's signal: in a
// stream the decision can only use what was read or written before it (App. C.2). Segment 0,
// before anything is read, is UPDATE for the signal-driven policies, as the published
// calibration forces its first units to UPDATE.
class SegmentGate {
public:
    SegmentGate(const PolicySpec& spec, std::size_t maxSegments) : m_spec(spec) {
        if (spec.name == "random") m_random = decideRandom(maxSegments, spec.rate, spec.seed);
        if (policyInfo(spec.name).ema) m_ema.emplace(spec);
    }
    GeneratedSegment decide(std::size_t segment, const UnitRecord* previous) {
        GeneratedSegment out;
        const auto& name = m_spec.name;
        if (name == "skip" || name == "update") {
            out.decision = name == "update";
        } else if (name == "random") {
            out.decision = m_random.at(segment);
        } else if (!previous) {
            out.decision = 1;
        } else if (m_ema) {
            const auto step = m_ema->decide(signalOf(*previous));
            out.decision = step.decision;
            out.threshold = step.threshold;
            out.rateEma = step.rateEma;
        } else {  // threshold
            out.decision = signalOf(*previous) > m_spec.threshold;
            out.threshold = m_spec.threshold;
        }
        return out;
    }

private:
    double signalOf(const UnitRecord& record) const {
        UnitTable table = unitTableFrom({record});
        return table.signal(m_spec.signal).front();
    }
    PolicySpec m_spec;
    std::vector<std::uint8_t> m_random;
    std::optional<EmaGate> m_ema;
};

// What a segment gathers while its positions are read: the TTT statistics of the mini-batches
// that end in it (means over heads) and each position's distribution statistics.
struct SegmentStats {
    std::vector<double> init, step0, step1, entropy, confidence, entropyUpdate, confidenceUpdate;
};

// Per row of logits [R, V]: entropy and top-1 probability, and the CE of `targets` (-1: none).
struct RowStats {
    std::vector<double> entropy, confidence, ce;
};
RowStats rowStats(const torch::Tensor& logits, const std::vector<std::int64_t>& targets) {
    const auto logNorm = torch::logsumexp(logits, -1, true);
    const auto logProbs = logits - logNorm;
    // Read on the CPU: data_ptr of a CUDA tensor is device memory.
    const auto toHost = [](const torch::Tensor& t) {
        return t.to(torch::kCPU, torch::kFloat64).contiguous();
    };
    const auto entropy = toHost(-(logProbs.exp() * logProbs).sum(-1));
    const auto confidence = toHost(std::get<0>(logProbs.max(-1)).exp());
    // One gather for every row's target (row without one: index 0, replaced by NaN below).
    std::vector<std::int64_t> index;
    for (const auto target : targets)
        index.push_back(std::max<std::int64_t>(target, 0));
    const auto rows = logits.size(0);
    const auto picked = toHost(-logProbs.gather(
        1, torch::tensor(index, torch::kInt64).view({rows, 1}).to(logits.device())));
    RowStats out;
    out.entropy.assign(entropy.data_ptr<double>(), entropy.data_ptr<double>() + rows);
    out.confidence.assign(confidence.data_ptr<double>(), confidence.data_ptr<double>() + rows);
    for (std::int64_t r = 0; r < rows; ++r)
        out.ce.push_back(targets[r] < 0 ? kNaN : picked.data_ptr<double>()[r]);
    return out;
}

}  // namespace

double Generation::updateRate() const {
    if (segments.empty()) return kNaN;
    double updates = 0;
    for (const auto& s : segments)
        updates += s.decision;
    return updates / double(segments.size());
}

double Generation::generatedLoss() const {
    double sum = 0;
    std::int64_t count = 0;
    for (auto t = std::size_t(std::max<std::int64_t>(promptTokens - 1, 0)); t < tokenPath.size();
         ++t) {
        sum += tokenPath[t] ? tokenLossUpdate[t] : tokenLossSkip[t];
        ++count;
    }
    return count ? sum / double(count) : kNaN;
}

void validateGenerationPolicy(const PolicySpec& spec) {
    static const std::vector<std::string> streamable = {
        "skip",     "update", "random", "recon-ema", "recon-ema-paper", "recon-ema-inverted",
        "threshold"};
    if (std::find(streamable.begin(), streamable.end(), spec.name) == streamable.end())
        throw InputError("policy '" + spec.name + "' cannot gate a generation",
                         "a stream decides from what came before: use skip, update, random, "
                         "recon-ema, recon-ema-paper, recon-ema-inverted or threshold");
    validatePolicy(spec);
}

Generator::Generator(Evaluator& evaluator) : m_evaluator(evaluator) {}

Generation Generator::generate(const std::string& prompt, const GenerateOptions& options,
                               const std::function<void(const std::string&)>& onText,
                               const std::atomic<bool>* cancel) {
    auto ids = m_evaluator.tokenizer().encode(prompt);
    if (ids.empty())
        throw InputError("the prompt is empty",
                         "give a prompt file with some text, or - for "
                         "standard input");
    return generateFromIds(std::move(ids), options, onText, cancel);
}

namespace {

// One generation's state: the backbone's decode cache, the TTT stream, the open segment and
// everything recorded so far.
class StreamRun {
public:
    StreamRun(Evaluator::Impl& parts, const GenerateOptions& options, Generation& out)
        : m_parts(parts),
          m_options(options),
          m_out(out),
          m_every(options.decisionInterval(parts.ttt.config().miniBatch)),
          m_cache(parts.backbone->startDecode()),
          m_gate(options.policy, std::size_t(parts.backboneInfo.maxUnitTokens() / m_every + 2)) {}

    // Reads `fresh` tokens (the prompt at once, then one generated token at a time) through
    // the backbone, the TTT stream and both LM heads; returns the last position's logits on
    // the SKIP and the UPDATE path. Blocks of rows never cross a segment boundary, so a
    // segment is closed only once every prediction in it is known.
    std::pair<torch::Tensor, torch::Tensor> read(const std::vector<std::int32_t>& fresh);
    // The sampled token `next` after the last position read: its CE on both paths, its path.
    void record(std::int32_t next, const torch::Tensor& skipLogits,
                const torch::Tensor& updateLogits, std::uint8_t path);
    // Closes the open segment at the end of the stream.
    void finish() {
        if (!m_out.segments.empty()) closeSegment(m_read);
    }
    std::uint8_t currentPath() const { return m_out.segments.back().decision; }

private:
    void openSegment(std::int64_t start);
    void closeSegment(std::int64_t end);  // the open segment ends before position `end`

    Evaluator::Impl& m_parts;
    const GenerateOptions& m_options;
    Generation& m_out;
    std::int64_t m_every;  // tokens per segment
    std::unique_ptr<Backbone::DecodeCache> m_cache;
    TttStreamState m_state;
    SegmentGate m_gate;
    SegmentStats m_current;   // the open segment's statistics
    std::int64_t m_read = 0;  // positions read so far
};

void StreamRun::openSegment(std::int64_t start) {
    const auto index = m_out.segments.size();
    const UnitRecord* previous = index ? &m_out.segments.back().record : nullptr;
    auto segment = m_gate.decide(index, previous);
    segment.record.unit = std::int64_t(index);
    segment.record.fileIndex = 0;
    segment.record.chunkIndex = std::int64_t(index);
    segment.record.tokenStart = start;
    m_out.segments.push_back(std::move(segment));
}

void StreamRun::closeSegment(std::int64_t end) {
    auto& r = m_out.segments.back().record;
    r.tokens = end - r.tokenStart;
    r.tokenLossSkip.assign(m_out.tokenLossSkip.begin() + r.tokenStart,
                           m_out.tokenLossSkip.begin() + end);
    r.tokenLossUpdate.assign(m_out.tokenLossUpdate.begin() + r.tokenStart,
                             m_out.tokenLossUpdate.begin() + end);
    r.lossSkip = mean(std::vector<double>(r.tokenLossSkip.begin(), r.tokenLossSkip.end()));
    r.lossUpdate = mean(std::vector<double>(r.tokenLossUpdate.begin(), r.tokenLossUpdate.end()));
    r.advantage = r.lossSkip - r.lossUpdate;
    r.reconInit = mean(m_current.init);
    r.reconStep0 = mean(m_current.step0);
    r.reconStep1 = mean(m_current.step1);
    r.improvement = r.reconStep0 - r.reconStep1;
    r.entropy = mean(m_current.entropy);
    r.confidence = mean(m_current.confidence);
    r.entropyUpdate = mean(m_current.entropyUpdate);
    r.confidenceUpdate = mean(m_current.confidenceUpdate);
    m_current = SegmentStats{};
}

std::pair<torch::Tensor, torch::Tensor> StreamRun::read(const std::vector<std::int32_t>& fresh) {
    auto& backbone = *m_parts.backbone;
    auto& ttt = m_parts.ttt.ttt("generation (the TTT stream)");
    const auto count = std::int64_t(fresh.size());
    const auto ids =
        torch::tensor(std::vector<std::int64_t>(fresh.begin(), fresh.end()), torch::kInt64)
            .view({1, count})
            .to(m_parts.torchDevice);
    const auto hidden = backbone.decodeStep(*m_cache, ids)[0];  // [n, D]
    std::pair<torch::Tensor, torch::Tensor> last;
    for (std::int64_t start = 0; start < count;) {
        const auto first = m_read + start;
        if (first % m_every == 0) {
            if (first > 0) closeSegment(first);
            openSegment(first);
        }
        const auto rows = std::min({kLogitRows, count - start, m_every - first % m_every});
        std::vector<torch::Tensor> updated;
        std::vector<std::int64_t> targets;  // the token that follows each row; -1: not yet known
        for (auto t = first; t < first + rows; ++t) {
            // Fast weights restart every chunk, as each evaluation chunk's do (algorithm.md §4).
            if (t % m_options.chunk == 0) m_state = ttt->layer()->startStream();
            TttStreamStats stats;
            updated.push_back(ttt->streamStep(m_state, hidden[t - m_read], stats));
            if (stats.step0.defined()) {
                m_current.init.push_back(stats.init.mean().item<double>());
                m_current.step0.push_back(stats.step0.mean().item<double>());
                m_current.step1.push_back(stats.step1.mean().item<double>());
            }
            targets.push_back(t + 1 < std::int64_t(m_out.ids.size()) ? m_out.ids[t + 1] : -1);
        }
        const auto skipLogits = backbone.logits(hidden.narrow(0, start, rows));
        const auto updateLogits = backbone.logits(torch::cat(updated, 0));
        const auto skip = rowStats(skipLogits, targets), update = rowStats(updateLogits, targets);
        for (std::int64_t r = 0; r < rows; ++r) {
            m_current.entropy.push_back(skip.entropy[r]);
            m_current.confidence.push_back(skip.confidence[r]);
            m_current.entropyUpdate.push_back(update.entropy[r]);
            m_current.confidenceUpdate.push_back(update.confidence[r]);
            if (targets[r] < 0) continue;
            m_out.tokenLossSkip.push_back(float(skip.ce[r]));
            m_out.tokenLossUpdate.push_back(float(update.ce[r]));
            m_out.tokenPath.push_back(currentPath());
        }
        last = {skipLogits[rows - 1], updateLogits[rows - 1]};
        start += rows;
    }
    m_read += count;
    return last;
}

void StreamRun::record(std::int32_t next, const torch::Tensor& skipLogits,
                       const torch::Tensor& updateLogits, std::uint8_t path) {
    const auto ceOf = [&](const torch::Tensor& logits) {
        return float((torch::logsumexp(logits, -1) - logits[next]).item<double>());
    };
    m_out.tokenLossSkip.push_back(ceOf(skipLogits));
    m_out.tokenLossUpdate.push_back(ceOf(updateLogits));
    m_out.tokenPath.push_back(path);
    m_out.ids.push_back(next);
}

}  // namespace

Generation Generator::generateFromIds(std::vector<std::int32_t> promptIds,
                                      const GenerateOptions& options,
                                      const std::function<void(const std::string&)>& onText,
                                      const std::atomic<bool>* cancel) {
    auto& parts = m_evaluator.impl();
    const auto& tokenizer = *parts.tokenizer;
    parts.ttt.ttt("generation (the TTT stream)");  // LoRA is refused before any work
    const auto miniBatch = parts.ttt.config().miniBatch;
    if (promptIds.empty())
        throw InputError("the prompt is empty", "give a prompt with at least one token");
    validateGenerationPolicy(options.policy);
    validateSampling(options.sampling);
    if (options.maxTokens < 0)
        throw InputError("the token budget must not be negative", "use {--max-tokens N}, N >= 0");
    if (options.chunk <= 0 || options.chunk % miniBatch != 0)
        throw InputError(
            "chunk of " + std::to_string(options.chunk) +
                " tokens is not a positive multiple of the TTT mini-batch " +
                std::to_string(miniBatch),
            "use {--chunk 512} (or another multiple of " + std::to_string(miniBatch) + ")");

    // Room within the model's positions: the budget first, then the prompt's last tokens.
    const auto capacity = parts.backboneInfo.maxUnitTokens();
    const auto budget = std::min<std::int64_t>(options.maxTokens, capacity - 1);
    Generation out;
    const auto keep = std::min<std::int64_t>(std::int64_t(promptIds.size()), capacity - budget);
    out.promptTokensDropped = std::int64_t(promptIds.size()) - keep;
    out.ids.assign(promptIds.end() - keep, promptIds.end());
    out.promptTokens = keep;
    out.promptText = tokenizer.decode(out.ids);

    torch::InferenceMode inference;
    StreamRun run(parts, options, out);
    const auto promptStart = Clock::now();
    // All but the prompt's last token at once; the loop reads that one and predicts from it.
    if (keep > 1) run.read(std::vector<std::int32_t>(out.ids.begin(), out.ids.end() - 1));
    out.promptSeconds = seconds(promptStart);

    const auto generateStart = Clock::now();
    TokenSampler sampler(options.sampling);
    StreamedText text(options.stop);
    const auto endOfText = tokenizer.endOfTextId();
    std::vector<std::int32_t> fresh = {out.ids.back()};
    out.stopReason = budget < options.maxTokens ? "positions" : "max-tokens";
    while (out.generatedTokens() < budget) {
        if (cancel && cancel->load()) {
            out.stopReason = "cancelled";
            break;
        }
        const auto [skipLogits, updateLogits] = run.read(fresh);
        const auto path = run.currentPath();
        const auto chosen =
            (path ? updateLogits : skipLogits).to(torch::kCPU, torch::kFloat32).contiguous();
        const auto next = sampler.sample(chosen.data_ptr<float>(), std::size_t(chosen.numel()));
        run.record(next, skipLogits, updateLogits, path);
        fresh = {next};
        if (options.stopAtEndOfText && endOfText && next == *endOfText) {
            out.stopReason = "end-of-text";
            break;
        }
        // The whole generated text again: a SentencePiece piece's text depends on its neighbours.
        if (text.update(tokenizer.decode(
                std::vector<std::int32_t>(out.ids.begin() + out.promptTokens, out.ids.end())))) {
            out.stopReason = "stop-sequence";
            break;
        }
        if (auto ready = text.takeReady(); onText && !ready.empty()) onText(ready);
    }
    run.finish();
    if (auto rest = text.takeRest(); onText && !rest.empty()) onText(rest);
    out.generatedText = text.text();
    out.generateSeconds = seconds(generateStart);
    return out;
}

}  // namespace ponder::core
