// `ponder make-test-model`: a seeded tiny GPT-2 or Gemma 3 directory for tests and demos.
#include <iostream>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "core/data/corpus_files.h"
#include "core/model/model_dir.h"

namespace ponder::app {

Command makeTestModelCommand() {
    const core::TestModelOptions defaults;
    return {
        "make-test-model",
        "write a tiny random GPT-2 or Gemma 3 model directory (seeded)",
        {{"DIR",
          {option("--arch", "gpt2|gemma3", "the architecture", defaults.arch),
           option("--layers", "N", "transformer layers", shown(defaults.layers)),
           option("--embd", "N", "width", shown(defaults.embd)),
           option("--heads", "N", "attention heads", shown(defaults.heads)),
           option("--positions", "N", "positions", shown(defaults.positions)),
           option("--seed", "N", "seed of the random weights", shown(defaults.seed)),
           repeated("--corpus", "PATH", "train the tokenizer on these files or folders"),
           option("--vocab", "N", "vocabulary of a trained tokenizer", shown(defaults.vocab)),
           option("--tokenizer-from", "DIR", "copy this model's tokenizer instead"),
           flag("--ttt", "add a random TTT layer whose output is not zero"),
           option("--kv-heads", "N", "gemma3: key/value heads", shown(defaults.kvHeads)),
           option("--head-dim", "N", "gemma3: head width", "EMBD/HEADS"),
           option("--window", "N", "gemma3: sliding-window length", shown(defaults.window)),
           option("--shards", "N", "gemma3: weight files", shown(defaults.shards)),
           threadsOption()},
          "Tokenizer: copied with --tokenizer-from, else trained on --corpus files to --vocab\n"
          "tokens, else bytes only (257 tokens). --ttt makes UPDATE differ from SKIP. gemma3:\n"
          "the Hugging Face layout (config.json, model.safetensors or --shards files with their\n"
          "index, a SentencePiece tokenizer.model trained on --corpus); five sliding-window\n"
          "layers per global one (the last layer global when there are fewer than six)."}},
        runMakeTestModel};
}

int runMakeTestModel(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, makeTestModelCommand().forms.front().options);
    if (args.positionals().size() != 1) throw UsageError("expected exactly one output DIR");
    applyThreads(args);
    core::TestModelOptions options;
    options.layers = args.integerOr("--layers", options.layers);
    options.embd = args.integerOr("--embd", options.embd);
    options.heads = args.integerOr("--heads", options.heads);
    options.positions = args.integerOr("--positions", options.positions);
    options.arch = args.valueOr("--arch", options.arch);
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
    const auto seed = args.integerOr("--seed", static_cast<long long>(options.seed));
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
