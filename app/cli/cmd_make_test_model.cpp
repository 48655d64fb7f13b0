// `ponder make-test-model`: a seeded tiny GPT-2 directory for tests and the README demo.
#include <iostream>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "core/data/corpus_files.h"
#include "core/model/model_dir.h"

namespace ponder::app {

int runMakeTestModel(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, {{"--layers", true},
                                    {"--embd", true},
                                    {"--heads", true},
                                    {"--positions", true},
                                    {"--seed", true},
                                    {"--corpus", true, true},
                                    {"--vocab", true},
                                    {"--tokenizer-from", true},
                                    {"--threads", true},
                                    {"--ttt", false}});
    if (args.positionals().size() != 1) throw UsageError("expected exactly one output DIR");
    applyThreads(args);
    core::TestModelOptions options;
    options.layers = args.integerOr("--layers", options.layers);
    options.embd = args.integerOr("--embd", options.embd);
    options.heads = args.integerOr("--heads", options.heads);
    options.positions = args.integerOr("--positions", options.positions);
    const auto seed = args.integerOr("--seed", 0);
    const auto vocab = args.integerOr("--vocab", static_cast<long long>(options.vocab));
    if (seed < 0) throw UsageError("--seed must be non-negative");
    if (vocab < 257) throw UsageError("--vocab must be at least 257 (256 bytes + <|endoftext|>)");
    options.seed = static_cast<std::uint64_t>(seed);
    options.vocab = static_cast<std::size_t>(vocab);
    if (const auto from = args.value("--tokenizer-from")) options.tokenizerFrom = *from;
    options.withTtt = args.flag("--ttt");
    const auto corpus = core::selectCorpusFiles(args.values("--corpus"), {});
    options.corpus = corpus.files;
    const auto summary = core::makeTestModel(args.positionals().front(), options);
    std::cout << "wrote " << args.positionals().front() << ": " << options.layers << " layers, "
              << options.embd << " wide, " << summary.parameterCount << " parameters, vocab "
              << summary.vocabSize;
    if (!options.corpus.empty())
        std::cout << " (tokenizer trained on " << options.corpus.size() << " files"
                  << (corpus.skipped ? ", " + std::to_string(corpus.skipped) + " non-text skipped"
                                     : "")
                  << ")";
    if (options.withTtt)
        std::cout << "; random TTT layer with " << summary.tttParameterCount << " parameters";
    std::cout << "\n";
    return 0;
}

}  // namespace ponder::app
