// Hand-written matcher for GPT-2's pre-tokenization pattern with JavaScript (`/u`) semantics;
// no std::regex, so it is fast and handles invalid UTF-8 the way pretokenizer.h promises.
#include "core/text/pretokenizer.h"

#include <utf8proc.h>

#include <array>
#include <cstdint>

namespace ponder::core {
namespace {

enum class CharClass : std::uint8_t { Letter, Number, Space, Other };

struct DecodedChar {
    char32_t codePoint;
    std::size_t length;  // bytes consumed
};

constexpr char32_t kReplacement = 0xFFFD;

// Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF), like a fatal
// TextDecoder. An invalid byte becomes one replacement character of length 1, so every
// input byte lands in exactly one piece.
DecodedChar decodeAt(std::string_view text, std::size_t pos) {
    const auto byteAt = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char b0 = byteAt(pos);
    if (b0 < 0x80) return {b0, 1};
    std::size_t length = 0;
    char32_t cp = 0;
    char32_t minimum = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        length = 2, cp = b0 & 0x1F, minimum = 0x80;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        length = 3, cp = b0 & 0x0F, minimum = 0x800;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        length = 4, cp = b0 & 0x07, minimum = 0x10000;
    } else {
        return {kReplacement, 1};
    }
    if (pos + length > text.size()) return {kReplacement, 1};
    for (std::size_t i = 1; i < length; ++i) {
        const unsigned char b = byteAt(pos + i);
        if ((b & 0xC0) != 0x80) return {kReplacement, 1};
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < minimum || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {kReplacement, 1};
    return {cp, length};
}

// JavaScript's \s is WhiteSpace + LineTerminator (ECMA-262 §22.2.2.9), which differs from
// Python's and Rust's: U+0085 is not included, U+FEFF is.
bool isJsSpace(char32_t cp) {
    switch (cp) {
        case 0x09:
        case 0x0A:
        case 0x0B:
        case 0x0C:
        case 0x0D:
        case 0x20:
        case 0xA0:
        case 0x1680:
        case 0x2028:
        case 0x2029:
        case 0x202F:
        case 0x205F:
        case 0x3000:
        case 0xFEFF:
            return true;
        default:
            return cp >= 0x2000 && cp <= 0x200A;
    }
}

CharClass classifySlow(char32_t cp) {
    if (isJsSpace(cp)) return CharClass::Space;
    switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
        case UTF8PROC_CATEGORY_LU:
        case UTF8PROC_CATEGORY_LL:
        case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM:
        case UTF8PROC_CATEGORY_LO:
            return CharClass::Letter;
        case UTF8PROC_CATEGORY_ND:
        case UTF8PROC_CATEGORY_NL:
        case UTF8PROC_CATEGORY_NO:
            return CharClass::Number;
        default:
            return CharClass::Other;
    }
}

// ASCII dominates source code, so it gets a table instead of a utf8proc lookup.
const std::array<CharClass, 128>& asciiClasses() {
    static const std::array<CharClass, 128> table = [] {
        std::array<CharClass, 128> t{};
        for (char32_t cp = 0; cp < 128; ++cp)
            t[cp] = classifySlow(cp);
        return t;
    }();
    return table;
}

struct ClassifiedChar {
    CharClass cls;
    std::size_t length;
    bool isPlainSpace;  // U+0020, the only character the ` ?` prefixes accept
};

ClassifiedChar classifyAt(std::string_view text, std::size_t pos) {
    const auto b0 = static_cast<unsigned char>(text[pos]);
    if (b0 < 0x80) return {asciiClasses()[b0], 1, b0 == ' '};
    const DecodedChar decoded = decodeAt(text, pos);
    return {classifySlow(decoded.codePoint), decoded.length, false};
}

// End of the run of characters of class `cls` starting at `pos`.
std::size_t runEnd(std::string_view text, std::size_t pos, CharClass cls) {
    while (pos < text.size()) {
        const ClassifiedChar c = classifyAt(text, pos);
        if (c.cls != cls) break;
        pos += c.length;
    }
    return pos;
}

// Length of a contraction ('s 't 're 've 'm 'll 'd; ASCII, case-sensitive) at `pos`, or 0.
std::size_t contractionLength(std::string_view text, std::size_t pos) {
    if (text[pos] != '\'' || pos + 1 >= text.size()) return 0;
    const char c1 = text[pos + 1];
    if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
    if (pos + 2 >= text.size()) return 0;
    const char c2 = text[pos + 2];
    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
    return 0;
}

// End of the match starting at `pos`, trying the pattern's alternatives in order.
std::size_t matchEnd(std::string_view text, std::size_t pos) {
    if (const std::size_t n = contractionLength(text, pos)) return pos + n;
    const ClassifiedChar first = classifyAt(text, pos);
    // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: a space joins a following non-space run.
    if (first.isPlainSpace && pos + 1 < text.size()) {
        const ClassifiedChar next = classifyAt(text, pos + 1);
        if (next.cls != CharClass::Space) return runEnd(text, pos + 1, next.cls);
    }
    if (first.cls != CharClass::Space) return runEnd(text, pos, first.cls);
    // `\s+(?!\S)` backtracks to leave the run's last space for the next word's ` ?` prefix;
    // a single space before a non-space fails it and falls through to `\s+`.
    std::size_t lastStart = pos;
    std::size_t end = pos + first.length;
    std::size_t count = 1;
    while (end < text.size()) {
        const ClassifiedChar c = classifyAt(text, end);
        if (c.cls != CharClass::Space) break;
        lastStart = end;
        end += c.length;
        ++count;
    }
    if (end == text.size() || count == 1) return end;
    return lastStart;
}

}  // namespace

std::vector<std::string_view> splitGpt2Pieces(std::string_view text) {
    std::vector<std::string_view> pieces;
    pieces.reserve(text.size() / 4 + 1);
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t end = matchEnd(text, pos);
        pieces.push_back(text.substr(pos, end - pos));
        pos = end;
    }
    return pieces;
}

}  // namespace ponder::core
