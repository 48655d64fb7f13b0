// Evaluation units (design.md §4): which tokens form each SKIP/UPDATE decision unit, in file
// mode (chunks of one file) and paper mode (<|endoftext|>-packed windows, batch 16). Torch-free.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ponder::core {

class Tokenizer;

enum class EvalMode { File, Paper };

struct PlanOptions {
    EvalMode mode = EvalMode::File;
    std::int64_t chunk = 512;     // tokens per chunk, a multiple of the TTT mini-batch
    std::int64_t miniBatch = 16;  // final partial chunks are trimmed to a multiple of this
    std::int64_t minTailTokens = 64;
    std::int64_t paperBatch = 16;  // paper mode: windows (of 2 chunks each) per unit

    std::int64_t paperWindow() const { return 2 * chunk; }
};

struct PlanFile {
    std::filesystem::path path;
    std::string text;
    std::vector<std::int32_t> ids;
    std::vector<std::uint64_t> tokenByteStart;  // byte offset of each token in `text`
    std::int64_t droppedTokens = 0;             // tokens in no unit (file mode tail)
    // 1-based line of a byte offset.
    std::int64_t lineOf(std::uint64_t byteOffset) const;

    std::vector<std::uint64_t> lineStarts;  // byte offset of each line's first byte
    // A stream the run made itself (`ponder generate`: prompt and generated text): no file
    // holds it, so the run store keeps its text, ids and token offsets (schema 7).
    bool storedWhole = false;
};

struct PlanUnit {
    std::int64_t index = 0;
    // File mode: one sequence, `tokens` ids of files[fileIndex] from tokenStart.
    // Paper mode: `sequences` rows of `tokens` ids, row r starting at
    // stream offset tokenStart + r * paperWindow(); chunkIndex is 0 or 1 inside the window.
    std::int64_t fileIndex = -1;
    std::int64_t batchIndex = 0;
    std::int64_t chunkIndex = 0;
    std::int64_t tokenStart = 0;
    std::int64_t tokens = 0;
    std::int64_t sequences = 1;
};

struct EvalPlan {
    PlanOptions options;
    std::vector<PlanFile> files;
    std::vector<std::int32_t> stream;  // paper mode: all files joined by <|endoftext|>
    std::vector<PlanUnit> units;
    std::int64_t totalTokens = 0;
    std::int64_t droppedTokens = 0;
    std::vector<std::string> skipped;  // "path: reason" for files left out of a folder
    // Indices into `skipped` of the files that looked binary (e.g. a folder's __pycache__):
    // front ends count them in one line instead of a warning each (skippedReport).
    std::vector<std::size_t> skippedBinary;

    // The unit's token ids, row-major [sequences, tokens].
    std::vector<std::int64_t> unitIds(const PlanUnit& unit) const;
};

// Reads and tokenizes the inputs. A file named directly must be usable (else InputError:
// empty, binary, non-UTF-8, or shorter than one unit); files found inside a folder that are
// not usable are skipped and listed in `skipped`. `extensions` filters folder contents
// (e.g. {".py"}; empty = all). Throws InputError when no unit results.
EvalPlan buildEvalPlan(const Tokenizer& tokenizer, const std::vector<std::filesystem::path>& inputs,
                       const PlanOptions& options, const std::vector<std::string>& extensions = {});

// The lines a front end shows for the skipped files: one "skipped path: reason" per file that
// is not binary, then "skipped N binary files (e.g. PATH)" once when there are any.
std::vector<std::string> skippedReport(const EvalPlan& plan);

}  // namespace ponder::core
