// The tokenizer of a model directory, whichever kind it has: byte-level BPE (GPT-2's
// vocab.json + merges.txt) or SentencePiece (Gemma's tokenizer.model).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ponder::core {

class Tokenizer {
public:
    virtual ~Tokenizer() = default;
    // Plain text to ids (no BOS: the backbone adds what it needs, design.md §4); special-token
    // strings inside the text are ordinary characters.
    virtual std::vector<std::int32_t> encode(std::string_view text) const = 0;
    // The byte offset in `text` where each token of encode(text) starts.
    virtual std::vector<std::uint64_t> tokenByteStarts(
        std::string_view text, const std::vector<std::int32_t>& ids) const = 0;
    // The text of ids; throws TokenizerError on an unknown id.
    virtual std::string decode(const std::vector<std::int32_t>& ids) const = 0;
    virtual std::size_t vocabSize() const = 0;  // largest id + 1
    // The id paper mode packs files with (<|endoftext|>, Gemma's <eos>).
    virtual std::optional<std::int32_t> endOfTextId() const = 0;
    virtual std::string kind() const = 0;  // "byte-level BPE" | "SentencePiece"
};

// True if `dir` holds tokenizer files of a kind ponder reads.
bool hasAnyTokenizer(const std::filesystem::path& dir);
// tokenizer.model (SentencePiece) if present, else byte-level BPE files. A directory with only
// tokenizer.json is refused with what is missing. Throws TokenizerError.
std::unique_ptr<Tokenizer> loadTokenizer(const std::filesystem::path& dir);

}  // namespace ponder::core
