// Corpus file listing and selection.
#include "core/data/corpus_files.h"

#include <algorithm>

#include "core/text/text_input.h"
#include "core/util/errors.h"

namespace ponder::core {
namespace fs = std::filesystem;

std::vector<fs::path> listCorpusFiles(const fs::path& root) {
    std::error_code ec;
    if (!fs::exists(root, ec))
        throw InputError("corpus path '" + root.string() + "' does not exist", "check the path");
    if (!fs::is_directory(root, ec)) return {root};
    std::vector<fs::path> files;
    for (auto it = fs::recursive_directory_iterator(
             root, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec)) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::string dottedExtension(const std::string& extension) {
    return extension.empty() || extension.front() == '.' ? extension : "." + extension;
}

bool matchesExtension(const fs::path& file, const std::vector<std::string>& extensions) {
    if (extensions.empty()) return true;
    const auto name = file.filename().string();
    for (const auto& given : extensions) {
        if (given.empty()) continue;
        const auto extension = dottedExtension(given);
        if (name.size() > extension.size() &&
            name.compare(name.size() - extension.size(), extension.size(), extension) == 0)
            return true;
    }
    return false;
}

SelectedCorpusFiles selectCorpusFiles(const std::vector<std::string>& roots,
                                      const std::vector<std::string>& extensions,
                                      std::uint64_t maxBytes) {
    SelectedCorpusFiles selection;
    for (const auto& root : roots) {
        for (const auto& file : listCorpusFiles(root)) {
            if (!matchesExtension(file, extensions)) continue;
            try {
                selection.bytes += readCodeFile(file).size();
                selection.files.push_back(file);
            } catch (const InputError&) {
                ++selection.skipped;
            }
            if (maxBytes && selection.bytes >= maxBytes) return selection;
        }
    }
    return selection;
}

}  // namespace ponder::core
