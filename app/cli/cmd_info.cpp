// `ponder info`: runtime facts (LibTorch, devices, threads, BLAS, GEMM speed) and a model summary.
#include <cstdio>
#include <iostream>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "core/model/backbone.h"
#include "core/model/model_dir.h"
#include "core/runtime/runtime.h"

namespace ponder::app {

Command infoCommand() {
    return {"info",
            "LibTorch, threads, BLAS and GEMM speed; with --model, the model's summary",
            {{"",
              {option("--model", "DIR", "also check this model folder and print its configuration"),
               threadsOption(), flag("--no-gemm", "skip the GEMM measurement")},
              "Prints LibTorch's version, devices, threads, the BLAS in use and a measured GEMM\n"
              "GFLOP/s (warns when the slow reference BLAS is active)."}},
            runInfo};
}

namespace {

// A model directory's summary: from config.json alone first (what loading will need, before
// any weight is read), then what inspecting the folder found.
void printModelInfo(const std::string& dir) {
    const auto backbone = core::backboneInfoFromConfig(dir);
    const auto gib = [](std::uint64_t bytes) {
        char text[32];
        std::snprintf(text, sizeof text, "%.2f GiB", double(bytes) / double(1ull << 30));
        return std::string(text);
    };
    std::cout << "\nmodel:      " << dir << "\n";
    std::cout << "backbone:   " << backbone.describe() << "\n";
    std::cout << "memory:     " << gib(core::backboneWeightBytes(backbone, false))
              << " of weights in float32";
    std::cout << ", " << gib(core::backboneWeightBytes(backbone, true)) << " with --dtype bf16";
    std::cout << " (plus activations)\n" << std::flush;
    const auto model = core::inspectModelDir(dir);
    if (backbone.arch == core::kArchGpt2) {
        const auto& c = model.config;
        std::cout << "config:     n_layer " << c.nLayer << ", n_embd " << c.nEmbd << ", n_head "
                  << c.nHead << ", n_positions " << c.nPositions << ", vocab_size " << c.vocabSize
                  << ", activation " << c.activation << "\n";
    } else {
        std::cout << "config:     layers " << backbone.layers << ", hidden " << backbone.hidden
                  << ", heads " << backbone.heads << ", head_dim " << backbone.headDim
                  << ", positions " << backbone.maxPositions << ", vocab_size "
                  << backbone.vocabSize << "\n";
    }
    std::cout << "parameters: " << model.parameterCount << " ("
              << (model.tiedLmHead ? "tied" : "separate") << " lm_head)\n";
    std::cout << "weights:    " << model.storedDtypes << " stored, " << model.weightsBytes
              << " bytes";
    if (model.weightFiles > 1) std::cout << " in " << model.weightFiles << " shards";
    if (backbone.arch == core::kArchGpt2)
        std::cout << ", loaded as F32 in " << static_cast<int>(model.loadSeconds * 1000) << " ms\n";
    else
        std::cout << ", names and shapes checked in " << static_cast<int>(model.loadSeconds * 1000)
                  << " ms\n";
    if (model.tokenizerVocab) {
        std::cout << "tokenizer:  " << *model.tokenizerVocab << " tokens";
        if (model.tokenizerKind == "SentencePiece")
            std::cout << ", SentencePiece\n";
        else
            std::cout << ", " << model.tokenizerMerges << " merges\n";
    } else {
        std::cout << "tokenizer:  none (no tokenizer.model, vocab.json+merges.txt or "
                     "encoder.json+vocab.bpe)\n";
    }
    std::cout << "ttt:        "
              << (model.hasTttCheckpoint ? "ttt.safetensors + ttt.json present"
                                         : "absent (only SKIP can be evaluated)")
              << "\n";
    std::cout << "calibration:" << (model.hasCalibration ? " present" : " absent") << "\n";
}

}  // namespace

int runInfo(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, infoCommand().forms.front().options);
    if (!args.positionals().empty())
        throw UsageError("unexpected argument '" + args.positionals().front() + "'");
    applyThreads(args);

    const auto runtime = core::runtimeInfo();
    std::cout << "libtorch:   " << runtime.torchVersion << "\n";
    std::cout << "devices:   ";
    for (const auto& device : runtime.devices)
        std::cout << " " << device;
    if (runtime.cudaBuild.empty())
        std::cout << "  (no CUDA in this build)";
    else
        std::cout << "  (built with CUDA " << runtime.cudaBuild
                  << (runtime.cudaAvailable ? ")" : "; no CUDA device found)");
    std::cout << "\n";
    std::cout << "ranks:      gloo for cpu"
              << (runtime.nccl ? ", nccl for cuda" : " (no NCCL in this build)") << "\n";
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

    if (const auto dir = args.value("--model")) printModelInfo(*dir);
    return 0;
}

}  // namespace ponder::app
