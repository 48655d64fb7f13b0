// Gated TTT while the model writes (the paper's App. C.2 streaming setting): the backbone
// decodes with its cache, the TTT layer's fast weights are carried token by token through the
// mini-batch scan, and at every decision boundary the policy decides from what was just read
// or written whether the coming tokens take the UPDATE path or the SKIP path. Torch-free API.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/eval/evaluator.h"
#include "core/gating/policies.h"
#include "core/generate/sampling.h"

namespace ponder::core {

struct GenerateOptions {
    std::int64_t maxTokens = 256;   // token budget of the generated text
    std::vector<std::string> stop;  // the text ends before the first of these it produces
    bool stopAtEndOfText = true;    // the tokenizer's <|endoftext|> (Gemma's <eos>) ends it
    SamplingOptions sampling;
    // skip | update | random | recon-ema | recon-ema-paper | recon-ema-inverted | threshold
    // (validateGenerationPolicy). Its signal is the just-finished segment's.
    PolicySpec policy;
    // The TTT layer's chunk: its fast weights restart from (W0, b0) every `chunk` tokens of the
    // stream, as each evaluation chunk does (algorithm.md §4). A multiple of the mini-batch.
    std::int64_t chunk = 512;
    // Where decisions are taken (--decide-every): at every chunk boundary, or after every
    // mini-batch of K tokens (the TTT layer's K).
    enum class DecideEvery { Chunk, MiniBatch };
    DecideEvery decideEvery = DecideEvery::Chunk;
    // Tokens between decisions for a TTT mini-batch of `miniBatch` tokens.
    std::int64_t decisionInterval(std::int64_t miniBatch) const {
        return decideEvery == DecideEvery::Chunk ? chunk : miniBatch;
    }
};

// One decision segment of the stream: the positions [tokenStart, tokenStart + tokens) whose
// next-token predictions took the segment's path.
struct GeneratedSegment {
    UnitRecord record;          // losses and signals of the segment, as an evaluation unit's
    std::uint8_t decision = 0;  // 1: UPDATE
    double threshold = kNaN, rateEma = kNaN;  // τ and r when deciding (PolicyRun's meaning)
};

struct Generation {
    // The stream: the prompt's tokens (its last ones, if it had to be cut to leave room for
    // the budget within the model's positions) and then the generated ones.
    std::vector<std::int32_t> ids;
    std::int64_t promptTokens = 0;
    std::int64_t promptTokensDropped = 0;  // cut from the front of a prompt too long to fit
    std::string promptText;                // the text of the kept prompt tokens
    std::string generatedText;  // the generated text up to (not including) a stop sequence
    // Per position t < ids.size() - 1: CE of ids[t + 1] on each path, and the path whose
    // distribution chose (generated) or would have chosen (prompt) it (1: UPDATE).
    std::vector<float> tokenLossSkip, tokenLossUpdate;
    std::vector<std::uint8_t> tokenPath;
    std::vector<GeneratedSegment> segments;
    // max-tokens | stop-sequence | end-of-text | positions (the model's context is full) |
    // cancelled
    std::string stopReason;
    double promptSeconds = 0, generateSeconds = 0;

    std::int64_t generatedTokens() const { return std::int64_t(ids.size()) - promptTokens; }
    // Generated tokens per second of generating (the prompt's reading excluded); 0 for none.
    double tokensPerSecond() const {
        return generateSeconds > 0 ? double(generatedTokens()) / generateSeconds : 0.0;
    }
    // Fraction of segments that took the UPDATE path.
    double updateRate() const;
    // Mean CE of the generated tokens under the paths that chose them (nats).
    double generatedLoss() const;
};

// InputError with a hint for a policy the streaming gate cannot run (oracle, the top-k ones and
// the learned gates need the whole run or their own features) or an invalid spec.
void validateGenerationPolicy(const PolicySpec& spec);

class Generator {
public:
    // The evaluator's loaded model (backbone, tokenizer, TTT layer) does the work.
    explicit Generator(Evaluator& evaluator);
    // Generates from `prompt`; `onText` receives the generated text piece by piece, never
    // beyond a stop sequence nor inside a UTF-8 character. `cancel` is checked per token.
    // InputError for an empty prompt or invalid options.
    Generation generate(const std::string& prompt, const GenerateOptions& options,
                        const std::function<void(const std::string&)>& onText = {},
                        const std::atomic<bool>* cancel = nullptr);
    // The same from token ids (tests, and prompts that are ids already).
    Generation generateFromIds(std::vector<std::int32_t> promptIds, const GenerateOptions& options,
                               const std::function<void(const std::string&)>& onText = {},
                               const std::atomic<bool>* cancel = nullptr);

private:
    Evaluator& m_evaluator;
};

}  // namespace ponder::core
