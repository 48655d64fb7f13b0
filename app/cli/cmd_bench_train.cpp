// `ponder bench --train`: train-base and train-ttt tokens/s on a model's shapes and the share of
// the GEMM rate they reach, measured in one run (training speed is what limits the default
// model on two cores).
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "core/runtime/runtime.h"
#include "core/runtime/train_bench.h"

namespace ponder::app {

namespace {
const char* const kDefaultCorpus = "/usr/lib/python3.11";
const char* const kDefaultExtension = ".py";
}  // namespace

CommandForm benchTrainForm() {
    const core::TrainBenchOptions defaults;
    return {"--train --model DIR [CORPUS...]",
            {flag("--train", "time train-base and train-ttt"),
             option("--model", "DIR", "whose shapes, tokenizer and backbone are timed"),
             option("--steps", "N", "timed steps after a warm-up", shown(defaults.steps)),
             repeated("--ext", "EXT", "the corpus files used", kDefaultExtension),
             option("--precision", "fp32|bf16|both", "float32, bf16 autocast or both", "both"),
             deviceOption(defaults.device), threadsOption()},
            "train-base (16 x 256 tokens from scratch, DIR's shapes and tokenizer) and train-ttt\n"
            "(16 x 512, DIR's backbone) timed for --steps steps after a warm-up, in a temporary\n"
            "folder: tokens/s and the share of the GEMM rate from a FLOP count, in float32 and\n"
            "under bf16 autocast (--bf16 of train-base/train-ttt). CORPUS defaults to\n" +
                std::string(kDefaultCorpus) + "."};
}

int runBenchTrain(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, benchTrainForm().options);
    const auto model = args.value("--model");
    if (!model) throw UsageError("--model DIR is required (its shapes and tokenizer are timed)");
    core::TrainBenchOptions options;
    options.modelDir = *model;
    for (const auto& corpus : args.positionals())
        options.corpus.emplace_back(corpus);
    if (options.corpus.empty()) options.corpus.emplace_back(kDefaultCorpus);
    options.extensions = extensionsFrom(args);
    if (options.extensions.empty()) options.extensions = {kDefaultExtension};
    options.steps = args.integerOr("--steps", options.steps);
    if (options.steps < 1) throw UsageError("--steps must be positive");
    options.device = core::resolveDevice(args.valueOr("--device", options.device));
    const int threads = applyThreads(args);

    const auto precision = args.valueOr("--precision", "both");
    if (precision != "fp32" && precision != "bf16" && precision != "both")
        throw UsageError("--precision must be fp32, bf16 or both");

    std::cout << "threads " << threads << ", device " << options.device << "\n";
    const double gemm = core::measureGemmGflops(1024, 1.0);
    std::cout << "gemm             " << fixed(gemm, 1) << " GFLOP/s  (float32 1024^3)\n";
    std::vector<core::TrainBenchmark> all;
    for (const bool bf16 : {false, true}) {
        if ((bf16 && precision == "fp32") || (!bf16 && precision == "bf16")) continue;
        options.bf16 = bf16;
        for (const auto& result : core::benchmarkTraining(options)) {
            std::string name = result.kind;
            name.resize(std::max<std::size_t>(name.size() + 1, 17), ' ');
            std::cout << name << fixed(result.tokensPerSecond, 0) << " tokens/s, "
                      << fixed(result.gflops, 1)
                      << " GFLOP/s = " << fixed(100.0 * result.gflops / gemm, 1)
                      << "% of the float32 GEMM rate  (" << result.steps << " steps of "
                      << result.shape << ")\n";
            all.push_back(result);
        }
    }
    if (all.size() == 4)
        std::cout << "bf16 / fp32       train-base "
                  << fixed(all[2].tokensPerSecond / all[0].tokensPerSecond, 2) << "x, train-ttt "
                  << fixed(all[3].tokensPerSecond / all[1].tokensPerSecond, 2) << "x\n";
    return 0;
}

}  // namespace ponder::app
