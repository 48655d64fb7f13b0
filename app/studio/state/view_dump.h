// What the summary table shows, as JSON (`ponder-studio --dump-view FILE`): the numbers behind
// the drawn text, so a test can hold the studio to `ponder export` of the same stored run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/studio/state/studio_state.h"

namespace ponder::studio {

// {"run": ID|null, "policy", "rate", "calibration", "own_rate", "rate_applies", "error",
//  "slice": [file index, ...] (the files the rows are restricted to; empty: the whole run),
//  "rows": [{"method", "policy", "loss", "rate", "cost", "recovery", "agreement",
//            "own_rate", "seeded_draw": {"loss", "rate"}|null,
//            "ci": {"loss": [low, high]|null, "recovery": [low, high]|null}}]}
// "files": [{"file", "file_index", "units", "loss_skip", "loss_update", "loss_ours",
//            "loss_oracle", "rate_ours", "rate_oracle", "recovery"}] (the Files tab),
// and, with frames, "plot_frames": [{"plot", "x0", "y0", "x1", "y1", "whole"}] in window pixels.
// Non-finite numbers are null.
struct ViewFrame {
    std::string plot;  // the figure's stem (fig_signal, ...) or chunk-tokens
    double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    bool whole = true;  // entirely in view (a scrolled pane may hide part of it)
};
std::string summaryViewJson(const StudioState& state, std::optional<std::int64_t> runId,
                            const std::vector<ViewFrame>& frames = {});

}  // namespace ponder::studio
