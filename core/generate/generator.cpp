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
    for (double v : values) sum += v;
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
    const auto entropy = (-(logProbs.exp() * logProbs).sum(-1)).to(torch::kFloat64).contiguous();
    const auto confidence =
        std::get<0>(logProbs.max(-1)).exp().to(torch::kFloat64).contiguous();
    RowStats out;
    const auto rows = logits.size(0);
    out.entropy.assign(entropy.data_ptr<double>(), entropy.data_ptr<double>() + rows);
    out.confidence.assign(confidence.data_ptr<double>(), confidence.data_ptr<double>() + rows);
    for (std::int64_t r = 0; r < rows; ++r)
        out.ce.push_back(targets[r] < 0 ? kNaN : -logProbs[r][targets[r]].item<double>());
    return out;
}

}  // namespace

double Generation::updateRate() const {
    if (segments.empty()) return kNaN;
    double updates = 0;
    for (const auto& s : segments) updates += s.decision;
    return updates / double(segments.size());
}

double Generation::generatedLoss() const {
    double sum = 0;
    std::int64_t count = 0;
    for (auto t = std::size_t(std::max<std::int64_t>(promptTokens - 1, 0)); t < tokenPath.size(); ++t) {
        sum += tokenPath[t] ? tokenLossUpdate[t] : tokenLossSkip[t];
        ++count;
    }
    return count ? sum / double(count) : kNaN;
}

void validateGenerationPolicy(const PolicySpec& spec) {
    static const std::vector<std::string> streamable = {
        "skip", "update", "random", "recon-ema", "recon-ema-paper", "recon-ema-inverted",
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
        throw InputError("the prompt is empty", "give a prompt file with some text, or - for "
                                                "standard input");
    return generateFromIds(std::move(ids), options, onText, cancel);
}

Generation Generator::generateFromIds(std::vector<std::int32_t> promptIds,
                                      const GenerateOptions& options,
                                      const std::function<void(const std::string&)>& onText,
                                      const std::atomic<bool>* cancel) {
    auto& parts = m_evaluator.impl();
    const auto& tokenizer = *parts.tokenizer;
    auto& backbone = *parts.backbone;
    auto& ttt = parts.ttt;
    const auto miniBatch = ttt->config().miniBatch;
    if (promptIds.empty())
        throw InputError("the prompt is empty", "give a prompt with at least one token");
    validateGenerationPolicy(options.policy);
    validateSampling(options.sampling);
    if (options.maxTokens < 0)
        throw InputError("the token budget must not be negative", "use --max-tokens N, N >= 0");
    const auto chunk = options.chunk;
    if (chunk <= 0 || chunk % miniBatch != 0)
        throw InputError("chunk of " + std::to_string(chunk) + " tokens is not a positive "
                             "multiple of the TTT mini-batch " + std::to_string(miniBatch),
                         "use --chunk 512 (or another multiple of " + std::to_string(miniBatch) + ")");
    const auto every = options.decisionInterval(miniBatch);

    // Room within the model's positions: the budget first, then the prompt's last tokens.
    const auto capacity = m_evaluator.backboneInfo().maxUnitTokens();
    const auto budget = std::min<std::int64_t>(options.maxTokens, capacity - 1);
    Generation out;
    const auto keep = std::min<std::int64_t>(std::int64_t(promptIds.size()), capacity - budget);
    out.promptTokensDropped = std::int64_t(promptIds.size()) - keep;
    out.ids.assign(promptIds.end() - keep, promptIds.end());
    out.promptTokens = keep;
    out.promptText = tokenizer.decode(out.ids);

    torch::InferenceMode inference;
    const auto device = parts.torchDevice;
    auto cache = backbone.startDecode();
    auto layer = ttt->layer();
    TttStreamState state;
    SegmentGate gate(options.policy, std::size_t(capacity / every + 2));
    SegmentStats current;
    const auto endOfText = tokenizer.endOfTextId();
    std::string generatedText;
    std::size_t emitted = 0;
    std::size_t longestStop = 0;
    for (const auto& s : options.stop) longestStop = std::max(longestStop, s.size());

    // Closes the segment that ends before position `end` (its predictions are all known).
    const auto closeSegment = [&](std::int64_t end) {
        auto& segment = out.segments.back();
        auto& r = segment.record;
        r.tokens = end - r.tokenStart;
        std::vector<double> skip, update;
        for (auto t = r.tokenStart; t < end; ++t) {
            skip.push_back(out.tokenLossSkip[t]);
            update.push_back(out.tokenLossUpdate[t]);
        }
        r.tokenLossSkip.assign(out.tokenLossSkip.begin() + r.tokenStart, out.tokenLossSkip.begin() + end);
        r.tokenLossUpdate.assign(out.tokenLossUpdate.begin() + r.tokenStart,
                                 out.tokenLossUpdate.begin() + end);
        r.lossSkip = mean(skip);
        r.lossUpdate = mean(update);
        r.advantage = r.lossSkip - r.lossUpdate;
        r.reconInit = mean(current.init);
        r.reconStep0 = mean(current.step0);
        r.reconStep1 = mean(current.step1);
        r.improvement = r.reconStep0 - r.reconStep1;
        r.entropy = mean(current.entropy);
        r.confidence = mean(current.confidence);
        r.entropyUpdate = mean(current.entropyUpdate);
        r.confidenceUpdate = mean(current.confidenceUpdate);
        current = SegmentStats{};
    };
    const auto openSegment = [&](std::int64_t start) {
        const auto index = out.segments.size();
        const UnitRecord* previous = index ? &out.segments.back().record : nullptr;
        auto segment = gate.decide(index, previous);
        segment.record.unit = std::int64_t(index);
        segment.record.fileIndex = 0;
        segment.record.chunkIndex = std::int64_t(index);
        segment.record.tokenStart = start;
        out.segments.push_back(std::move(segment));
    };

    // Reads `fresh` tokens (the prompt at once, then one generated token at a time) through
    // the backbone, the TTT stream and both LM heads; returns the last position's logits.
    // Blocks of rows never cross a segment boundary, so a segment is closed only once every
    // prediction before it is known.
    std::int64_t read = 0;  // positions read so far
    const auto readTokens = [&](const std::vector<std::int32_t>& fresh) {
        const auto count = std::int64_t(fresh.size());
        const auto idTensor =
            torch::tensor(std::vector<std::int64_t>(fresh.begin(), fresh.end()), torch::kInt64)
                .view({1, count})
                .to(device);
        const auto hidden = backbone.decodeStep(*cache, idTensor)[0];  // [n, D]
        std::pair<torch::Tensor, torch::Tensor> last;
        for (std::int64_t start = 0; start < count;) {
            const auto first = read + start;
            if (first % every == 0) {
                if (first > 0) closeSegment(first);
                openSegment(first);
            }
            const auto rows = std::min({kLogitRows, count - start, every - first % every});
            std::vector<torch::Tensor> updated;
            std::vector<std::int64_t> targets;
            for (auto t = first; t < first + rows; ++t) {
                if (t % chunk == 0) state = layer->startStream();
                TttStreamStats stats;
                updated.push_back(ttt->streamStep(state, hidden[t - read], stats));
                if (stats.step0.defined()) {
                    current.init.push_back(stats.init.mean().item<double>());
                    current.step0.push_back(stats.step0.mean().item<double>());
                    current.step1.push_back(stats.step1.mean().item<double>());
                }
                targets.push_back(t + 1 < std::int64_t(out.ids.size()) ? out.ids[t + 1] : -1);
            }
            const auto skipLogits = backbone.logits(hidden.narrow(0, start, rows));
            const auto updateLogits = backbone.logits(torch::cat(updated, 0));
            const auto skip = rowStats(skipLogits, targets), update = rowStats(updateLogits, targets);
            for (std::int64_t r = 0; r < rows; ++r) {
                current.entropy.push_back(skip.entropy[r]);
                current.confidence.push_back(skip.confidence[r]);
                current.entropyUpdate.push_back(update.entropy[r]);
                current.confidenceUpdate.push_back(update.confidence[r]);
                if (targets[r] < 0) continue;
                out.tokenLossSkip.push_back(float(skip.ce[r]));
                out.tokenLossUpdate.push_back(float(update.ce[r]));
                out.tokenPath.push_back(out.segments.back().decision);
            }
            last = {skipLogits[rows - 1], updateLogits[rows - 1]};
            start += rows;
        }
        read += count;
        return last;
    };

    const auto promptStart = Clock::now();
    TokenSampler sampler(options.sampling);
    std::vector<std::int32_t> fresh = out.ids;
    fresh.pop_back();  // the prompt's last token is read in the loop, which predicts from it
    if (!fresh.empty()) readTokens(fresh);
    out.promptSeconds = seconds(promptStart);
    const auto generateStart = Clock::now();
    fresh = {out.ids.back()};
    out.stopReason = budget < options.maxTokens ? "positions" : "max-tokens";
    while (out.generatedTokens() < budget) {
        if (cancel && cancel->load()) {
            out.stopReason = "cancelled";
            break;
        }
        const auto [skipLogits, updateLogits] = readTokens(fresh);
        const auto path = out.segments.back().decision;
        const auto chosen = (path ? updateLogits : skipLogits).to(torch::kCPU, torch::kFloat32).contiguous();
        const auto next = sampler.sample(chosen.data_ptr<float>(), std::size_t(chosen.numel()));
        // The sampled token's CE on both paths, at the position that predicted it.
        const auto ceOf = [&](const torch::Tensor& logits) {
            return float((torch::logsumexp(logits, -1) - logits[next]).item<double>());
        };
        out.tokenLossSkip.push_back(ceOf(skipLogits));
        out.tokenLossUpdate.push_back(ceOf(updateLogits));
        out.tokenPath.push_back(path);
        out.ids.push_back(next);
        fresh = {next};
        if (options.stopAtEndOfText && endOfText && next == *endOfText) {
            out.stopReason = "end-of-text";
            break;
        }
        generatedText = tokenizer.decode(std::vector<std::int32_t>(out.ids.begin() + out.promptTokens,
                                                                  out.ids.end()));
        std::optional<std::size_t> stopAt;
        for (const auto& s : options.stop) {
            const auto from = emitted > s.size() ? emitted - s.size() : 0;
            const auto at = generatedText.find(s, from);
            if (at != std::string::npos && (!stopAt || at < *stopAt)) stopAt = at;
        }
        if (stopAt) {
            generatedText.resize(*stopAt);
            out.stopReason = "stop-sequence";
            break;
        }
        // Hold back what could still turn out to begin a stop sequence.
        const auto hold = longestStop ? longestStop - 1 : 0;
        const auto upTo = completeUtf8Prefix(
            generatedText, generatedText.size() > hold ? generatedText.size() - hold : 0);
        if (upTo > emitted) {
            if (onText) onText(generatedText.substr(emitted, upTo - emitted));
            emitted = upTo;
        }
    }
    if (!out.segments.empty()) closeSegment(read);
    if (onText && generatedText.size() > emitted) onText(generatedText.substr(emitted));
    out.generatedText = generatedText;
    out.generateSeconds = seconds(generateStart);
    return out;
}

}  // namespace ponder::core
