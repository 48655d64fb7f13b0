// What the summary table shows, as JSON (`ponder-studio --dump-view FILE`): the numbers behind
// the drawn text, so a test can hold the studio to `ponder export` of the same stored run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "app/studio/state/studio_state.h"

namespace ponder::studio {

// {"run": ID|null, "policy", "rate", "calibration", "own_rate", "rate_applies", "error",
//  "rows": [{"method", "policy", "loss", "rate", "cost", "recovery", "agreement",
//            "own_rate", "seeded_draw": {"loss", "rate"}|null,
//            "ci": {"loss": [low, high]|null, "recovery": [low, high]|null}}]}
// Non-finite numbers are null.
std::string summaryViewJson(const StudioState& state, std::optional<std::int64_t> runId);

}  // namespace ponder::studio
