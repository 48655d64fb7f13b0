// Gating options shared by `ponder eval`, `export` and `sweep`: which policies, the target
// rate, α, signal, calibration mode, fixed threshold and seed.
#pragma once

#include <string>
#include <vector>

#include "app/cli/cli_args.h"
#include "core/gating/run_analysis.h"
#include "core/gating/settings_resolve.h"

namespace ponder::app {

// --policy NAME (repeatable: the first is "Ours", the rest are extras) --rate --alpha
// --signal --calibration paper|profile --calibration-file F --threshold --seed
Options policyOptionSpecs();

// The flags that were given, as core's overrides (unset: not given).
core::SettingsOverrides settingsOverridesFrom(const ParsedArgs& args);

// A new run's gating (`ponder eval`, `sweep`): the flags as overrides, no --calibration meaning
// "auto", checked before any model work (usage errors, a missing calibration.json or gate).
core::SettingsOverrides newRunGating(const ParsedArgs& args, const std::string& modelDir);

// `base` (the defaults, or a stored run's settings) with the flags that were given applied and
// resolved by core (core::resolveSettings): profile calibration takes τ0 for the target rate
// from --calibration-file, else the run's stored calibration, else MODEL_DIR/calibration.json.
// `newRun`: no --calibration means "auto" (profile when the model has a calibration.json).
core::AnalysisSettings analysisSettingsFrom(const ParsedArgs& args, core::AnalysisSettings base,
                                            const std::string& modelDir, bool newRun = false);

}  // namespace ponder::app
