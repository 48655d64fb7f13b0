// `ponder bench`: throughput figures measured in one run (GEMM, tokenizer, backbone forward).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iostream>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "core/data/corpus_files.h"
#include "core/runtime/benchmarks.h"
#include "core/runtime/runtime.h"

namespace ponder::app {

namespace {

// The defaults, said once for the parser and --help.
constexpr double kDefaultSeconds = 3.0;
constexpr std::int64_t kDefaultLength = 1024, kDefaultUnitLength = 512, kDefaultUnitBatch = 1;
const char* const kDefaultShape = "small";
const char* const kDefaultPythonTree = "/usr/lib/python3.11";

CommandForm benchForm() {
    return {
        "",
        {threadsOption(), option("--tokenizer", "DIR", "also time this tokenizer on Python files"),
         repeated("--corpus", "PATH", "the tokenizer's Python files", kDefaultPythonTree),
         option("--seconds", "S", "time each measurement for at least about S seconds",
                shown(kDefaultSeconds)),
         option("--shape", "small|medium|large|xl|gemma3-1b|gemma3-4b|gemma3-12b",
                "the backbone's shape (random weights)", kDefaultShape),
         option("--length", "N", "tokens of the forward benchmark", shown(kDefaultLength)),
         deviceOption("cpu"),
         option("--unit-length", "N", "tokens per evaluation unit", shown(kDefaultUnitLength)),
         option("--unit-batch", "N", "rows per evaluation unit", shown(kDefaultUnitBatch)),
         option("--dtype", "f32,bf16", "also time the unit with the backbone in each dtype")},
        "Prints rates measured in this run: GEMM GFLOP/s, tokenizer tokens/s (cold and warm\n"
        "BPE cache, when a tokenizer is given) and the backbone's forward tokens/s with the\n"
        "fraction of the GEMM rate it reaches; then SKIP+UPDATE evaluation units with one\n"
        "shared backbone pass (ours) against a backbone pass per path (the published code),\n"
        "and the time to replay recon-ema over 100,000 units for a new target rate.\n"
        "--dtype f32,bf16: the shared unit with the backbone in each dtype (the first is the\n"
        "reference): tokens/s, their ratio, and the largest relative difference of the\n"
        "per-unit losses and reconstruction signals over 8 random units."};
}

// One line per dtype, then each dtype against the first (the reference).
void printDtypeBench(const core::DtypeBenchmark& bench) {
    for (std::size_t i = 0; i < bench.dtypes.size(); ++i) {
        const auto name = "unit, " + bench.dtypes[i];
        std::cout << name << std::string(name.size() < 16 ? 16 - name.size() : 1, ' ')
                  << fixed(bench.unitTokensPerSecond[i], 0)
                  << " tokens/s  (shared unit, backbone in " << bench.dtypes[i]
                  << "; TTT layer, losses and signals in f32)\n";
    }
    for (std::size_t i = 1; i < bench.dtypes.size(); ++i) {
        char diffs[96];
        std::snprintf(diffs, sizeof diffs, "losses %.1e, signals %.1e", bench.maxLossRelDiff[i],
                      bench.maxSignalRelDiff[i]);
        std::cout << "                " << bench.dtypes[i] << " / " << bench.dtypes[0] << " = "
                  << fixed(bench.unitTokensPerSecond[i] / bench.unitTokensPerSecond[0], 2)
                  << "x; largest relative difference over " << bench.comparedUnits
                  << " random units: " << diffs << "\n";
    }
}

// With --tokenizer: the tokenizer's cold- and warm-cache speed on Python files.
void printTokenizerBench(const ParsedArgs& args) {
    const auto tokenizer = args.value("--tokenizer");
    if (!tokenizer) return;
    auto roots = args.values("--corpus");
    if (roots.empty()) roots.push_back(kDefaultPythonTree);
    const auto corpus = core::selectCorpusFiles(roots, {".py"}, 2u << 20);
    if (corpus.files.empty()) throw UsageError("no .py files found for the tokenizer benchmark");
    const auto result = core::benchmarkTokenizer(*tokenizer, corpus.files);
    std::cout << "tokenizer       " << fixed(result.coldTokensPerSecond / 1e6, 2)
              << " M tokens/s cold cache, " << fixed(result.warmTokensPerSecond / 1e6, 2)
              << " M tokens/s warm  (" << result.tokens << " tokens from " << result.bytes
              << " bytes of Python, 1 thread)\n";
}

void printForwardBench(const core::BenchShape& benchShape, const std::string& shape,
                       std::int64_t length, double seconds, const std::string& device,
                       double gemm) {
    const auto forward = core::benchmarkForward(benchShape, 1, length, seconds, device);
    const auto label = benchShape.gemma3 ? shape : "gpt2-" + shape;
    std::cout << label << " fwd" << std::string(label.size() < 12 ? 12 - label.size() : 1, ' ')
              << fixed(forward.tokensPerSecond, 0) << " tokens/s  ("
              << benchShape.parameterCount() / 1000000 << "M params, random weights, "
              << "1x" << length << " tokens, " << forward.runs << " runs, hidden+logits)\n";
    std::cout << "                " << fixed(forward.gflops)
              << " GFLOP/s achieved = " << fixed(100.0 * forward.gflops / gemm)
              << "% of the GEMM rate above\n";
}

void printUnitBench(const core::BenchShape& benchShape, std::int64_t unitBatch,
                    std::int64_t unitLength, double seconds, const std::string& device,
                    double gemm) {
    const auto unit = core::benchmarkEvalUnit(benchShape, unitBatch, unitLength, seconds, device);
    const std::string shapeText = std::to_string(unitBatch) + "x" + std::to_string(unitLength);
    std::cout << "backbone        " << fixed(unit.backboneTokensPerSecond, 0)
              << " tokens/s  (hidden states only, " << shapeText << ")\n";
    std::cout << "unit, shared    " << fixed(unit.sharedTokensPerSecond, 0)
              << " tokens/s  (SKIP + UPDATE from one backbone pass: ours)\n";
    std::cout << "unit, 2 passes  " << fixed(unit.twoForwardTokensPerSecond, 0)
              << " tokens/s  (a backbone pass per path: the published way)\n";
    std::cout << "                shared / 2 passes = "
              << fixed(unit.sharedTokensPerSecond / unit.twoForwardTokensPerSecond, 2)
              << "x (FLOP-count bound " << fixed(unit.flopBoundSpeedup, 2) << "x); shared unit "
              << fixed(unit.sharedGflops)
              << " GFLOP/s = " << fixed(100.0 * unit.sharedGflops / gemm) << "% of the GEMM rate\n";
    std::cout << "unit, split     " << fixed(unit.splitTokensPerSecond, 0)
              << " tokens/s  (shared + the static path, --static-path); costs "
              << fixed(100.0 * (unit.sharedTokensPerSecond / unit.splitTokensPerSecond - 1.0), 1)
              << "% more time per unit\n";
}

}  // namespace

Command benchCommand() {
    return {
        "bench",
        "throughput benchmarks (GEMM, tokenizer, backbone forward, training)",
        {benchForm(), benchGatedForm(), benchGenerateForm(), benchTrainForm(), benchNprocForm()},
        runBench};
}

int runBench(const Arguments& rawArgs) {
    for (const auto& arg : rawArgs) {
        if (arg == "--gated") return runBenchFastPath(rawArgs);
        if (arg == "--train") return runBenchTrain(rawArgs);
        if (arg == "--generate") return runBenchGenerate(rawArgs);
        if (arg == "--nproc" || arg.rfind("--nproc=", 0) == 0) return runBenchDistributed(rawArgs);
    }
    const ParsedArgs args(rawArgs, benchForm().options);
    const auto dtypes = commaList(args.valueOr("--dtype", ""));
    for (const auto& dtype : dtypes)
        if (dtype != "f32" && dtype != "bf16")
            throw UsageError("--dtype takes f32 and bf16 (comma-separated), not '" + dtype + "'");
    const int threads = applyThreads(args);
    const double seconds = args.numberOr("--seconds", kDefaultSeconds);
    const auto length = args.integerOr("--length", kDefaultLength);
    const auto device = core::resolveDevice(args.valueOr("--device", "cpu"));
    const auto shape = args.valueOr("--shape", kDefaultShape);
    const auto benchShape = core::benchShape(shape);
    // Gemma's backbone puts a BOS in front of the tokens.
    const auto maxTokens = benchShape.positions() - (benchShape.gemma3 ? 1 : 0);
    if (length < 1 || length > std::min<std::int64_t>(maxTokens, 8192))
        throw UsageError("--length must be within the shape's positions (at most 8192)");

    std::cout << "threads " << threads << ", device " << device << "\n";
    const double gemm = core::measureGemmGflops(1024, seconds / 3);
    const auto blas = core::detectBlas();
    std::cout << "gemm            " << fixed(gemm) << " GFLOP/s  (float32 1024^3, " << blas.name
              << ")\n";
    if (blas.isReference) std::cerr << core::referenceBlasWarning() << "\n";

    printTokenizerBench(args);
    printForwardBench(benchShape, shape, length, seconds, device, gemm);
    const auto unitLength = args.integerOr("--unit-length", kDefaultUnitLength);
    const auto unitBatch = args.integerOr("--unit-batch", kDefaultUnitBatch);
    if (unitLength < 16 || unitLength % 16 != 0 || unitLength > maxTokens)
        throw UsageError("--unit-length must be a multiple of 16 within the model's positions");
    if (unitBatch < 1) throw UsageError("--unit-batch must be positive");
    printUnitBench(benchShape, unitBatch, unitLength, seconds, device, gemm);
    if (!dtypes.empty())
        printDtypeBench(
            core::benchmarkUnitDtypes(benchShape, dtypes, unitBatch, unitLength, seconds, device));
    std::cout << "policy replay   " << fixed(core::benchmarkPolicyReplayMs(100000), 2)
              << " ms  (recon-ema re-decides 100,000 units for a new target rate; median)\n";
    return 0;
}

}  // namespace ponder::app
