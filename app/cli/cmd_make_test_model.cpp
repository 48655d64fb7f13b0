// `ponder make-test-model`: a seeded tiny GPT-2 or Gemma 3 directory for tests and demos.
#include <iostream>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "core/data/corpus_files.h"
#include "core/model/model_dir.h"

namespace ponder::app {

int runMakeTestModel(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, {{"--arch", true},
                                    {"--kv-heads", true},
                                    {"--head-dim", true},
                                    {"--window", true},
                                    {"--shards", true},
                                    {"--layers", true},
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
    options.arch = args.value("--arch").value_or("gpt2");
    if (options.arch != "gpt2" && options.arch != "gemma3")
        throw UsageError("--arch must be gpt2 or gemma3");
    const bool gemma = options.arch == "gemma3";
    for (const char* flag : {"--kv-heads", "--head-dim", "--window", "--shards"})
        if (!gemma && args.value(flag))
            throw UsageError(std::string(flag) + " is for --arch gemma3");
    options.kvHeads = args.integerOr("--kv-heads", options.kvHeads);
    options.headDim = args.integerOr("--head-dim", options.headDim);
    options.window = args.integerOr("--window", options.window);
    options.shards = int(args.integerOr("--shards", options.shards));
    if (options.shards < 1 || options.shards > 99) throw UsageError("--shards must be 1 to 99");
    const auto seed = args.integerOr("--seed", 0);
    const auto vocab = args.integerOr("--vocab", static_cast<long long>(options.vocab));
    if (seed < 0) throw UsageError("--seed must be non-negative");
    if (vocab < 257) throw UsageError("--vocab must be at least 257 (256 bytes + <|endoftext|>)");
    if (vocab > 65536) throw UsageError("--vocab must be at most 65536 for a test model");
    options.seed = static_cast<std::uint64_t>(seed);
    options.vocab = static_cast<std::size_t>(vocab);
    if (const auto from = args.value("--tokenizer-from")) options.tokenizerFrom = *from;
    options.withTtt = args.flag("--ttt");
    const auto corpus = core::selectCorpusFiles(args.values("--corpus"), {});
    options.corpus = corpus.files;
    const auto summary = core::makeTestModel(args.positionals().front(), options);
    std::cout << "wrote " << args.positionals().front() << ": " << (gemma ? "Gemma 3, " : "")
              << options.layers << " layers, " << options.embd << " wide, "
              << summary.parameterCount << " parameters, vocab " << summary.vocabSize;
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
