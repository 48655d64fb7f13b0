// The facts of one evaluation run (model, plan, settings, timing) as the run store and the JSON
// contract record them (design.md §8, §9).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/eval/eval_plan.h"

namespace ponder::core {

class Evaluator;

struct RunDescription {
    std::string modelDir;
    std::string mode;  // "file" | "paper"
    std::int64_t chunk = 512;
    std::string device;
    std::string dtype = "float32";  // the backbone's: "float32" | "bfloat16" (--dtype bf16)
    int threads = 1;
    std::vector<std::string> inputs;
    std::size_t files = 0;
    std::int64_t tokens = 0, droppedTokens = 0;
    std::vector<std::string> skippedFiles;
    double seconds = 0;
    double tokensPerSecond = 0;
    double rate = 0.5;  // target update rate of the rate-driven policies
    std::string backboneSha256;
    std::string tttSha256;  // of ttt.safetensors; empty for runs stored before schema 5
    std::string tttConfigJson;
    std::string startedAt;  // ISO 8601 UTC
    bool cancelled = false;
    bool shuffle = false;                // the shuffle ablation (algorithm.md §4)
    std::int64_t causalK = 0;            // -1: the diagonal ablation
    std::vector<std::string> filePaths;  // the files actually evaluated, by file index
    // `ponder eval --fast`: the policy that chose, on the gated fast path, which units ran the
    // UPDATE path (the others' UPDATE values are not computed: NaN, NULL, JSON null). Empty
    // for a run that computed both paths everywhere.
    std::string fastGate;
};

// What the evaluator and the plan say about a run about to start: model facts (device, backbone
// hash, ttt.json, causal_k), the plan's mode, chunk, files, tokens and skipped files, and the
// start time (UTC). The caller adds what only it knows (inputs as typed, threads, rate, shuffle).
RunDescription describeRun(const Evaluator& evaluator, const EvalPlan& plan,
                           const std::string& modelDir);

}  // namespace ponder::core
