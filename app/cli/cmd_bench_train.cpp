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

int runBenchTrain(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, {{"--train", false},
                                    {"--model", true},
                                    {"--threads", true},
                                    {"--steps", true},
                                    {"--ext", true, true},
                                    {"--device", true},
                                    {"--precision", true}});
    const auto model = args.value("--model");
    if (!model) throw UsageError("--model DIR is required (its shapes and tokenizer are timed)");
    core::TrainBenchOptions options;
    options.modelDir = *model;
    for (const auto& corpus : args.positionals())
        options.corpus.emplace_back(corpus);
    if (options.corpus.empty()) options.corpus.emplace_back("/usr/lib/python3.11");
    for (auto ext : args.values("--ext"))
        options.extensions.push_back(ext[0] == '.' ? ext : "." + ext);
    if (options.extensions.empty()) options.extensions = {".py"};
    options.steps = args.integerOr("--steps", 6);
    if (options.steps < 1) throw UsageError("--steps must be positive");
    options.device = core::resolveDevice(args.valueOr("--device", "cpu"));
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
