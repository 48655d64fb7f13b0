// SentencePiece tokenizer (Gemma's tokenizer.model) through Debian's libsentencepiece, and
// training a small one for test models.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "core/text/tokenizer.h"

namespace ponder::core {

class SentencePieceTokenizer : public Tokenizer {
public:
    // Loads `dir`/tokenizer.model; throws TokenizerError naming the file and the problem.
    static std::unique_ptr<SentencePieceTokenizer> load(const std::filesystem::path& modelFile);
    ~SentencePieceTokenizer() override;

    std::vector<std::int32_t> encode(std::string_view text) const override;
    std::vector<std::uint64_t> tokenByteStarts(std::string_view text,
                                               const std::vector<std::int32_t>& ids) const override;
    std::string decode(const std::vector<std::int32_t>& ids) const override;
    std::size_t vocabSize() const override;
    std::optional<std::int32_t> endOfTextId() const override;
    std::string kind() const override { return "SentencePiece"; }
    std::optional<std::int32_t> beginOfTextId() const;

private:
    SentencePieceTokenizer();
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// Trains a BPE SentencePiece model with Gemma's conventions (pad 0, eos 1, bos 2, unk 3, byte
// fallback, digits split, whitespace kept as is, no dummy prefix) on the given files and
// writes `out` (tokenizer.model). Throws TokenizerError.
void trainSentencePiece(const std::vector<std::filesystem::path>& corpus, std::size_t vocab,
                        const std::filesystem::path& out);

}  // namespace ponder::core
