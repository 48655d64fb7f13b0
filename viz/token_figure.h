// One chunk up close: the per-token next-token CE of the SKIP and UPDATE paths along the chunk
// and their difference, the figure behind the studio's chunk plot (linked to the source pane).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "viz/figure.h"

namespace ponder::viz {

struct TokenLossData {
    std::string title;  // e.g. "chunk 12 of decoder.py"; empty: "Per-token loss"
    // CE of predicting token t+1 from position t of the chunk, on each path (equal lengths).
    std::vector<float> skip, update;
};

// x is the position in the chunk (an integer axis, so hover and selection name a position);
// SKIP grey, UPDATE bluish green, and SKIP − UPDATE as bars (positive: the update helped).
Figure tokenLossFigure(const TokenLossData& data);

}  // namespace ponder::viz
