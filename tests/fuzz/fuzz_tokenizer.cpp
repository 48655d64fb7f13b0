// The bundled model's byte-level BPE tokenizer on arbitrary bytes: the pre-tokenizer's pieces
// cover the input exactly, decode(encode(s)) == s for every byte string (bpe_tokenizer.h
// promises it for invalid UTF-8 too), the piece cache gives the same ids twice, and decoding
// arbitrary ids either works or throws TokenizerError. The UTF-8 validator is checked
// against a plain reference implementation of Unicode's Table 3-7.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/text/bpe_tokenizer.h"
#include "core/text/pretokenizer.h"
#include "core/text/text_input.h"
#include "tests/fuzz/fuzz_support.h"

using namespace ponder;

namespace {

std::unique_ptr<core::BpeTokenizer> g_tokenizer;

// Offset of the first invalid byte, or npos (well-formed UTF-8 byte sequences, Table 3-7).
std::size_t referenceInvalidUtf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
        const unsigned c = b(i);
        std::size_t n = 0;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80)
            n = 1;
        else if (c >= 0xC2 && c <= 0xDF)
            n = 2;
        else if (c == 0xE0)
            n = 3, lo = 0xA0;
        else if (c == 0xED)
            n = 3, hi = 0x9F;
        else if (c >= 0xE1 && c <= 0xEF)
            n = 3;
        else if (c == 0xF0)
            n = 4, lo = 0x90;
        else if (c == 0xF4)
            n = 4, hi = 0x8F;
        else if (c >= 0xF1 && c <= 0xF3)
            n = 4;
        else
            return i;
        if (i + n > s.size()) return i;
        for (std::size_t k = 1; k < n; ++k) {
            const unsigned lower = k == 1 ? lo : 0x80, upper = k == 1 ? hi : 0xBF;
            if (b(i + k) < lower || b(i + k) > upper) return i;
        }
        i += n;
    }
    return std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // PONDER_FUZZ_TOKENIZER picks another tokenizer folder; the default is the bundled model's.
    const char* dir = std::getenv("PONDER_FUZZ_TOKENIZER");
    g_tokenizer = std::make_unique<core::BpeTokenizer>(
        core::BpeTokenizer::load(dir ? dir : PONDER_SOURCE_DIR "/assets/default-model"));
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const auto& tokenizer = *g_tokenizer;

    fuzz::check(core::findInvalidUtf8(text) == referenceInvalidUtf8(text),
                "findInvalidUtf8 disagrees with the reference validator");

    std::string joined;
    for (const auto piece : core::splitGpt2Pieces(text)) {
        fuzz::check(!piece.empty(), "splitGpt2Pieces returned an empty piece");
        joined += piece;
    }
    fuzz::check(joined == text, "splitGpt2Pieces pieces do not concatenate to the input");

    const auto ids = tokenizer.encode(text);
    fuzz::check(tokenizer.decode(ids) == text, "decode(encode(s)) != s");
    fuzz::check(tokenizer.encode(text) == ids, "encode gave other ids the second time (cache)");
    if (tokenizer.endOfTextId()) {
        const auto special = tokenizer.encodeWithSpecialTokens(text);
        fuzz::check(tokenizer.decode(special) == text, "decode(encodeWithSpecialTokens(s)) != s");
    }

    // The same bytes as token ids: valid ones decode, others throw TokenizerError only.
    std::vector<std::int32_t> raw(size / sizeof(std::int32_t));
    if (!raw.empty()) std::memcpy(raw.data(), data, raw.size() * sizeof(std::int32_t));
    fuzz::typedErrorsOnly("decode(arbitrary ids)", [&] { (void)tokenizer.decode(raw); });
    return 0;
}
