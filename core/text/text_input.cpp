// Text checks shared by every command that reads code: a clear error beats a silent
// byte-level tokenization of a binary or mis-encoded file.
#include "core/text/text_input.h"

#include <cstdint>

#include "core/util/errors.h"
#include "core/util/file_io.h"

namespace ponder::core {

std::size_t findInvalidUtf8(std::string_view text) {
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(text.data());
    const std::size_t size = text.size();
    std::size_t i = 0;
    while (i < size) {
        const std::uint8_t lead = bytes[i];
        if (lead < 0x80) {
            ++i;
            continue;
        }
        std::size_t length = 0;
        std::uint32_t codePoint = 0, minimum = 0;
        if ((lead & 0xE0) == 0xC0) {
            length = 2, codePoint = lead & 0x1F, minimum = 0x80;
        } else if ((lead & 0xF0) == 0xE0) {
            length = 3, codePoint = lead & 0x0F, minimum = 0x800;
        } else if ((lead & 0xF8) == 0xF0) {
            length = 4, codePoint = lead & 0x07, minimum = 0x10000;
        } else {
            return i;
        }
        if (i + length > size) return i;
        for (std::size_t k = 1; k < length; ++k) {
            if ((bytes[i + k] & 0xC0) != 0x80) return i;
            codePoint = (codePoint << 6) | (bytes[i + k] & 0x3F);
        }
        if (codePoint < minimum || codePoint > 0x10FFFF ||
            (codePoint >= 0xD800 && codePoint <= 0xDFFF))
            return i;
        i += length;
    }
    return std::string_view::npos;
}

std::string readCodeFile(const std::filesystem::path& path) {
    const std::string name = "'" + path.string() + "'";
    // Refused before reading: a log or data dump named like code would take hours to evaluate
    // and gigabytes of token ids.
    std::error_code error;
    if (const auto bytes = std::filesystem::file_size(path, error);
        !error && bytes > kMaxCodeFileBytes)
        throw InputError(name + " is " + std::to_string(bytes >> 20) +
                             " MiB; code files are read up to " +
                             std::to_string(kMaxCodeFileBytes >> 20) + " MiB",
                         "split it into smaller files, or pass the folder of its sources");
    std::string text = readFileBytes(path);
    checkCodeText(text, name);
    return text;
}

void checkCodeText(const std::string& text, const std::string& name) {
    if (text.empty()) throw InputError(name + " is empty", "pass a file with source code in it");
    if (text.find('\0', 0) != std::string::npos)
        throw BinaryFileError(name + " looks binary (it contains NUL bytes)",
                              "pass a source code file");
    if (const auto bad = findInvalidUtf8(text); bad != std::string_view::npos)
        throw InputError(
            name + " is not valid UTF-8 (first bad byte at offset " + std::to_string(bad) + ")",
            "convert it first, e.g. iconv -f latin1 -t utf-8 FILE > FILE.utf8");
}

}  // namespace ponder::core
