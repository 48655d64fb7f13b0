// Options shared by `ponder generate` and `ponder bench-code --model`: the model and device,
// the token budget, sampling, stop sequences and the gate that decides while generating.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "app/cli/cli_args.h"
#include "core/eval/evaluator.h"
#include "core/generate/generator.h"

namespace ponder::app {

// --model --max-tokens --temperature --top-p --seed --stop (repeatable) --no-stop-at-eot
// --chunk --decide-every chunk|minibatch --device --threads --force-checkpoint --dtype, and the
// gating options of policy_args.h (--policy --rate --alpha --signal --calibration ...).
Options generateOptionSpecs();

// The options as given. The policy's calibration defaults to `profile` when the model has a
// calibration.json (a stream rarely holds the 16 chunks the paper's calibration forces to
// UPDATE), else `paper`. --seed seeds both the sampler and the random policy.
core::GenerateOptions generateOptionsFrom(const ParsedArgs& args, const std::string& modelDir);

// The evaluator whose loaded model generates (device, threads, dtype, checkpoint check).
std::unique_ptr<core::Evaluator> loadGenerationModel(const ParsedArgs& args,
                                                     const std::string& modelDir);

}  // namespace ponder::app
