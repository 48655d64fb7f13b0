// The files of corpus arguments (a file, or every file under a folder), for evaluation plans,
// training, tokenizer training and benchmarks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ponder::core {

// Files of a corpus argument: a file, or every regular file under a folder (sorted).
std::vector<std::filesystem::path> listCorpusFiles(const std::filesystem::path& root);

struct SelectedCorpusFiles {
    std::vector<std::filesystem::path> files;  // readable UTF-8 text files, sorted per root
    std::size_t skipped = 0;                   // binary, empty or non-UTF-8 files left out
    std::uint64_t bytes = 0;
};

// Whether `file` ends in one of `extensions`, each given with or without its dot ("py", ".py",
// ".d.ts"); an empty list matches every file. The one rule for --ext everywhere.
bool matchesExtension(const std::filesystem::path& file,
                      const std::vector<std::string>& extensions);
// "py" -> ".py"; ".py" and "" unchanged. What training settings record for --ext.
std::string dottedExtension(const std::string& extension);

// Files under each root whose extension is in `extensions` (all when empty, e.g. {".py"}),
// keeping only those readCodeFile accepts, until `maxBytes` is reached (0 = no limit).
SelectedCorpusFiles selectCorpusFiles(const std::vector<std::string>& roots,
                                      const std::vector<std::string>& extensions,
                                      std::uint64_t maxBytes = 0);

}  // namespace ponder::core
