// `ponder bench --generate`: tokens/s of greedy decoding with the KV cache, with the
// recomputing decode, and of gated generation, with their ratios, measured in one run.
#include <cstdint>
#include <cstdio>
#include <iostream>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "core/runtime/generate_bench.h"
#include "core/text/text_input.h"
#include "core/text/tokenizer.h"
#include "core/util/errors.h"

namespace ponder::app {

namespace {
const char* const kDefaultPrompt = "/usr/lib/python3.11/json/decoder.py";
constexpr std::int64_t kDefaultTokens = 200, kDefaultRepeats = 3;
}  // namespace

CommandForm benchGenerateForm() {
    return {
        "--generate --model DIR",
        {flag("--generate", "time greedy decoding"), option("--model", "DIR", "the model folder"),
         option("--prompt", "FILE", "the prompt (its last tokens that fit)", kDefaultPrompt),
         option("--tokens", "N", "tokens generated", shown(kDefaultTokens)),
         option("--repeats", "N", "runs of each way; the median is printed",
                shown(kDefaultRepeats)),
         deviceOption("cpu"), threadsOption()},
        "Greedy decoding timed three ways, interleaved: the SKIP path with the backbone's KV\n"
        "cache, the same with the decode that recomputes the whole stream (every backbone's\n"
        "fallback), and `ponder generate`'s gated generation (both paths and the TTT layer\n"
        "at every position). Checks that the first two write the same tokens."};
}

int runBenchGenerate(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, benchGenerateForm().options);
    const auto modelDir = args.value("--model");
    if (!modelDir) throw UsageError("--model DIR is required");
    const auto tokens = args.integerOr("--tokens", kDefaultTokens);
    if (tokens < 1) throw UsageError("--tokens must be positive");
    const auto repeats = args.integerOr("--repeats", kDefaultRepeats);
    if (repeats < 1 || repeats > 100) throw UsageError("--repeats must be between 1 and 100");
    const int threads = applyThreads(args);
    const auto promptFile = args.valueOr("--prompt", kDefaultPrompt);
    const auto text = core::readCodeFile(promptFile);

    core::EvalOptions options;
    options.device = args.valueOr("--device", options.device);
    core::Evaluator evaluator(*modelDir, options);
    auto prompt = evaluator.tokenizer().encode(text);
    // The prompt's last tokens, leaving room for the generated ones within the positions.
    const auto room = evaluator.backboneInfo().maxUnitTokens() - tokens;
    if (room < 1)
        throw core::InputError("--tokens " + std::to_string(tokens) +
                                   " leaves no room for a "
                                   "prompt in the model's " +
                                   std::to_string(evaluator.backboneInfo().maxUnitTokens()) +
                                   " positions",
                               "use fewer --tokens");
    if (std::int64_t(prompt.size()) > room) prompt.erase(prompt.begin(), prompt.end() - room);

    const auto result = core::benchmarkGeneration(evaluator, prompt, tokens, int(repeats));
    std::cout << "bench --generate: " << *modelDir << ", prompt " << result.promptTokens
              << " tokens of " << promptFile << ", " << result.tokens << " generated, median of "
              << result.repeats << ", " << threads << " threads\n"
              << "decode                    seconds   tokens/s   time vs KV cache\n";
    const double base = result.timings.front().seconds;
    for (const auto& timing : result.timings)
        std::printf("%-24s %8.3f %10.1f   %8.2f\n", timing.name.c_str(), timing.seconds,
                    timing.tokensPerSecond, base > 0 ? timing.seconds / base : 0.0);
    std::cout << "greedy tokens of the KV cache and the recompute: "
              << (result.sameTokens ? "the same" : "DIFFERENT") << "\n";
    return result.sameTokens ? 0 : 1;
}

}  // namespace ponder::app
