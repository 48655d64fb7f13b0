// Corpus file selection for train-tokenizer, make-test-model and bench.
#include "app/cli/corpus_files.h"

#include <algorithm>

#include "core/util/errors.h"
#include "core/model/model_dir.h"
#include "core/text/text_input.h"

namespace ponder::app {

CorpusSelection selectCorpusFiles(const std::vector<std::string>& roots,
                                  const std::vector<std::string>& extensions,
                                  std::uint64_t maxBytes) {
    CorpusSelection selection;
    for (const auto& root : roots) {
        for (const auto& file : core::listCorpusFiles(root)) {
            const auto extension = file.extension().string();
            if (!extensions.empty() &&
                std::find(extensions.begin(), extensions.end(), extension) == extensions.end())
                continue;
            try {
                selection.bytes += core::readCodeFile(file).size();
                selection.files.push_back(file);
            } catch (const core::InputError&) {
                ++selection.skipped;
            }
            if (maxBytes && selection.bytes >= maxBytes) return selection;
        }
    }
    return selection;
}

}  // namespace ponder::app
