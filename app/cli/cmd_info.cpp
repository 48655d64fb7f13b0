// `ponder info`: runtime facts (LibTorch, devices, threads, BLAS, GEMM speed) and a model summary.
#include <cstdio>
#include <iostream>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "core/model/model_dir.h"
#include "core/runtime/runtime.h"

namespace ponder::app {

int runInfo(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, {{"--model", true}, {"--threads", true}, {"--no-gemm", false}});
    if (!args.positionals().empty())
        throw UsageError("unexpected argument '" + args.positionals().front() + "'");
    applyThreads(args);

    const auto runtime = core::runtimeInfo();
    std::cout << "libtorch:   " << runtime.torchVersion << "\n";
    std::cout << "devices:   ";
    for (const auto& device : runtime.devices)
        std::cout << " " << device;
    std::cout << (runtime.cudaAvailable ? "" : "  (no CUDA in this build)") << "\n";
    std::cout << "threads:    " << runtime.threads << "\n";
    if (!args.flag("--no-gemm")) {
        const double gflops = core::measureGemmGflops();
        char line[64];
        std::snprintf(line, sizeof line, "%.1f", gflops);
        std::cout << "gemm:       " << line << " GFLOP/s (float32 1024x1024, measured now)\n";
    }
    const auto blas = core::detectBlas();  // after a GEMM, so the BLAS library is mapped
    std::cout << "blas:       " << blas.name << " (" << blas.library << ")\n";
    if (blas.isReference) std::cerr << core::referenceBlasWarning() << "\n";

    if (const auto dir = args.value("--model")) {
        const auto model = core::inspectModelDir(*dir);
        const auto& c = model.config;
        std::cout << "\nmodel:      " << model.dir.string() << "\n";
        std::cout << "config:     n_layer " << c.nLayer << ", n_embd " << c.nEmbd << ", n_head "
                  << c.nHead << ", n_positions " << c.nPositions << ", vocab_size " << c.vocabSize
                  << ", activation " << c.activation << "\n";
        std::cout << "parameters: " << model.parameterCount << " ("
                  << (model.tiedLmHead ? "tied" : "separate") << " lm_head)\n";
        std::cout << "weights:    " << model.storedDtypes << " stored, " << model.weightsBytes
                  << " bytes, loaded as F32 in " << static_cast<int>(model.loadSeconds * 1000)
                  << " ms\n";
        if (model.tokenizerVocab)
            std::cout << "tokenizer:  " << *model.tokenizerVocab << " tokens, "
                      << model.tokenizerMerges << " merges\n";
        else
            std::cout << "tokenizer:  none (no vocab.json+merges.txt or encoder.json+vocab.bpe)\n";
        std::cout << "ttt:        "
                  << (model.hasTttCheckpoint ? "ttt.safetensors + ttt.json present"
                                             : "absent (only SKIP can be evaluated)")
                  << "\n";
        std::cout << "calibration:" << (model.hasCalibration ? " present" : " absent") << "\n";
    }
    return 0;
}

}  // namespace ponder::app
