// The learned gates of PonderTTT's earlier releases (systems B and C, docs/gates.md §2-3),
// Torch-free: the 32 input features, the history features computed live while deciding, the
// network's forward pass, loading gate.safetensors + gate.json, and the replay that decides a
// run's units. Training is core/train/train_gate.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace ponder::core {

struct UnitTable;  // core/gating/policies.h
struct PolicyRun;

// The network's input: confidence 4, hidden-state statistics 6, attention 4 (always 0, kept
// so the layout is the published one), code statistics 8, history 4, sequence 6.
constexpr std::size_t kGateInputs = 32;
// The history slots [22, 26) depend on the gate's own earlier decisions, so the engine stores
// the other 28 per unit ("gate features") and the gate fills history in while deciding.
constexpr std::size_t kHistoryBegin = 22, kHistoryCount = 4;
constexpr std::size_t kStoredGateFeatures = kGateInputs - kHistoryCount;
constexpr std::size_t kGateHidden = 64;

// The 32 names, in input order (gate.json records them; a gate with others is refused).
const std::vector<std::string>& gateInputNames();

// The 28 stored features placed into a 32-wide input, history slots zero.
std::array<float, kGateInputs> gateInputFrom(const float* stored);

// History features (gates.md §2): EMA (α 0.1) of the difficulty (the CE of the path taken), the
// EMA of its squared deviation (as a deviation), EMA of the cost (1 SKIP, 3 UPDATE), and the
// budget remaining, 1 - updates / (ρ · chunks of the sequence). Reset at every sequence start.
class GateHistory {
public:
    explicit GateHistory(double rate) : m_rate(rate) {}
    void reset(std::int64_t sequenceChunks);
    void fill(float* input) const;  // writes input[kHistoryBegin .. +4)
    void observe(double ce, bool update);

private:
    double m_rate;
    double m_difficulty = 0, m_variance = 0, m_cost = 0;
    std::int64_t m_chunks = 1, m_updates = 0;
};

struct GateWeights {
    // LayerNorm(32, eps 1e-6) -> Linear 32->64 -> ReLU -> Linear 64->64 -> ReLU -> Linear 64->2.
    // Linear weights [out, in] row-major, as torch stores them.
    std::vector<float> normWeight, normBias, fc1Weight, fc1Bias, fc2Weight, fc2Bias, outWeight,
        outBias;
};

constexpr double kGateLayerNormEps = 1e-6;

struct GateModel {
    std::string kind;                 // gumbel | ranknet | listnet
    std::string decision = "argmax";  // argmax (B) | threshold on q (C)
    double threshold = 0.5;           // on q = sigmoid(l_UPDATE - l_SKIP); argmax is q > 0.5
    double rate = 0.5;                // the target rate it was trained for (budget feature)
    std::int64_t sequenceChunks = 2;  // history resets every this many chunks of a file
    std::string tttSha256, backboneSha256;
    std::filesystem::path dir;
    GateWeights weights;

    std::array<double, 2> logits(const float* input) const;  // [SKIP, UPDATE]
    double updateProbability(const float* input) const;      // q
    bool decide(const float* input) const;
};

// gate.json + gate.safetensors of `dir`. InputError with a hint for a missing or damaged file,
// another format, features of another layout, tensors of the wrong shape.
GateModel loadGate(const std::filesystem::path& dir);
// The same, loaded once per directory and file time (policies replay on every slider move).
std::shared_ptr<const GateModel> cachedGate(const std::filesystem::path& dir);

// Writes gate.safetensors then gate.json (atomically each) into `dir`. `json` is gate.json's
// full text; the caller builds it (train_gate.cpp) so the options it records stay its own.
void writeGateFiles(const std::filesystem::path& dir, const GateWeights& weights,
                    const std::string& json);

// InputError with the --force-gate hint when `gate` was trained on a TTT layer other than the
// one whose ttt.safetensors hashes to `tttSha256` (`whose`: "this model's", "the run's").
void checkGateFits(const GateModel& gate, const std::string& tttSha256, bool force,
                   const std::string& whose);

// The sequences a gate's history runs over (file mode: runs of `sequenceChunks` chunks of one
// file; paper mode: the chunks of one batch), from the units' file index (-1 in paper mode),
// block (file index, or paper batch) and chunk index, in order: for each unit the number of
// units of the sequence it starts, 0 when it continues the one before it.
std::vector<std::int64_t> gateSequenceStarts(const std::vector<std::int64_t>& fileIndex,
                                             const std::vector<std::int64_t>& block,
                                             const std::vector<std::int64_t>& chunkIndex,
                                             std::int64_t sequenceChunks);

// A gate deciding units one at a time, in order, with its history live: what both a replay
// (runGate) and the gated fast path (online_gate.h) run, so their decisions agree bit for bit.
// `gate` must outlive the session.
class GateSession {
public:
    GateSession(const GateModel& gate, std::vector<std::int64_t> sequenceStarts);
    // Decides the next unit from its 28 stored features; InputError when they are NaN (not
    // computed) or the units run past the sequence layout.
    bool decide(const float* stored);
    // The CE of the path the unit just decided took (the history's difficulty).
    void observe(double ce);
    bool lastDecision() const { return m_lastUpdate; }
    // q = sigmoid(l_UPDATE - l_SKIP) of the last decision: the score the signal plot draws.
    double lastProbability() const { return m_lastProbability; }

private:
    const GateModel* m_gate;
    std::vector<std::int64_t> m_sequenceStarts;
    std::size_t m_next = 0;
    GateHistory m_history;
    bool m_lastUpdate = false;
    double m_lastProbability = 0.0;
};

// numpy.percentile's default (linear interpolation); `values` non-empty.
double percentile(std::vector<double> values, double percent);

// Sequences per batch of the published evaluation (16 sequences of two 512-token chunks): the
// group --lookahead takes its percentile over.
constexpr std::size_t kLookaheadBatch = 16;

// Decides the units of `table` in order, with the history of each sequence (file mode: runs of
// `sequenceChunks` chunks of one file; paper mode: the two chunks of one batch) computed from
// the gate's own decisions. Records τ = the gate's threshold on q per unit, no rate EMA.
// `lookahead` (non-causal, seed gates' published inference): consecutive sequences are taken
// kLookaheadBatch at a time, and at each chunk position a unit updates iff its q is above the
// 100(1 - rate) percentile of the q of that position's units in the batch, which includes
// units after it; τ records that percentile. InputError when the table has no gate features
// (a run stored before them) or its TTT checkpoint is not the one the gate was trained on
// (unless `force`).
void runGate(const GateModel& gate, const UnitTable& table, bool force, PolicyRun& run,
             bool lookahead = false, double rate = 0.5);

}  // namespace ponder::core
