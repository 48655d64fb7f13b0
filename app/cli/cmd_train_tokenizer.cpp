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

Command trainTokenizerCommand() {
    const core::BpeTrainOptions defaults;
    return {"train-tokenizer",
            "learn a byte-level BPE vocabulary from a corpus",
            {{"--out DIR CORPUS...",
              {option("--out", "DIR", "where vocab.json and merges.txt go"),
               option("--vocab", "N", "vocabulary size (256 bytes and <|endoftext|> included)",
                      shown(defaults.vocabSize)),
               option("--min-count", "N", "stop when no pair occurs this often",
                      shown(defaults.minPairCount)),
               extensionOption()},
              "CORPUS is a file or a folder (searched recursively). Binary and non-UTF-8 files\n"
              "are skipped and counted. Writes DIR/vocab.json and DIR/merges.txt (Hugging Face\n"
              "format)."}},
            runTrainTokenizer};
}

int runTrainTokenizer(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, trainTokenizerCommand().forms.front().options);
    const core::BpeTrainOptions defaults;
    const auto out = args.value("--out");
    if (!out) throw UsageError("--out DIR is required");
    if (args.positionals().empty()) throw UsageError("expected at least one CORPUS file or folder");
    const auto vocab = args.integerOr("--vocab", static_cast<long long>(defaults.vocabSize));
    const auto minCount =
        args.integerOr("--min-count", static_cast<long long>(defaults.minPairCount));
    if (vocab < 257) throw UsageError("--vocab must be at least 257 (256 bytes + <|endoftext|>)");
    if (minCount < 1) throw UsageError("--min-count must be at least 1");

    const auto corpus = core::selectCorpusFiles(args.positionals(), extensionsFrom(args));
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
