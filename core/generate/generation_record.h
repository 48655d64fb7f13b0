// A generation as the run store, the exports and the studio see it: one stream stored whole
// (the prompt and the generated text, with its tokens), its decision segments as unit records,
// and the decisions the gate took while generating. Torch-free.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/eval/eval_plan.h"
#include "core/generate/generator.h"
#include "core/store/run_store.h"

namespace ponder::core {

class Tokenizer;

struct GenerationRun {
    EvalPlan plan;                  // one file, PlanFile::storedWhole: the stream named `label`
    std::vector<UnitRecord> units;  // the segments, placed in that file (lines, tokens)
    StoredPolicy taken;             // "generated": the decisions that chose the tokens, per segment
};

// `label` names the stream where a file path would stand (e.g. "generation: prompt.py");
// `miniBatch` is the TTT layer's K (the segments' length with DecideEvery::MiniBatch).
GenerationRun generationRun(const Generation& generation, const GenerateOptions& options,
                            const Tokenizer& tokenizer, const std::string& label,
                            std::int64_t miniBatch);

// The generation's facts for the run's settings and the --json output: prompt and generated
// token counts, the stop reason, sampling, the decision interval, chunk, the policy's update
// rate and the loss of the chosen tokens, timings.
nlohmann::json generationSummary(const Generation& generation, const GenerateOptions& options);

}  // namespace ponder::core
