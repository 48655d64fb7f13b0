// Byte-level BPE training: counts pre-tokenized pieces, then learns merges with incremental
// pair counts and a lazily invalidated max-heap, and writes vocab.json + merges.txt.
#include "core/text/bpe_trainer.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "core/text/bpe_tokenizer.h"
#include "core/text/pretokenizer.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"

namespace ponder::core {
namespace fs = std::filesystem;

namespace {

using PairKey = std::uint64_t;

PairKey pairKey(std::int32_t left, std::int32_t right) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) |
           static_cast<std::uint32_t>(right);
}
std::int32_t leftOf(PairKey key) {
    return static_cast<std::int32_t>(key >> 32);
}
std::int32_t rightOf(PairKey key) {
    return static_cast<std::int32_t>(key & 0xFFFFFFFFu);
}

struct Word {
    std::vector<std::int32_t> symbols;
    std::uint64_t count = 0;  // how often the piece occurs in the corpus
};

struct HeapEntry {
    std::uint64_t count;
    PairKey pair;
};

// The learning state. Pair counts are weighted by piece frequency; `m_where` lists the words
// that may hold a pair (lazily: a listed word may have lost it since), so a merge only
// revisits the words it can change.
class MergeLearner {
public:
    MergeLearner(std::vector<Word> words, std::vector<std::string> tokens)
        : m_words(std::move(words)), m_tokens(std::move(tokens)), m_heap(HeapOrder{&m_tokens}) {
        for (std::size_t i = 0; i < m_tokens.size(); ++i)
            m_tokenIds.emplace(m_tokens[i], static_cast<std::int32_t>(i));
        for (std::uint32_t w = 0; w < m_words.size(); ++w) {
            const auto& symbols = m_words[w].symbols;
            for (std::size_t i = 0; i + 1 < symbols.size(); ++i) {
                const PairKey key = pairKey(symbols[i], symbols[i + 1]);
                m_pairCounts[key] += m_words[w].count;
                addWhere(key, w);
            }
        }
        for (const auto& [key, count] : m_pairCounts)
            m_heap.push({count, key});
    }

    // Learns merges until `tokenLimit` tokens exist or no pair occurs `minCount` times.
    void learn(std::size_t tokenLimit, std::uint64_t minCount) {
        while (m_tokens.size() < tokenLimit) {
            const std::optional<HeapEntry> best = popBest();
            if (!best || best->count < minCount) break;
            const std::int32_t left = leftOf(best->pair);
            const std::int32_t right = rightOf(best->pair);
            // Never "<|endoftext|>", whose string stays free for the last id: pre-tokenization
            // cuts it into "<|", "endoftext", "|>", and merges stay inside a piece.
            std::string merged = m_tokens[left] + m_tokens[right];
            // Two different pairs can spell the same string ("a"+"bc", "ab"+"c"); like
            // Hugging Face's trainer, the second merge reuses the first one's id.
            const auto [it, isNew] =
                m_tokenIds.emplace(std::move(merged), static_cast<std::int32_t>(m_tokens.size()));
            if (isNew) m_tokens.push_back(it->first);
            // A reused id can bring back a pair merged before; its rank stays the first one.
            if (m_merged.insert(best->pair).second) m_merges.emplace_back(left, right);
            applyMerge(best->pair, it->second);
        }
    }

    const std::vector<std::string>& tokens() const { return m_tokens; }
    const std::vector<std::pair<std::int32_t, std::int32_t>>& merges() const { return m_merges; }

private:
    // Higher count first; ties go to the lexicographically smallest (left, right) pair of
    // vocabulary strings, compared bytewise, so training is deterministic.
    struct HeapOrder {
        const std::vector<std::string>* tokens;
        bool operator()(const HeapEntry& a, const HeapEntry& b) const {
            if (a.count != b.count) return a.count < b.count;
            const std::string& aLeft = (*tokens)[leftOf(a.pair)];
            const std::string& bLeft = (*tokens)[leftOf(b.pair)];
            if (aLeft != bLeft) return aLeft > bLeft;
            return (*tokens)[rightOf(a.pair)] > (*tokens)[rightOf(b.pair)];
        }
    };

    void addWhere(PairKey key, std::uint32_t word) {
        auto& list = m_where[key];
        // A pair's list is filled in one merge step, visiting words in increasing order, so
        // checking the last entry dedupes. (A reused id can revive a pair later; the
        // duplicate entries that may leave are harmless, the word just has nothing to merge.)
        if (list.empty() || list.back() != word) list.push_back(word);
    }

    // Pops until an entry matches its pair's current count; stale entries (counts only
    // drop for existing pairs) are pushed back with the current count.
    std::optional<HeapEntry> popBest() {
        while (!m_heap.empty()) {
            const HeapEntry top = m_heap.top();
            m_heap.pop();
            const auto it = m_pairCounts.find(top.pair);
            const std::uint64_t current = it == m_pairCounts.end() ? 0 : it->second;
            if (current == top.count) return top;
            if (current > 0) m_heap.push({current, top.pair});
        }
        return std::nullopt;
    }

    void changeCount(PairKey key, std::int64_t delta) {
        auto& count = m_pairCounts[key];
        count = static_cast<std::uint64_t>(static_cast<std::int64_t>(count) + delta);
    }

    // Merges every occurrence of `pair` left to right (as encoding will) and updates the
    // counts of the neighbouring pairs only.
    void applyMerge(PairKey pair, std::int32_t merged) {
        const std::int32_t left = leftOf(pair);
        const std::int32_t right = rightOf(pair);
        std::vector<std::uint32_t> words;
        if (const auto it = m_where.find(pair); it != m_where.end()) {
            words = std::move(it->second);
            m_where.erase(it);
        }
        std::unordered_set<PairKey> born;
        for (const std::uint32_t w : words) {
            auto& symbols = m_words[w].symbols;
            const auto count = static_cast<std::int64_t>(m_words[w].count);
            std::size_t out = 0;
            for (std::size_t i = 0; i < symbols.size(); ++out) {
                if (i + 1 < symbols.size() && symbols[i] == left && symbols[i + 1] == right) {
                    changeCount(pair, -count);
                    if (out > 0) {
                        changeCount(pairKey(symbols[out - 1], left), -count);
                        const PairKey key = pairKey(symbols[out - 1], merged);
                        changeCount(key, count);
                        addWhere(key, w);
                        born.insert(key);
                    }
                    if (i + 2 < symbols.size()) {
                        changeCount(pairKey(right, symbols[i + 2]), -count);
                        const PairKey key = pairKey(merged, symbols[i + 2]);
                        changeCount(key, count);
                        addWhere(key, w);
                        born.insert(key);
                    }
                    symbols[out] = merged;
                    i += 2;
                } else {
                    symbols[out] = symbols[i];
                    i += 1;
                }
            }
            symbols.resize(out);
        }
        m_pairCounts.erase(pair);
        // Sorted so the heap is built the same way on every run.
        std::vector<PairKey> bornSorted(born.begin(), born.end());
        std::sort(bornSorted.begin(), bornSorted.end());
        for (const PairKey key : bornSorted) {
            const auto it = m_pairCounts.find(key);
            if (it == m_pairCounts.end()) continue;
            if (it->second == 0) {
                m_pairCounts.erase(it);
            } else {
                m_heap.push({it->second, key});
            }
        }
    }

    std::vector<Word> m_words;
    std::vector<std::string> m_tokens;
    std::unordered_map<std::string, std::int32_t> m_tokenIds;
    std::unordered_map<PairKey, std::uint64_t> m_pairCounts;
    std::unordered_map<PairKey, std::vector<std::uint32_t>> m_where;
    std::priority_queue<HeapEntry, std::vector<HeapEntry>, HeapOrder> m_heap;
    std::vector<std::pair<std::int32_t, std::int32_t>> m_merges;
    std::unordered_set<PairKey> m_merged;
};

// Bytes in GPT-2's vocabulary order: bytes_to_unicode() lists the printable bytes first and
// the 68 others after, and their stand-ins' code points (hence UTF-8 strings) grow in that
// order, so sorting by stand-in reproduces it.
std::array<std::uint8_t, 256> gpt2ByteOrder() {
    std::array<std::uint8_t, 256> order{};
    for (int b = 0; b < 256; ++b)
        order[b] = static_cast<std::uint8_t>(b);
    std::sort(order.begin(), order.end(), [](std::uint8_t a, std::uint8_t b) {
        return byteToUnicode()[a] < byteToUnicode()[b];
    });
    return order;
}

}  // namespace

struct BpeTrainer::Impl {
    BpeTrainOptions options;
    std::unordered_map<std::string, std::uint64_t> pieceCounts;
    std::uint64_t inputBytes = 0;
};

BpeTrainer::BpeTrainer(BpeTrainOptions options) : m_impl(std::make_shared<Impl>()) {
    m_impl->options = options;
}

void BpeTrainer::addText(std::string_view text) {
    m_impl->inputBytes += text.size();
    for (const std::string_view piece : splitGpt2Pieces(text))
        ++m_impl->pieceCounts[std::string(piece)];
}

BpeTrainSummary BpeTrainer::trainAndWrite(const fs::path& outDir) {
    const auto started = std::chrono::steady_clock::now();
    const BpeTrainOptions& options = m_impl->options;
    if (options.vocabSize < 257)
        throw InputError("vocabulary size " + std::to_string(options.vocabSize) +
                             " is too small for a byte-level BPE",
                         "use at least 257 (256 byte tokens and <|endoftext|>)");

    std::array<std::int32_t, 256> byteIds{};
    std::vector<std::string> tokens;
    for (const std::uint8_t b : gpt2ByteOrder()) {
        byteIds[b] = static_cast<std::int32_t>(tokens.size());
        tokens.push_back(byteToUnicode()[b]);
    }

    // Sorted pieces make the word order, and with it every later step, reproducible.
    std::vector<const std::pair<const std::string, std::uint64_t>*> pieces;
    pieces.reserve(m_impl->pieceCounts.size());
    for (const auto& entry : m_impl->pieceCounts)
        pieces.push_back(&entry);
    std::sort(pieces.begin(), pieces.end(), [](auto* a, auto* b) { return a->first < b->first; });
    std::vector<Word> words(pieces.size());
    for (std::size_t w = 0; w < pieces.size(); ++w) {
        words[w].count = pieces[w]->second;
        for (const char c : pieces[w]->first)
            words[w].symbols.push_back(byteIds[static_cast<unsigned char>(c)]);
    }

    MergeLearner learner(std::move(words), std::move(tokens));
    learner.learn(options.vocabSize - 1, std::max<std::uint64_t>(options.minPairCount, 1));

    std::error_code ec;
    fs::create_directories(outDir, ec);
    if (ec)
        throw OutputError("cannot create '" + outDir.string() + "': " + ec.message(),
                          "choose a writable output folder");
    const auto& vocab = learner.tokens();
    writeFileAtomic(outDir / "vocab.json", [&](std::ostream& out) {
        out << "{\n";
        for (std::size_t id = 0; id < vocab.size(); ++id)
            out << "  " << nlohmann::json(vocab[id]).dump() << ": " << id << ",\n";
        out << "  " << nlohmann::json(std::string(kEndOfText)).dump() << ": " << vocab.size()
            << "\n}\n";
    });
    writeFileAtomic(outDir / "merges.txt", [&](std::ostream& out) {
        out << "#version: 0.2\n";
        for (const auto& [left, right] : learner.merges())
            out << vocab[left] << ' ' << vocab[right] << '\n';
    });

    BpeTrainSummary summary;
    summary.vocabSize = vocab.size() + 1;
    summary.merges = learner.merges().size();
    summary.inputBytes = m_impl->inputBytes;
    summary.distinctPieces = m_impl->pieceCounts.size();
    summary.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return summary;
}

}  // namespace ponder::core
