// Cutting tokenized files into evaluation units (design.md §4, algorithm.md §4 and §7).
#include "core/eval/eval_plan.h"

#include <algorithm>

#include "core/data/corpus_files.h"
#include "core/text/text_input.h"
#include "core/text/tokenizer.h"
#include "core/util/errors.h"

namespace ponder::core {
namespace fs = std::filesystem;

std::int64_t PlanFile::lineOf(std::uint64_t byteOffset) const {
    const auto it = std::upper_bound(lineStarts.begin(), lineStarts.end(), byteOffset);
    return static_cast<std::int64_t>(it - lineStarts.begin());
}

std::vector<std::int64_t> EvalPlan::unitIds(const PlanUnit& unit) const {
    std::vector<std::int64_t> ids;
    ids.reserve(static_cast<std::size_t>(unit.sequences * unit.tokens));
    for (std::int64_t row = 0; row < unit.sequences; ++row) {
        const auto& source = unit.fileIndex >= 0 ? files[unit.fileIndex].ids : stream;
        const auto begin = unit.tokenStart + row * options.paperWindow();
        ids.insert(ids.end(), source.begin() + begin, source.begin() + begin + unit.tokens);
    }
    return ids;
}

namespace {

struct InputFile {
    fs::path path;
    bool named;  // given directly on the command line (errors are fatal)
};

PlanFile tokenizeFile(const Tokenizer& tokenizer, const fs::path& path) {
    PlanFile file;
    file.path = path;
    file.text = readCodeFile(path);
    file.ids = tokenizer.encode(file.text);
    file.tokenByteStart = tokenizer.tokenByteStarts(file.text, file.ids);
    file.lineStarts.push_back(0);
    for (std::size_t i = 0; i < file.text.size(); ++i)
        if (file.text[i] == '\n' && i + 1 < file.text.size()) file.lineStarts.push_back(i + 1);
    return file;
}

// File mode: consecutive chunks; a tail of at least minTailTokens is kept, trimmed to a
// multiple of the mini-batch (the TTT layer needs whole mini-batches).
std::vector<PlanUnit> fileUnits(const PlanFile& file, std::int64_t fileIndex,
                                const PlanOptions& options, std::int64_t& covered) {
    std::vector<PlanUnit> units;
    const auto total = static_cast<std::int64_t>(file.ids.size());
    covered = 0;
    while (covered < total) {
        std::int64_t length = std::min(options.chunk, total - covered);
        if (length < options.chunk) {
            if (length < options.minTailTokens) break;
            length -= length % options.miniBatch;
        }
        PlanUnit unit;
        unit.fileIndex = fileIndex;
        unit.chunkIndex = static_cast<std::int64_t>(units.size());
        unit.tokenStart = covered;
        unit.tokens = length;
        units.push_back(unit);
        covered += length;
    }
    return units;
}

// The files the inputs name: a named file as given, a folder's code files with a wanted
// extension (recursively).
std::vector<InputFile> inputFiles(const std::vector<fs::path>& inputs,
                                  const std::vector<std::string>& extensions) {
    std::vector<InputFile> candidates;
    for (const auto& input : inputs) {
        std::error_code ec;
        if (fs::is_directory(input, ec)) {
            for (const auto& file : listCorpusFiles(input)) {
                if (matchesExtension(file, extensions)) candidates.push_back({file, false});
            }
        } else {
            candidates.push_back({input, true});
        }
    }
    return candidates;
}

// Tokenizes every candidate into plan.files; a file found in a folder that cannot be used is
// skipped with its reason, a named one is an error.
void tokenizeInputs(const Tokenizer& tokenizer, const std::vector<InputFile>& candidates,
                    EvalPlan& plan) {
    const auto& options = plan.options;
    const auto minimum = options.mode == EvalMode::File ? options.minTailTokens : 2;
    for (const auto& candidate : candidates) {
        try {
            auto file = tokenizeFile(tokenizer, candidate.path);
            if (static_cast<std::int64_t>(file.ids.size()) < minimum)
                throw InputError("'" + candidate.path.string() + "' has " +
                                     std::to_string(file.ids.size()) + " tokens, fewer than the " +
                                     std::to_string(minimum) + " a unit needs",
                                 "pass a longer file");
            plan.totalTokens += static_cast<std::int64_t>(file.ids.size());
            plan.files.push_back(std::move(file));
        } catch (const InputError& error) {
            if (candidate.named) throw;
            plan.skipped.push_back(candidate.path.string() + ": " + error.what());
            if (dynamic_cast<const BinaryFileError*>(&error))
                plan.skippedBinary.push_back(plan.skipped.size() - 1);
        }
    }
    if (plan.files.empty())
        throw InputError("no usable source files among the inputs",
                         "pass UTF-8 code files (folders are searched recursively)");
}

void planFileUnits(EvalPlan& plan) {
    for (std::size_t i = 0; i < plan.files.size(); ++i) {
        std::int64_t covered = 0;
        for (auto unit :
             fileUnits(plan.files[i], static_cast<std::int64_t>(i), plan.options, covered)) {
            unit.index = static_cast<std::int64_t>(plan.units.size());
            plan.units.push_back(unit);
        }
        plan.files[i].droppedTokens = static_cast<std::int64_t>(plan.files[i].ids.size()) - covered;
        plan.droppedTokens += plan.files[i].droppedTokens;
    }
}

// Paper mode (algorithm.md §4, §7): one <|endoftext|> between documents, consecutive
// non-overlapping windows of 2 chunks, tail dropped, paperBatch windows per batch; a unit is
// one chunk index of one batch. A final batch may hold fewer windows.
void planPaperUnits(const Tokenizer& tokenizer, EvalPlan& plan) {
    const auto& options = plan.options;
    const auto eot = tokenizer.endOfTextId();
    if (!eot)
        throw InputError(
            "paper mode packs files with an end-of-text token, which this tokenizer lacks",
            "use {--mode file}, or a GPT-2 style tokenizer");
    for (std::size_t i = 0; i < plan.files.size(); ++i) {
        if (i > 0) plan.stream.push_back(*eot);
        plan.stream.insert(plan.stream.end(), plan.files[i].ids.begin(), plan.files[i].ids.end());
    }
    const auto window = options.paperWindow();
    const auto windows = static_cast<std::int64_t>(plan.stream.size()) / window;
    if (windows == 0)
        throw InputError("the corpus has " + std::to_string(plan.stream.size()) +
                             " tokens, fewer than one " + std::to_string(window) + "-token window",
                         "add files, or use {--mode file}");
    plan.droppedTokens = static_cast<std::int64_t>(plan.stream.size()) - windows * window;
    for (std::int64_t first = 0, batch = 0; first < windows; first += options.paperBatch, ++batch) {
        for (std::int64_t chunk = 0; chunk < 2; ++chunk) {
            PlanUnit unit;
            unit.index = static_cast<std::int64_t>(plan.units.size());
            unit.batchIndex = batch;
            unit.chunkIndex = chunk;
            unit.tokenStart = first * window + chunk * options.chunk;
            unit.tokens = options.chunk;
            unit.sequences = std::min(options.paperBatch, windows - first);
            plan.units.push_back(unit);
        }
    }
}

}  // namespace

EvalPlan buildEvalPlan(const Tokenizer& tokenizer, const std::vector<fs::path>& inputs,
                       const PlanOptions& options, const std::vector<std::string>& extensions) {
    if (options.chunk <= 0 || options.chunk % options.miniBatch != 0)
        throw InputError("chunk length " + std::to_string(options.chunk) +
                             " is not a positive multiple of the TTT mini-batch " +
                             std::to_string(options.miniBatch),
                         "use e.g. {--chunk 512}");
    EvalPlan plan;
    plan.options = options;
    tokenizeInputs(tokenizer, inputFiles(inputs, extensions), plan);
    if (options.mode == EvalMode::File)
        planFileUnits(plan);
    else
        planPaperUnits(tokenizer, plan);
    return plan;
}

std::vector<std::string> skippedReport(const EvalPlan& plan) {
    std::vector<std::string> lines;
    std::vector<bool> binary(plan.skipped.size(), false);
    for (auto index : plan.skippedBinary)
        binary[index] = true;
    for (std::size_t i = 0; i < plan.skipped.size(); ++i)
        if (!binary[i]) lines.push_back("skipped " + plan.skipped[i]);
    if (!plan.skippedBinary.empty()) {
        const auto& first = plan.skipped[plan.skippedBinary.front()];
        lines.push_back("skipped " + std::to_string(plan.skippedBinary.size()) + " binary file" +
                        (plan.skippedBinary.size() == 1 ? "" : "s") + " (e.g. " +
                        first.substr(0, first.find(": ")) + ")");
    }
    return lines;
}

}  // namespace ponder::core
