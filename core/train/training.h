// Training (algorithm.md §6, design.md §1): a GPT-2 backbone from scratch (`train-base`) and
// the TTT layer on a frozen backbone exactly as the published recipe (`train-ttt`). Both keep
// a resumable checkpoint in OUT/checkpoint-base or OUT/checkpoint-ttt (replaced atomically) and
// report progress per step. Torch-free public API.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model/gpt2_config.h"
#include "core/model/ttt_config.h"

namespace ponder::core {

class RankSession;

struct TrainProgress {
    std::int64_t step = 0, steps = 0;  // steps done (1-based after the first), planned
    double loss = 0;                   // the optimised loss of this step
    double ce = 0;                     // its next-token cross-entropy part
    double lr = 0;
    double gradNorm = 0;  // before clipping
    double tokensPerSecond = 0, elapsedSeconds = 0, etaSeconds = 0;
    double updateRate = std::numeric_limits<double>::quiet_NaN();  // train-gate: d's mean
};

struct TrainCallbacks {
    std::function<void(const TrainProgress&)> onStep;
    // Called after each checkpoint is in place (e.g. to commit the curve to a database).
    std::function<void(std::int64_t step)> onCheckpoint;
    const std::atomic<bool>* cancel = nullptr;  // checked between steps
    // train-gate's first phase (evaluating the corpus once): units done of total, ETA.
    std::function<void(std::size_t done, std::size_t total, double etaSeconds)> onPrepare;
};

struct TrainResult {
    std::int64_t startStep = 0;    // > 0 when resumed from a checkpoint
    std::int64_t steps = 0;        // steps done in total
    bool finished = false;         // false when cancelled
    double seconds = 0;            // this invocation
    std::int64_t trainTokens = 0;  // tokens in the training stream
};

struct CorpusSelection {
    std::vector<std::filesystem::path> inputs;  // files or folders
    std::vector<std::string> extensions;        // e.g. {".py"}; empty = all
};

// train-base's default shape: a small GPT-2 (4 layers, 256 wide, 4 heads, 1024 positions)
// that trains on a CPU in hours.
inline Gpt2Config defaultBaseConfig() {
    Gpt2Config config;
    config.nLayer = 4;
    config.nEmbd = 256;
    config.nHead = 4;
    config.nPositions = 1024;
    return config;
}

struct BaseTrainOptions {
    CorpusSelection corpus;
    std::filesystem::path tokenizerDir;       // vocab.json + merges.txt (train-tokenizer's output)
    std::filesystem::path outDir;             // becomes a Hugging Face GPT-2 model directory
    Gpt2Config config = defaultBaseConfig();  // vocab_size is taken from the tokenizer
    std::int64_t sequence = 256, batch = 16, steps = 2000, warmup = 100;
    double lr = 1e-3, minLrRatio = 0.1, weightDecay = 0.1, gradClip = 1.0;
    double beta1 = 0.9, beta2 = 0.95;
    std::uint64_t seed = 42;
    std::int64_t checkpointEvery = 100;
    std::string device = "cpu";
    // bf16 autocast for the forward pass (matmuls in bfloat16: AMX / AVX512-BF16 on the CPU);
    // weights, gradients and AdamW stay float32. Off by default, measured by `bench --train`.
    bool bf16 = false;
    // Data-parallel (docs/scaling-out.md): each rank computes its rows of every batch, the
    // gradients are summed before the step, rank 0 alone writes. Dropout masks are drawn per
    // rank, so only a dropout-free run equals the one-process run (within rounding).
    RankSession* session = nullptr;
};

// AdamW with linear warmup then cosine decay to lr·minLrRatio, global-norm clipping, GPT-2
// dropout on; batches are random windows of the <|endoftext|>-packed corpus drawn from a
// generator seeded by (seed, step), so a resumed run continues exactly.
TrainResult trainBase(const BaseTrainOptions& options, const TrainCallbacks& callbacks = {});

struct TttTrainOptions {
    std::filesystem::path modelDir;  // the frozen backbone (any GPT-2 directory)
    std::filesystem::path outDir;    // receives ttt.safetensors + ttt.json (may be modelDir)
    CorpusSelection corpus;
    std::int64_t chunk = 512, batch = 16, steps = 10000;
    double lr = 3e-4, gradClip = 1.0, sslWeight = 0.1;
    bool backboneDropout = true;  // published: dropout 0.1 stays on in the frozen backbone
    std::string etaForm = "ponderttt";
    std::int64_t convLag = 1;
    // The inner step (algorithm.md §2.4): η decay λ and ttt_base_lr. Unset = the published
    // defaults for the backbone's width (TttConfig::forBackbone); ttt.json records the values.
    std::optional<double> etaDecay, innerBaseLr;
    // UPDATE_N (algorithm.md §6): N optimiser steps on each chunk at lr/N; ttt.json records N.
    std::int64_t updateSteps = 1;
    // The layer trained: "ttt-linear" (kFastWeightsTtt) or "lora" (algorithm.md §2.7: rank,
    // α (0: = rank) and dropout of its adapters; the loss is then CE alone, as LoRA has no
    // reconstruction statistics, and the η options do not apply).
    std::string fastWeights = kFastWeightsTtt;
    std::int64_t loraRank = 64;
    double loraAlpha = 0.0, loraDropout = 0.1;
    std::uint64_t seed = 42;
    std::int64_t checkpointEvery = 100;
    std::string device = "cpu";
    bool bf16 = false;  // as BaseTrainOptions::bf16 (the frozen backbone's forward included)
    RankSession* session = nullptr;  // as BaseTrainOptions::session
};

// algorithm.md §6: packed 2-chunk windows, 16 per batch, one Adam step per (batch, chunk)
// with local positions; loss = token-weighted CE of the UPDATE path + sslWeight · mean of the
// three last-token statistics; Adam(lr / updateSteps) after global-norm clipping, updateSteps
// times per chunk; only fast_norm and the TTT layer learn. The corpus is cycled when steps
// exceed one pass. A step's reported loss is its first pass's (before this chunk's updates).
TrainResult trainTtt(const TttTrainOptions& options, const TrainCallbacks& callbacks = {});

struct GateTrainOptions {
    std::filesystem::path modelDir;  // backbone + TTT layer, both frozen
    std::filesystem::path outDir;    // receives gate.safetensors + gate.json
    CorpusSelection corpus;
    std::string kind = "gumbel";  // gumbel (system B) | ranknet | listnet (system C)
    double rate = 0.5;            // target update rate ρ
    std::string cost = "abs";     // gumbel's cost term: abs |p̄ - ρ| | hinge max(0, p̄ - ρ)
    std::int64_t steps = 2000;    // one step per chunk position of a batch of sequences
    std::int64_t batch = 16, sequenceChunks = 2, warmup = 500, chunk = 512;
    std::int64_t maxUnits = 0;  // > 0: the corpus' first N file-mode units
    double lr = 1e-3, gradClip = 1.0, beta = 0.1, gamma = 0.1, listnetTemperature = 3.0;
    std::uint64_t seed = 42;
    std::int64_t checkpointEvery = 200;
    std::string device = "cpu";
    bool forceCheckpoint = false;  // a TTT checkpoint made for another backbone
    // The published joint training: the TTT layer learns with the gate (one Adam, lr and clip
    // shared). outDir then becomes a model directory (the backbone's files, the trained
    // ttt.safetensors + ttt.json) with the gate in outDir/gate. The layer starts from the
    // model's checkpoint, or freshly initialised with freshTtt (the published Gumbel run).
    bool trainTtt = false, freshTtt = false;
    // Ranking kinds with trainTtt: let the ranking loss's gradient reach the TTT layer through
    // the advantage, as the published ListNet did (default: detached, declared).
    bool advantageGradient = false;
};

// Systems B and C of gates.md (§2-3) on a frozen backbone and TTT layer. Phase 1 evaluates the
// corpus once in file mode (features, both losses, recon_step1 and the blend slopes per unit),
// cached in OUT/gate-units.json so a resumed run skips it. Phase 2 trains the gate on
// sequences of `sequenceChunks` consecutive chunks of a file, `batch` sequences drawn per
// (seed, batch) and one Adam step per chunk position, with the history features live. A
// checkpoint (OUT/checkpoint-gate) and the gate files are written at batch boundaries.
// With trainTtt the SKIP side (features, SKIP CE) still comes from the cache, while the UPDATE
// CE, L_TTT and the blended CE are recomputed by the learning layer at every step (JointTtt).
TrainResult trainGate(const GateTrainOptions& options, const TrainCallbacks& callbacks = {});

// The settings a training stores with its loss curve (`--db`, RunStore::beginTraining): the
// options that shape it and the corpus as given. train-base's keys are those of its checkpoint
// identity (n_layer, n_embd, ...), which adds the tokenizer's vocab_size and the stream's size.
nlohmann::json trainingSettings(const BaseTrainOptions& options);
nlohmann::json trainingSettings(const TttTrainOptions& options);
nlohmann::json trainingSettings(const GateTrainOptions& options);

// The learning rate of step `step` (0-based) for trainBase's schedule.
double warmupCosineLr(const BaseTrainOptions& options, std::int64_t step);

}  // namespace ponder::core
