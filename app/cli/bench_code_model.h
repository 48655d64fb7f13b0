// `ponder bench-code --model`: a model writes n completions of every problem under each gating
// policy (SKIP, UPDATE_1, Ours, Random at Ours' realized rate), each policy's samples are
// scored in the sandbox, and pass@k, update rate and measured time are compared.
#pragma once

#include "app/cli/cli_args.h"

namespace ponder::app {

// The options beyond the scoring ones and the generation ones (generate_args.h).
Options benchCodeModelOptionSpecs();  // --out --samples --policies and generate's options
int runBenchCodeWithModel(const ParsedArgs& args);

}  // namespace ponder::app
