// Byte-level BPE (GPT-2): file loading and validation, encoding with integer symbols and a
// per-piece cache shared between threads, and exact decoding back to bytes.
#include "core/text/bpe_tokenizer.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <shared_mutex>
#include <unordered_map>

#include "core/text/pretokenizer.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"

namespace ponder::core {
namespace fs = std::filesystem;

namespace {

constexpr std::int32_t kNoRank = std::numeric_limits<std::int32_t>::max();
constexpr std::int32_t kMaxTokenId = (1 << 24) - 1;  // keeps id-indexed tables a sane size
// Past this many cached pieces the cache starts over, so memory stays bounded on huge inputs;
// long pieces (whitespace runs, base64) rarely repeat and are not cached at all.
constexpr std::size_t kMaxCachedPieces = 1 << 20;
constexpr std::size_t kMaxCachedPieceBytes = 256;

void appendUtf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// Code point of each byte's stand-in (GPT-2 encoder.py bytes_to_unicode): printable Latin-1
// bytes stand for themselves, the other 68 get 256, 257, ... in increasing byte order.
const std::array<char32_t, 256>& byteCodePoints() {
    static const std::array<char32_t, 256> table = [] {
        std::array<char32_t, 256> t{};
        char32_t next = 256;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
            t[b] = printable ? static_cast<char32_t>(b) : next++;
        }
        return t;
    }();
    return table;
}

// Maps a vocabulary string back to bytes; false if it holds a character that is no byte's
// stand-in (the file is then not a byte-level BPE vocabulary).
bool tokenStringToBytes(std::string_view token, std::string& out) {
    static const std::array<int, 324> inverse = [] {
        std::array<int, 324> t{};
        t.fill(-1);
        for (int b = 0; b < 256; ++b)
            t[byteCodePoints()[b]] = b;
        return t;
    }();
    out.clear();
    for (std::size_t i = 0; i < token.size();) {
        const auto b0 = static_cast<unsigned char>(token[i]);
        char32_t cp = 0;
        std::size_t length = 0;
        if (b0 < 0x80) {
            cp = b0, length = 1;
        } else if ((b0 & 0xE0) == 0xC0 && i + 1 < token.size()) {
            cp = ((b0 & 0x1Fu) << 6) | (static_cast<unsigned char>(token[i + 1]) & 0x3Fu);
            length = 2;
        } else {
            return false;  // stand-ins are all below U+0800
        }
        if (cp >= inverse.size() || inverse[cp] < 0) return false;
        out.push_back(static_cast<char>(inverse[cp]));
        i += length;
    }
    return true;
}

// Open-addressing map from a symbol pair (left << 32 | right) to its merge; the BPE inner
// loop does one lookup per adjacent pair, so this avoids std::unordered_map's node chasing.
class PairMap {
public:
    struct Merge {
        std::int32_t rank = kNoRank;
        std::int32_t merged = -1;
    };

    void reserve(std::size_t count) {
        std::size_t capacity = 16;
        m_shift = 60;
        while (capacity < count * 2)
            capacity *= 2, --m_shift;
        m_keys.assign(capacity, kEmpty);
        m_values.assign(capacity, Merge{});
        m_mask = capacity - 1;
    }

    // Later duplicates overwrite earlier ones, as the reference's dict(zip(merges, ranks)) does.
    void insert(std::uint64_t key, Merge value) {
        std::size_t slot = slotOf(key);
        while (m_keys[slot] != kEmpty && m_keys[slot] != key)
            slot = (slot + 1) & m_mask;
        m_keys[slot] = key;
        m_values[slot] = value;
    }

    Merge find(std::uint64_t key) const {
        std::size_t slot = slotOf(key);
        while (true) {
            const std::uint64_t k = m_keys[slot];
            if (k == key) return m_values[slot];
            if (k == kEmpty) return Merge{};
            slot = (slot + 1) & m_mask;
        }
    }

    static std::uint64_t keyOf(std::int32_t left, std::int32_t right) {
        return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) |
               static_cast<std::uint32_t>(right);
    }

private:
    static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
    std::size_t slotOf(std::uint64_t key) const {
        // Fibonacci hashing: the top bits of the product depend on every bit of the key.
        return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> m_shift);
    }
    std::vector<std::uint64_t> m_keys;
    std::vector<Merge> m_values;
    std::size_t m_mask = 0;
    int m_shift = 60;
};

// Scratch arrays reused across the pieces of one encode() call.
struct BpeScratch {
    std::vector<std::int32_t> symbols;
    std::vector<std::int32_t> ranks;   // ranks[i]: merge rank of (symbols[i], symbols[i+1])
    std::vector<std::int32_t> merged;  // merged[i]: id that pair becomes
    std::vector<std::uint8_t> isNew;
};

// A token or line as a JSON string for error messages. merges.txt is raw bytes, so invalid
// UTF-8 becomes U+FFFD instead of making dump() throw json::type_error (found by fuzzing).
std::string jsonQuoted(std::string_view text) {
    return nlohmann::json(std::string(text))
        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string lineRef(const std::string& file, std::size_t line) {
    return "'" + file + "' line " + std::to_string(line);
}

}  // namespace

const std::array<std::string, 256>& byteToUnicode() {
    static const std::array<std::string, 256> table = [] {
        std::array<std::string, 256> t;
        for (int b = 0; b < 256; ++b)
            appendUtf8(t[b], byteCodePoints()[b]);
        return t;
    }();
    return table;
}

bool hasTokenizerFiles(const fs::path& dir) {
    std::error_code ec;
    const auto isFile = [&](const char* name) { return fs::is_regular_file(dir / name, ec); };
    return (isFile("vocab.json") && isFile("merges.txt")) ||
           (isFile("encoder.json") && isFile("vocab.bpe"));
}

using TokenIds = std::unordered_map<std::string, std::int32_t>;

struct BpeTokenizer::Impl {
    std::vector<std::string> tokens;      // id -> vocabulary string ("" for unused ids)
    std::vector<std::string> tokenBytes;  // id -> the bytes it decodes to
    std::vector<std::uint8_t> present;    // id -> 1 if the vocabulary defines it
    std::array<std::int32_t, 256> byteIds{};
    PairMap merges;
    std::size_t mergeCount = 0;
    std::optional<std::int32_t> endOfText;

    // Piece bytes -> [offset, count) in cachedIds. Keys view into cachedKeys, whose deque
    // keeps strings in place, so lookups need no std::string allocation.
    mutable std::shared_mutex cacheMutex;
    mutable std::unordered_map<std::string_view, std::pair<std::uint32_t, std::uint32_t>> cache;
    mutable std::deque<std::string> cachedKeys;
    mutable std::vector<std::int32_t> cachedIds;

    // Building: the id tables from the vocabulary's token -> id map, then the merge ranks.
    void loadVocabulary(const TokenIds& tokenIds, const std::string& vocabLabel);
    void loadMerges(std::string_view mergesText, const TokenIds& tokenIds,
                    const std::string& mergesLabel, const std::string& vocabLabel);

    void bpe(std::string_view piece, BpeScratch& s) const;
    void encodePiece(std::string_view piece, BpeScratch& s, std::vector<std::int32_t>& out) const;
    void encodePlain(std::string_view text, std::vector<std::int32_t>& out) const;
};

// GPT-2's bpe(): repeatedly take the lowest-ranked adjacent pair and merge all of its
// occurrences left to right in one pass. Only pairs touching a new symbol are looked up again.
void BpeTokenizer::Impl::bpe(std::string_view piece, BpeScratch& s) const {
    const std::size_t n0 = piece.size();
    s.symbols.resize(n0);
    s.ranks.resize(n0);
    s.merged.resize(n0);
    s.isNew.resize(n0);
    for (std::size_t i = 0; i < n0; ++i)
        s.symbols[i] = byteIds[static_cast<unsigned char>(piece[i])];
    const auto lookup = [&](std::size_t i) {
        const PairMap::Merge m = merges.find(PairMap::keyOf(s.symbols[i], s.symbols[i + 1]));
        s.ranks[i] = m.rank;
        s.merged[i] = m.merged;
    };
    for (std::size_t i = 0; i + 1 < n0; ++i)
        lookup(i);

    std::size_t n = n0;
    while (n > 1) {
        std::size_t best = 0;
        for (std::size_t i = 1; i + 1 < n; ++i)
            if (s.ranks[i] < s.ranks[best]) best = i;
        if (s.ranks[best] == kNoRank) break;
        const std::int32_t left = s.symbols[best];
        const std::int32_t right = s.symbols[best + 1];
        const std::int32_t merged = s.merged[best];

        // In place: the write index never passes the read index, and a kept symbol keeps
        // the rank of its old right-hand pair unless that neighbour turns out to be new.
        std::size_t w = 0;
        for (std::size_t i = 0; i < n; ++w) {
            if (i + 1 < n && s.symbols[i] == left && s.symbols[i + 1] == right) {
                s.symbols[w] = merged;
                s.isNew[w] = 1;
                i += 2;
            } else {
                s.symbols[w] = s.symbols[i];
                s.ranks[w] = s.ranks[i];
                s.merged[w] = s.merged[i];
                s.isNew[w] = 0;
                i += 1;
            }
        }
        n = w;
        for (std::size_t i = 0; i + 1 < n; ++i)
            if (s.isNew[i] || s.isNew[i + 1]) lookup(i);
    }
    s.symbols.resize(n);
}

void BpeTokenizer::Impl::encodePiece(std::string_view piece, BpeScratch& s,
                                     std::vector<std::int32_t>& out) const {
    if (piece.size() == 1) {
        out.push_back(byteIds[static_cast<unsigned char>(piece[0])]);
        return;
    }
    if (piece.size() > kMaxCachedPieceBytes) {
        bpe(piece, s);
        out.insert(out.end(), s.symbols.begin(), s.symbols.end());
        return;
    }
    {
        std::shared_lock lock(cacheMutex);
        const auto it = cache.find(piece);
        if (it != cache.end()) {
            const auto [offset, count] = it->second;
            out.insert(out.end(), cachedIds.begin() + offset, cachedIds.begin() + offset + count);
            return;
        }
    }
    bpe(piece, s);
    out.insert(out.end(), s.symbols.begin(), s.symbols.end());

    std::unique_lock lock(cacheMutex);
    if (cache.count(piece)) return;  // another thread got there first
    if (cache.size() >= kMaxCachedPieces) {
        cache.clear();
        cachedKeys.clear();
        cachedIds.clear();
    }
    cachedKeys.emplace_back(piece);
    const auto offset = static_cast<std::uint32_t>(cachedIds.size());
    cachedIds.insert(cachedIds.end(), s.symbols.begin(), s.symbols.end());
    cache.emplace(cachedKeys.back(),
                  std::make_pair(offset, static_cast<std::uint32_t>(s.symbols.size())));
}

void BpeTokenizer::Impl::encodePlain(std::string_view text, std::vector<std::int32_t>& out) const {
    BpeScratch scratch;
    for (const std::string_view piece : splitGpt2Pieces(text))
        encodePiece(piece, scratch, out);
}

BpeTokenizer::BpeTokenizer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
BpeTokenizer::BpeTokenizer(BpeTokenizer&&) noexcept = default;
BpeTokenizer& BpeTokenizer::operator=(BpeTokenizer&&) noexcept = default;
BpeTokenizer::~BpeTokenizer() = default;

BpeTokenizer BpeTokenizer::load(const fs::path& dir) {
    std::error_code ec;
    if (fs::is_regular_file(dir / "vocab.json", ec) && fs::is_regular_file(dir / "merges.txt", ec))
        return fromFiles(dir / "vocab.json", dir / "merges.txt");
    if (fs::is_regular_file(dir / "encoder.json", ec) && fs::is_regular_file(dir / "vocab.bpe", ec))
        return fromFiles(dir / "encoder.json", dir / "vocab.bpe");
    throw TokenizerError("no tokenizer files in '" + dir.string() + "'",
                         "the folder needs vocab.json + merges.txt (Hugging Face) or "
                         "encoder.json + vocab.bpe (OpenAI GPT-2)");
}

BpeTokenizer BpeTokenizer::fromFiles(const fs::path& vocabJson, const fs::path& mergesTxt) {
    const auto readOrThrow = [](const fs::path& path) {
        try {
            return readFileBytes(path);
        } catch (const InputError& e) {
            throw TokenizerError(std::string("tokenizer file unusable: ") + e.what(),
                                 "point at a folder holding vocab.json + merges.txt or "
                                 "encoder.json + vocab.bpe");
        }
    };
    const std::string vocabText = readOrThrow(vocabJson);  // vocab first: its error wins
    const std::string mergesText = readOrThrow(mergesTxt);
    return fromText(vocabText, mergesText, vocabJson.string(), mergesTxt.string());
}

namespace {

// vocab.json / encoder.json: a JSON object of token -> id, ids in 0..kMaxTokenId.
TokenIds parseVocabulary(std::string_view vocabText, const std::string& vocabLabel) {
    nlohmann::json vocab;
    try {
        vocab = nlohmann::json::parse(vocabText);
    } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e999
        throw TokenizerError("'" + vocabLabel + "' is not valid JSON: " + e.what(),
                             "re-download or re-train the tokenizer");
    }
    if (!vocab.is_object() || vocab.empty())
        throw TokenizerError("'" + vocabLabel + "' is not a JSON object of token -> id",
                             "pass a GPT-2 style vocab.json / encoder.json");
    TokenIds tokenIds;
    tokenIds.reserve(vocab.size());
    for (const auto& [token, value] : vocab.items()) {
        if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
            value.get<std::int64_t>() > kMaxTokenId)
            throw TokenizerError("'" + vocabLabel + "': token " + jsonQuoted(token) + " has id " +
                                     value.dump() + ", expected an integer in 0.." +
                                     std::to_string(kMaxTokenId),
                                 "pass a GPT-2 style vocab.json / encoder.json");
        tokenIds.emplace(token, value.get<std::int32_t>());
    }
    return tokenIds;
}

}  // namespace

void BpeTokenizer::Impl::loadVocabulary(const TokenIds& tokenIds, const std::string& vocabLabel) {
    std::int32_t largest = -1;
    for (const auto& entry : tokenIds)
        largest = std::max(largest, entry.second);
    // Id-indexed tables cost about 70 bytes per id up to the largest, so a few bytes of JSON
    // naming id 2^24 - 1 used to allocate over 1 GB (found by fuzzing). Real vocabularies are
    // dense (ids 0..N-1); some slack is allowed for gaps.
    if (static_cast<std::size_t>(largest) >= 2 * tokenIds.size() + 1024)
        throw TokenizerError("'" + vocabLabel + "': the largest id is " + std::to_string(largest) +
                                 " but there are only " + std::to_string(tokenIds.size()) +
                                 " tokens",
                             "token ids should run from 0 without large gaps; re-train the "
                             "tokenizer");
    const auto size = static_cast<std::size_t>(largest) + 1;
    tokens.resize(size);
    tokenBytes.resize(size);
    present.assign(size, 0);
    for (const auto& [token, id] : tokenIds) {
        if (present[id])
            throw TokenizerError("'" + vocabLabel + "': id " + std::to_string(id) +
                                     " is used by both " + jsonQuoted(token) + " and " +
                                     jsonQuoted(tokens[id]),
                                 "each token needs its own id; re-train the tokenizer");
        if (!tokenStringToBytes(token, tokenBytes[id]))
            throw TokenizerError("'" + vocabLabel + "': token " + jsonQuoted(token) +
                                     " has characters that stand for no byte",
                                 "this is not a byte-level (GPT-2 style) BPE vocabulary");
        tokens[id] = token;
        present[id] = 1;
    }
    for (int b = 0; b < 256; ++b) {
        const auto it = tokenIds.find(byteToUnicode()[b]);
        if (it == tokenIds.end())
            throw TokenizerError("'" + vocabLabel + "' has no token for byte " + std::to_string(b) +
                                     " (" + jsonQuoted(byteToUnicode()[b]) + ")",
                                 "a byte-level vocabulary needs all 256 byte tokens");
        byteIds[b] = it->second;
    }
    if (const auto it = tokenIds.find(std::string(kEndOfText)); it != tokenIds.end())
        endOfText = it->second;
}

// Merges: optional "#version" first line, then "left right" per line, rank = line order.
void BpeTokenizer::Impl::loadMerges(std::string_view mergesText, const TokenIds& tokenIds,
                                    const std::string& mergesLabel, const std::string& vocabLabel) {
    merges.reserve(std::count(mergesText.begin(), mergesText.end(), '\n') + 1);
    std::size_t lineNumber = 0;
    std::int32_t rank = 0;
    for (std::size_t start = 0; start < mergesText.size();) {
        std::size_t end = mergesText.find('\n', start);
        if (end == std::string::npos) end = mergesText.size();
        std::string_view line(mergesText.data() + start, end - start);
        start = end + 1;
        ++lineNumber;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) continue;
        if (lineNumber == 1 && line.substr(0, 8) == "#version") continue;
        const std::size_t space = line.find(' ');
        if (space == 0 || space == std::string_view::npos || space + 1 == line.size() ||
            line.find(' ', space + 1) != std::string_view::npos)
            throw TokenizerError(lineRef(mergesLabel, lineNumber) +
                                     ": expected two tokens "
                                     "separated by one space, got " +
                                     jsonQuoted(line),
                                 "pass a GPT-2 style merges.txt / vocab.bpe");
        const std::string left(line.substr(0, space));
        const std::string right(line.substr(space + 1));
        const auto findId = [&](const std::string& token) {
            const auto it = tokenIds.find(token);
            if (it == tokenIds.end())
                throw TokenizerError(lineRef(mergesLabel, lineNumber) + ": merge " +
                                         jsonQuoted(line) + " needs token " + jsonQuoted(token) +
                                         ", which is not in '" + vocabLabel + "'",
                                     "use the vocabulary and merges files that were written "
                                     "together for one tokenizer");
            return it->second;
        };
        const std::int32_t leftId = findId(left);
        const std::int32_t rightId = findId(right);
        const std::int32_t mergedId = findId(left + right);
        merges.insert(PairMap::keyOf(leftId, rightId), {rank, mergedId});
        ++rank;
    }
    mergeCount = static_cast<std::size_t>(rank);
}

BpeTokenizer BpeTokenizer::fromText(std::string_view vocabText, std::string_view mergesText,
                                    const std::string& vocabLabel, const std::string& mergesLabel) {
    auto impl = std::make_unique<Impl>();
    const auto tokenIds = parseVocabulary(vocabText, vocabLabel);
    impl->loadVocabulary(tokenIds, vocabLabel);
    impl->loadMerges(mergesText, tokenIds, mergesLabel, vocabLabel);
    return BpeTokenizer(std::move(impl));
}

std::vector<std::int32_t> BpeTokenizer::encode(std::string_view text) const {
    std::vector<std::int32_t> ids;
    ids.reserve(text.size() / 3 + 1);
    m_impl->encodePlain(text, ids);
    return ids;
}

std::vector<std::int32_t> BpeTokenizer::encodeWithSpecialTokens(std::string_view text) const {
    std::vector<std::int32_t> ids;
    ids.reserve(text.size() / 3 + 1);
    std::size_t start = 0;
    while (true) {
        const std::size_t hit = text.find(kEndOfText, start);
        m_impl->encodePlain(text.substr(start, hit == std::string_view::npos ? hit : hit - start),
                            ids);
        if (hit == std::string_view::npos) break;
        if (!m_impl->endOfText)
            throw TokenizerError(
                "the text contains \"<|endoftext|>\" but the vocabulary has "
                "no such token",
                "use encode() to treat it as plain text");
        ids.push_back(*m_impl->endOfText);
        start = hit + kEndOfText.size();
    }
    return ids;
}

std::string BpeTokenizer::decode(const std::vector<std::int32_t>& ids) const {
    std::string text;
    text.reserve(ids.size() * 4);
    for (const std::int32_t id : ids) {
        tokenString(id);  // throws on an unknown id
        text += m_impl->tokenBytes[id];
    }
    return text;
}

std::size_t BpeTokenizer::vocabSize() const {
    return m_impl->tokens.size();
}
std::size_t BpeTokenizer::mergeCount() const {
    return m_impl->mergeCount;
}
std::vector<std::uint64_t> BpeTokenizer::tokenByteStarts(
    std::string_view, const std::vector<std::int32_t>& ids) const {
    std::vector<std::uint64_t> starts;
    starts.reserve(ids.size());
    std::uint64_t offset = 0;
    for (const auto id : ids) {
        starts.push_back(offset);
        for (const char c : tokenString(id))
            if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++offset;
    }
    return starts;
}

std::optional<std::int32_t> BpeTokenizer::endOfTextId() const {
    return m_impl->endOfText;
}

const std::string& BpeTokenizer::tokenString(std::int32_t id) const {
    if (id < 0 || static_cast<std::size_t>(id) >= m_impl->tokens.size() || !m_impl->present[id])
        throw TokenizerError("token id " + std::to_string(id) + " is not in the vocabulary (size " +
                                 std::to_string(m_impl->tokens.size()) + ")",
                             "the ids come from a different tokenizer or model");
    return m_impl->tokens[id];
}

}  // namespace ponder::core
