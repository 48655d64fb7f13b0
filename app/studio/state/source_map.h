// What the source pane draws for one file, derived from the run's units without ImGui: the unit
// each line belongs to, the heat map's scale, and which unit's per-token losses cover a token.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/eval/evaluator.h"

namespace ponder::studio {

struct SourceMap {
    // Per line (0-based): the first unit of the file whose lines cover it, or -1.
    std::vector<std::int64_t> lineUnit;
    // The largest |CE_skip - CE_update| over the file's tokens (at least 1e-6), so the heat map
    // uses its full range on every file.
    float heatScale = 1e-6f;
};

// `units` in run order; only those of `fileIndex` count. Lines are 1-based in the records.
SourceMap buildSourceMap(const std::vector<core::UnitRecord>& units, std::int64_t fileIndex,
                         std::size_t lines);

struct TokenLoss {
    std::size_t unit = 0;        // index into the units
    float skip = 0, update = 0;  // CE of predicting the token on each path
};

// The losses of predicting token `token` of file `fileIndex`: they sit at position token - 1 of
// the unit that holds that position. Only units nearUnit - 1 .. nearUnit + 1 are searched (the
// unit of the token's line and its neighbours: a line may straddle a chunk boundary). None for
// token 0 (nothing predicts it) or when no unit kept per-token losses for it.
std::optional<TokenLoss> tokenLoss(const std::vector<core::UnitRecord>& units,
                                   std::int64_t fileIndex, std::size_t token,
                                   std::int64_t nearUnit);

// The heat map's opacity for a loss difference: |diff| / scale, capped at 1, times 0.6 so the
// text stays readable over the strongest colour.
float heatAlpha(float diff, float scale);

}  // namespace ponder::studio
