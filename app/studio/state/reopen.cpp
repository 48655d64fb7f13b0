// Source text and verified token offsets of a stored run's inputs.
#include "app/studio/state/reopen.h"

#include <algorithm>
#include <optional>

#include "core/text/text_input.h"
#include "core/text/tokenizer.h"
#include "core/util/errors.h"
#include "core/util/sha256.h"

namespace ponder::studio {

namespace fs = std::filesystem;

namespace {

core::PlanFile textOnly(const fs::path& path, const std::string& text) {
    core::PlanFile file;
    file.path = path;
    file.text = text;
    file.lineStarts.push_back(0);
    for (std::size_t i = 0; i < text.size(); ++i)
        if (text[i] == '\n' && i + 1 < text.size()) file.lineStarts.push_back(i + 1);
    return file;
}

}  // namespace

std::vector<ReopenedFile> reopenFiles(const core::StoredRun& run, const fs::path& modelDir) {
    std::vector<ReopenedFile> out;
    const fs::path model = modelDir.empty() ? fs::path(run.description.modelDir) : modelDir;
    std::unique_ptr<core::Tokenizer> tokenizer;
    std::string tokenizerError;
    for (const auto& input : run.inputFiles) {
        ReopenedFile entry;
        const bool hasLosses =
            std::any_of(run.units.begin(), run.units.end(), [&](const core::UnitRecord& u) {
                return u.fileIndex == input.fileIndex && !u.tokenLossSkip.empty();
            });
        if (!input.text.empty()) {  // a generated stream, stored whole with its tokens
            entry.file = textOnly(input.path, input.text);
            entry.file.ids = input.tokenIds;
            entry.file.tokenByteStart = input.tokenStarts;
            if (!hasLosses)
                entry.note = "token heat map: per-token losses were not stored with this run";
            out.push_back(std::move(entry));
            continue;
        }
        std::string text;
        try {
            text = core::readCodeFile(input.path);
        } catch (const core::PonderError& error) {
            entry.file.path = input.path;
            entry.note = std::string("source not shown: ") + error.what();
            out.push_back(std::move(entry));
            continue;
        }
        entry.file = textOnly(input.path, text);
        if (!hasLosses) {
            entry.note = "token heat map: per-token losses were not stored with this run";
        } else if (input.sha256.empty()) {
            entry.note =
                "token heat map: no file hash was stored, so token positions cannot be "
                "checked";
        } else if (core::sha256Hex(text) != input.sha256) {
            entry.note = "token heat map hidden: the file changed since the run (run it again)";
        } else {
            // Token offsets are recomputed exactly as the evaluator made them: the same
            // tokenizer through the same plan builder, on text with the stored hash.
            try {
                if (!tokenizer && tokenizerError.empty()) tokenizer = core::loadTokenizer(model);
            } catch (const core::PonderError& error) {
                tokenizerError = error.what();
            }
            if (!tokenizer) {
                entry.note =
                    "token heat map: the run's tokenizer is unavailable (" + tokenizerError + ")";
            } else {
                try {
                    core::PlanOptions options;
                    options.chunk = options.miniBatch;
                    options.minTailTokens = options.miniBatch;
                    auto plan = core::buildEvalPlan(*tokenizer, {fs::path(input.path)}, options);
                    auto& file = plan.files.at(0);
                    if (std::int64_t(file.ids.size()) != input.tokens) {
                        entry.note = "token heat map: the model's tokenizer differs from the run's";
                    } else {
                        entry.file.tokenByteStart = std::move(file.tokenByteStart);
                        entry.file.ids = std::move(file.ids);
                    }
                } catch (const core::PonderError& error) {
                    entry.note = std::string("token heat map: ") + error.what();
                }
            }
        }
        out.push_back(std::move(entry));
    }
    return out;
}

}  // namespace ponder::studio
