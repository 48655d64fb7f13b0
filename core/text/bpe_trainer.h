// BPE trainer: learns GPT-2-style byte-level merges from a corpus and writes
// Hugging Face-compatible vocab.json + merges.txt that BpeTokenizer loads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace ponder::core {

struct BpeTrainOptions {
    std::size_t vocabSize = 8192;    // including the 256 byte tokens and <|endoftext|>
    std::uint64_t minPairCount = 2;  // stop early when no pair occurs this often
};

struct BpeTrainSummary {
    std::size_t vocabSize = 0;
    std::size_t merges = 0;
    std::uint64_t inputBytes = 0;
    std::uint64_t distinctPieces = 0;
    double seconds = 0.0;
};

class BpeTrainer {
public:
    explicit BpeTrainer(BpeTrainOptions options);
    // Counts the text's pre-tokenized pieces; may be called once per corpus file.
    void addText(std::string_view text);
    // Learns merges and writes `outDir`/vocab.json and merges.txt (atomically).
    // Ids: 0..255 the bytes in GPT-2 order, then one id per merge, then <|endoftext|>.
    BpeTrainSummary trainAndWrite(const std::filesystem::path& outDir);

private:
    struct Impl;
    std::shared_ptr<Impl> m_impl;
};

}  // namespace ponder::core
