// Model directories (design.md §3) seen from outside the engine: inspection for `ponder info`
// and the seeded tiny test-model generator. Torch-free.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/model/backbone.h"
#include "core/model/gpt2_config.h"

namespace ponder::core {

struct ModelDirSummary {
    std::filesystem::path dir;
    BackboneInfo backbone;
    Gpt2Config config;                // GPT-2 directories only
    std::size_t weightFiles = 1;      // shards
    std::int64_t parameterCount = 0;  // loaded parameters (tied head counted once)
    std::string storedDtypes;         // e.g. "F32" or "F16+F32"
    std::uint64_t weightsBytes = 0;
    bool tiedLmHead = true;
    std::optional<std::size_t> tokenizerVocab;  // nullopt when no tokenizer files
    std::string tokenizerKind;
    std::size_t tokenizerMerges = 0;
    bool hasTttCheckpoint = false;
    bool hasCalibration = false;
    bool hasModelCard = false;
    double loadSeconds = 0.0;
};

// The cheap check before a model is chosen or a run starts: the folder exists and holds a
// config.json. ModelLoadError naming the path otherwise (`ponder-studio`'s chooser and command
// line, the run session).
void checkModelDirectory(const std::filesystem::path& dir);

// Loads and validates the whole directory (config, every weight, tokenizer) and summarises
// it; Gemma 3 weights are checked by name, shape and dtype from the headers, without loading
// them (a 12B model would need 48 GB). Throws ModelLoadError / WeightsFormatError /
// TokenizerError with the reason.
ModelDirSummary inspectModelDir(const std::filesystem::path& dir);

struct TestModelOptions {
    std::string arch = kArchGpt2;  // kArchGpt2 | "gemma3"
    std::int64_t layers = 2;
    std::int64_t embd = 64;
    std::int64_t heads = 4;
    std::int64_t positions = 1024;
    std::uint64_t seed = 0;
    // Gemma 3 only: kv heads (grouped-query attention), head_dim (0: embd / heads), the
    // sliding window, and the number of safetensors shards. Layers follow HF's pattern of
    // five sliding ones per global one, the last layer global when there are fewer than six.
    std::int64_t kvHeads = 1;
    std::int64_t headDim = 0;
    std::int64_t window = 64;
    int shards = 1;
    // Tokenizer: copied from `tokenizerFrom` if set; else trained on `corpus` files with
    // `vocab` entries if any are given; else bytes only (256 + <|endoftext|>). Gemma 3: a
    // SentencePiece model trained on `corpus` (required) or copied tokenizer.model.
    std::optional<std::filesystem::path> tokenizerFrom;
    std::vector<std::filesystem::path> corpus;
    std::size_t vocab = 1024;
    // Adds a random TTT checkpoint (ttt.safetensors + ttt.json, published defaults for the
    // width) whose wo is non-zero, so UPDATE differs from SKIP in tests.
    bool withTtt = false;
};

struct TestModelSummary {
    std::int64_t parameterCount = 0;
    std::int64_t tttParameterCount = 0;  // 0 without --ttt
    std::size_t vocabSize = 0;
};

// Writes config.json, model.safetensors (random, seeded, reproducible) and tokenizer files.
// Copies vocab.json + merges.txt and/or encoder.json + vocab.bpe; TokenizerError when `from`
// holds neither pair.
void copyTokenizerFiles(const std::filesystem::path& from, const std::filesystem::path& to);

TestModelSummary makeTestModel(const std::filesystem::path& dir, const TestModelOptions& options);

}  // namespace ponder::core
