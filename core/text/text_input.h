// Reading code files for tokenization and evaluation, refusing what is not text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/util/errors.h"

namespace ponder::core {

// Offset of the first byte that breaks UTF-8 (overlongs, surrogates and > U+10FFFF
// included), or npos when the whole text is valid.
std::size_t findInvalidUtf8(std::string_view text);

// Larger files are refused (no real source file comes near it).
constexpr std::uintmax_t kMaxCodeFileBytes = std::uintmax_t(64) << 20;

// A file with NUL bytes: the one InputError that a folder scan skips without a word each.
class BinaryFileError : public InputError {
public:
    using InputError::InputError;
};

// Reads a source file as UTF-8 text. Throws InputError with a hint for a missing path,
// a directory, a file over kMaxCodeFileBytes, an empty file, a binary file (NUL bytes) or
// invalid UTF-8 (naming the byte offset).
std::string readCodeFile(const std::filesystem::path& path);
// readCodeFile's checks on text from elsewhere (standard input): empty, binary, not UTF-8.
// `name` says where it came from in the messages ("'a.py'", "the prompt on standard input").
void checkCodeText(const std::string& text, const std::string& name);

}  // namespace ponder::core
