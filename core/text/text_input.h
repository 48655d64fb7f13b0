// Reading code files for tokenization and evaluation, refusing what is not text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace ponder::core {

// Offset of the first byte that breaks UTF-8 (overlongs, surrogates and > U+10FFFF
// included), or npos when the whole text is valid.
std::size_t findInvalidUtf8(std::string_view text);

// Larger files are refused (no real source file comes near it).
constexpr std::uintmax_t kMaxCodeFileBytes = std::uintmax_t(64) << 20;

// Reads a source file as UTF-8 text. Throws InputError with a hint for a missing path,
// a directory, a file over kMaxCodeFileBytes, an empty file, a binary file (NUL bytes) or
// invalid UTF-8 (naming the byte offset).
std::string readCodeFile(const std::filesystem::path& path);

}  // namespace ponder::core
