// Whole-file reads and atomic writes (temp file + fsync + rename), with typed errors.
#pragma once

#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

namespace ponder::core {

// Reads a regular file into memory; throws InputError naming the path when it is missing,
// a directory or unreadable.
std::string readFileBytes(const std::filesystem::path& path);

// Writes through `writer` into "<path>.tmp.<pid>" in the same folder, then fsyncs and
// renames over `path`, so a reader never sees a half-written file. Throws OutputError.
void writeFileAtomic(const std::filesystem::path& path,
                     const std::function<void(std::ostream&)>& writer);
void writeFileAtomic(const std::filesystem::path& path, std::string_view bytes);

// Before long work whose result goes to `path`: throws OutputError (naming `option`, e.g.
// "--json", in the hint) when its folder is missing or not writable, so nothing is lost later.
void checkWritableFolder(const std::filesystem::path& path, const std::string& option);

}  // namespace ponder::core
