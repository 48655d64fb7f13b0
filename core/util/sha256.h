// SHA-256 (FIPS 180-4) of files and byte strings, for checkpoint/backbone matching.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace ponder::core {

std::string sha256Hex(std::string_view bytes);
// Streams the file; throws InputError when it cannot be read.
std::string sha256FileHex(const std::filesystem::path& path);

}  // namespace ponder::core
