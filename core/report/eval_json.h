// The JSON contract of `ponder eval --json` (design.md §9): {"run", "units", "policies"}.
#pragma once

#include <string>
#include <vector>

#include "core/eval/evaluator.h"
#include "core/eval/run_description.h"
#include "core/gating/run_analysis.h"

namespace ponder::core {

// Compact JSON text; non-finite numbers become null. `policies` is keyed by policy name
// (skip, update, random, oracle, then Ours' policy and the extras; design.md §9).
std::string evalJson(const RunDescription& run, const std::vector<UnitRecord>& units,
                     const RunAnalysis& analysis);

}  // namespace ponder::core
