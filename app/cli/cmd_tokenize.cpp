// `ponder tokenize`: a file's token ids (or count) with a model directory's tokenizer.
#include <iostream>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "core/text/bpe_tokenizer.h"
#include "core/text/text_input.h"

namespace ponder::app {

Command tokenizeCommand() {
    return {"tokenize",
            "token ids (or their count) of a file with a model's tokenizer",
            {{"--model DIR FILE",
              {option("--model", "DIR", "a model folder, or one holding only tokenizer files"),
               flag("--count", "print only the number of tokens"),
               flag("--special", "map a literal <|endoftext|> to its id")},
              "Prints the ids on one line separated by spaces."}},
            runTokenize};
}

int runTokenize(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, tokenizeCommand().forms.front().options);
    const auto dir = args.value("--model");
    if (!dir) throw UsageError("--model DIR is required");
    if (args.positionals().size() != 1) throw UsageError("expected exactly one FILE");
    const auto tokenizer = core::loadTokenizer(*dir);
    const std::string text = core::readCodeFile(args.positionals().front());
    const auto* bpe = dynamic_cast<const core::BpeTokenizer*>(tokenizer.get());
    if (args.flag("--special") && !bpe)
        throw UsageError("--special is for byte-level BPE tokenizers (<|endoftext|>)");
    const auto ids =
        args.flag("--special") ? bpe->encodeWithSpecialTokens(text) : tokenizer->encode(text);
    if (args.flag("--count")) {
        std::cout << ids.size() << "\n";
        return 0;
    }
    std::string line;
    line.reserve(ids.size() * 6);
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i) line += ' ';
        line += std::to_string(ids[i]);
    }
    std::cout << line << "\n";
    return 0;
}

}  // namespace ponder::app
