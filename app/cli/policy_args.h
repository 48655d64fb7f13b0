// Gating options shared by `ponder eval`, `export` and `sweep`: which policies, the target
// rate, α, signal, calibration mode, fixed threshold and seed.
#pragma once

#include <string>
#include <vector>

#include "app/cli/cli_args.h"
#include "core/gating/run_analysis.h"

namespace ponder::app {

// --policy NAME (repeatable: the first is "Ours", the rest are extras) --rate --alpha
// --signal --calibration paper|profile --calibration-file F --threshold --seed
std::vector<OptionSpec> policyOptionSpecs();

// `base` (the defaults, or a stored run's settings) with the flags that were given applied.
// Profile calibration takes τ0 for the target rate from --calibration-file, else from
// MODEL_DIR/calibration.json.
core::AnalysisSettings analysisSettingsFrom(const ParsedArgs& args, core::AnalysisSettings base,
                                            const std::string& modelDir);

// Before evaluating with MODEL_DIR: refuses a gate:DIR policy whose gate was trained on
// another TTT layer than MODEL_DIR/ttt.safetensors (unless --force-gate).
void checkGatesFit(const core::AnalysisSettings& settings, const std::string& modelDir);

}  // namespace ponder::app
