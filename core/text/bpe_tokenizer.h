// Byte-level BPE tokenizer (GPT-2 scheme): loads HF or OpenAI tokenizer files, encodes any
// byte string and decodes back to the identical bytes.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/text/tokenizer.h"

namespace ponder::core {

inline constexpr std::string_view kEndOfText = "<|endoftext|>";

// GPT-2's bytes_to_unicode(): printable stand-in (UTF-8 encoded) for each of the 256 bytes.
const std::array<std::string, 256>& byteToUnicode();

// True if `dir` holds vocab.json+merges.txt or encoder.json+vocab.bpe.
bool hasTokenizerFiles(const std::filesystem::path& dir);

class BpeTokenizer : public Tokenizer {
public:
    // Loads vocab.json+merges.txt (preferred) or encoder.json+vocab.bpe from `dir`.
    // Throws TokenizerError naming the file and the problem.
    static BpeTokenizer load(const std::filesystem::path& dir);
    static BpeTokenizer fromFiles(const std::filesystem::path& vocabJson,
                                  const std::filesystem::path& mergesTxt);
    // The same parsing and checks on file contents already in memory (tests, fuzzing); the
    // labels name the two files in errors.
    static BpeTokenizer fromText(std::string_view vocabJson, std::string_view mergesTxt,
                                 const std::string& vocabLabel = "vocab.json",
                                 const std::string& mergesLabel = "merges.txt");

    BpeTokenizer(BpeTokenizer&&) noexcept;
    BpeTokenizer& operator=(BpeTokenizer&&) noexcept;
    ~BpeTokenizer() override;

    // Plain text: "<|endoftext|>" inside the text is encoded as ordinary characters,
    // as GPT-2's reference encoder does.
    std::vector<std::int32_t> encode(std::string_view text) const override;
    // Each character of a byte-level token string stands for one byte.
    std::vector<std::uint64_t> tokenByteStarts(std::string_view text,
                                               const std::vector<std::int32_t>& ids) const override;
    // Like encode(), but each literal "<|endoftext|>" becomes the special token's id.
    std::vector<std::int32_t> encodeWithSpecialTokens(std::string_view text) const;
    // Exact inverse of encode() for any byte string. Throws TokenizerError on an unknown id.
    std::string decode(const std::vector<std::int32_t>& ids) const override;

    std::size_t vocabSize() const override;  // largest id + 1
    std::size_t mergeCount() const;
    std::optional<std::int32_t> endOfTextId() const override;
    std::string kind() const override { return "byte-level BPE"; }
    // The token's vocabulary string (byte-level unicode form); throws on an unknown id.
    const std::string& tokenString(std::int32_t id) const;

private:
    struct Impl;
    explicit BpeTokenizer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace ponder::core
