// `ponder train-tokenizer`: byte-level BPE vocabulary from a corpus, in Hugging Face format.
#include <cstdio>
#include <iostream>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "core/data/corpus_files.h"
#include "core/text/bpe_trainer.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"

namespace ponder::app {

int runTrainTokenizer(const Arguments& rawArgs) {
    const ParsedArgs args(
        rawArgs,
        {{"--out", true}, {"--vocab", true}, {"--min-count", true}, {"--ext", true, true}});
    const auto out = args.value("--out");
    if (!out) throw UsageError("--out DIR is required");
    if (args.positionals().empty()) throw UsageError("expected at least one CORPUS file or folder");
    const auto vocab = args.integerOr("--vocab", 8192);
    const auto minCount = args.integerOr("--min-count", 2);
    if (vocab < 257) throw UsageError("--vocab must be at least 257 (256 bytes + <|endoftext|>)");
    if (minCount < 1) throw UsageError("--min-count must be at least 1");
    std::vector<std::string> extensions;
    for (auto ext : args.values("--ext"))
        extensions.push_back(ext[0] == '.' ? ext : "." + ext);

    const auto corpus = core::selectCorpusFiles(args.positionals(), extensions);
    if (corpus.files.empty())
        throw core::InputError("no usable text files in the corpus",
                               "check the paths and --ext; binary and non-UTF-8 files are skipped");
    core::BpeTrainer trainer(
        {static_cast<std::size_t>(vocab), static_cast<std::uint64_t>(minCount)});
    for (const auto& file : corpus.files)
        trainer.addText(core::readFileBytes(file));
    std::error_code ec;
    std::filesystem::create_directories(*out, ec);
    const auto summary = trainer.trainAndWrite(*out);
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1f", summary.seconds);
    std::cout << "trained " << summary.vocabSize << " tokens (" << summary.merges << " merges) on "
              << corpus.files.size() << " files, " << summary.inputBytes << " bytes, "
              << summary.distinctPieces << " distinct pieces in " << seconds << " s";
    if (corpus.skipped) std::cout << "; skipped " << corpus.skipped << " non-text files";
    std::cout << "\nwrote " << *out << "/vocab.json and merges.txt\n";
    return 0;
}

}  // namespace ponder::app
