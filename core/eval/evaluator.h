// The SKIP/UPDATE evaluation engine (design.md §4): one frozen-backbone pass per unit, both
// paths derived from it, records streamed to a callback. Torch-free public API; the CLI and
// the GUI are both clients.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/eval/eval_plan.h"
#include "core/model/backbone.h"
#include "core/model/ttt_config.h"

namespace ponder::core {

class Tokenizer;

struct UnitRecord {
    std::int64_t unit = 0;
    std::int64_t fileIndex = -1;  // file mode; -1 in paper mode
    std::string file;
    std::int64_t batchIndex = 0, chunkIndex = 0;
    std::int64_t tokenStart = 0, tokens = 0, sequences = 1;
    std::int64_t lineStart = 0, lineEnd = 0;             // file mode, 1-based, inclusive
    double lossSkip = 0, lossUpdate = 0, advantage = 0;  // mean next-token CE (nats)
    // The static path (algorithm.md §4.1): the UPDATE path with the inner step set to zero,
    // the TTT layer at its initial fast weights. NaN where not computed (EvalOptions::staticPath
    // off, the gated fast path, runs stored before it). It splits the advantage in two parts
    // that sum to it: what the layer's trained weights add, and what learning from the chunk adds.
    double lossStatic = std::numeric_limits<double>::quiet_NaN();
    double advStatic() const { return lossSkip - lossStatic; }   // adv_static
    double advInner() const { return lossStatic - lossUpdate; }  // adv_inner
    double reconStep0 = 0;  // the paper's gating signal (algorithm.md §3)
    double reconInit = 0;   // same with the chunk-initial W0: known before any update
    double reconStep1 = 0;
    double improvement = 0;  // reconStep0 - reconStep1
    double entropy = 0;      // SKIP distribution: mean entropy (nats) over predicted positions
    double confidence = 0;   // SKIP distribution: mean top-1 probability
    // The same two on the UPDATE path's distribution (what the earlier releases' multi-signal
    // gate reads, gates.md §1); NaN from the gated fast path, which does not compute them.
    double entropyUpdate = 0, confidenceUpdate = 0;
    // The learned gates' 28 stored features from the SKIP path (gate.h, gates.md §2); empty
    // where not computed (the gated fast path without statistics, runs stored before them).
    std::vector<float> gateFeatures;
    // Only with EvalOptions::blendSlopes (train-gate): d CE / d p of the blended logits
    // (1 - p)·SKIP + p·UPDATE at p = 0 and at p = 1, what a Gumbel gate's gradient sees.
    double blendSlopeSkip = std::numeric_limits<double>::quiet_NaN();
    double blendSlopeUpdate = std::numeric_limits<double>::quiet_NaN();
    // File mode: CE of predicting token t+1 (t = 0 .. tokens-2) on each path.
    std::vector<float> tokenLossSkip, tokenLossUpdate;
    double seconds = 0;
};

struct EvalProgress {
    std::size_t done = 0, total = 0;
    double elapsedSeconds = 0, tokensPerSecond = 0, etaSeconds = 0;
};

struct EvalOptions {
    std::string device = "cpu";    // auto | cpu | cuda[:N]
    bool forceCheckpoint = false;  // accept a TTT checkpoint made for another backbone
    bool keepTokenLosses = true;   // per-token CE in file mode (for the source heat map)
    // Sanity ablations (algorithm.md §4, paper Tables 10 and 11).
    // shuffle: tokens permuted within each chunk row before both paths; the permutation of
    // row r depends only on (shuffleSeed + chunk index, r), so every batch at a given chunk
    // index gets the same ones, as in the published code (whose JAX draws we cannot repeat).
    // Per-token losses are not kept then: they would not line up with the source.
    bool shuffle = false;
    std::uint64_t shuffleSeed = 42;
    // causalK: -1 evaluates the diagonal ablation on a model trained with 0; unset keeps
    // ttt.json's value.
    std::optional<std::int64_t> causalK;
    bool blendSlopes = false;  // fill UnitRecord::blendSlope* (costs two more LM-head passes)
    // Fill UnitRecord::lossStatic: the static path from the same backbone pass, one more TTT
    // forward without its scan and one more LM head (`ponder bench` measures what it costs).
    bool staticPath = false;
    // --dtype bf16: a Gemma 3 backbone's weights held and computed in bfloat16 (no float32
    // copy); the TTT layer, the losses and the signals stay float32.
    bool bf16 = false;
};

class Evaluator {
public:
    // Loads the backbone, tokenizer and TTT checkpoint of `modelDir`. Throws ModelLoadError
    // (missing TTT checkpoint, mismatched backbone, ...) with a hint.
    Evaluator(const std::filesystem::path& modelDir, const EvalOptions& options);
    ~Evaluator();
    Evaluator(const Evaluator&) = delete;
    Evaluator& operator=(const Evaluator&) = delete;

    const Tokenizer& tokenizer() const;
    const BackboneInfo& backboneInfo() const;
    const TttConfig& tttConfig() const;
    const std::string& backboneSha256() const;
    const std::string& tttSha256() const;  // of ttt.safetensors: what a learned gate checks
    const std::string& device() const;
    // The backbone's compute dtype as stored with a run: "float32" or "bfloat16" (--dtype bf16).
    std::string dtype() const;
    // Plan options that fit this model (mini-batch from ttt.json); checks chunk against the
    // positions.
    PlanOptions planOptions(EvalMode mode, std::int64_t chunk) const;

    UnitRecord evaluateUnit(const EvalPlan& plan, const PlanUnit& unit);
    // The gated fast path: the SKIP path, its entropy/confidence and recon_init first, then
    // `decide` (given that partial record) chooses; only an UPDATE runs the TTT dual form and
    // the second LM head. A SKIP unit's UPDATE-side fields (lossUpdate, advantage,
    // reconStep0/1, improvement, tokenLossUpdate) are NaN or empty; entropyUpdate and
    // confidenceUpdate are NaN for every unit (no gate here reads them). skipStatistics false
    // leaves entropy and confidence NaN and saves their softmax over the vocabulary.
    using GateDecision = std::function<bool(const UnitRecord&)>;
    UnitRecord evaluateUnitGated(const EvalPlan& plan, const PlanUnit& unit,
                                 const GateDecision& decide, bool skipStatistics = true);
    // Evaluates every unit in order, calling onUnit after each and onProgress with timing;
    // checks `cancel` between units. Returns false when cancelled. Runs in the calling thread
    // (inference guards are created there), so the GUI calls it from its worker.
    bool run(const EvalPlan& plan, const std::function<void(const UnitRecord&)>& onUnit,
             const std::function<void(const EvalProgress&)>& onProgress = {},
             const std::atomic<bool>* cancel = nullptr);
    // Seconds to compute one path alone for the unit, for the fast-path benchmark: Skip is the
    // backbone and one LM head (plain GPT-2); Update is the backbone, the TTT layer and one LM
    // head (UPDATE_1 without the SKIP comparison). Nothing is recorded.
    enum class Path { Skip, Update };
    double timePath(const EvalPlan& plan, const PlanUnit& unit, Path path);
    // A gate of runGated: `decide` as above, then `observe` (may be empty) with each finished
    // record, UPDATE side filled where it chose UPDATE: the learned gates' history follows the
    // path taken (online_gate.h).
    struct Gate {
        GateDecision decide;
        std::function<void(const UnitRecord&)> observe;
    };
    // run() over evaluateUnitGated.
    bool runGated(const EvalPlan& plan, const Gate& gate, bool skipStatistics,
                  const std::function<void(const UnitRecord&)>& onUnit,
                  const std::function<void(const EvalProgress&)>& onProgress = {},
                  const std::atomic<bool>* cancel = nullptr);

    // The loaded parts, for core's own clients (evaluator_impl.h, private: LibTorch).
    struct Impl;
    Impl& impl() { return *m_impl; }

private:
    bool runUnits(const EvalPlan& plan, const std::function<UnitRecord(const PlanUnit&)>& evaluate,
                  const std::function<void(const UnitRecord&)>& onUnit,
                  const std::function<void(const EvalProgress&)>& onProgress,
                  const std::atomic<bool>* cancel);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace ponder::core
