// Collecting the text files of corpus arguments (files or folders), shared by commands.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ponder::app {

struct CorpusSelection {
    std::vector<std::filesystem::path> files;  // readable UTF-8 text files, sorted per root
    std::size_t skipped = 0;                   // binary, empty or non-UTF-8 files left out
    std::uint64_t bytes = 0;
};

// Files under each root whose extension is in `extensions` (all when empty, e.g. {".py"}),
// keeping only those readCodeFile accepts, until `maxBytes` is reached (0 = no limit).
CorpusSelection selectCorpusFiles(const std::vector<std::string>& roots,
                                  const std::vector<std::string>& extensions,
                                  std::uint64_t maxBytes = 0);

}  // namespace ponder::app
