// Line → unit map, heat scale and token → loss lookup for the source pane.
#include "app/studio/state/source_map.h"

#include <algorithm>
#include <cmath>

namespace ponder::studio {

SourceMap buildSourceMap(const std::vector<core::UnitRecord>& units, std::int64_t fileIndex,
                         std::size_t lines) {
    SourceMap map;
    map.lineUnit.assign(lines, -1);
    for (std::size_t i = 0; i < units.size(); ++i) {
        const auto& u = units[i];
        if (u.fileIndex != fileIndex) continue;
        for (std::size_t t = 0; t < u.tokenLossSkip.size() && t < u.tokenLossUpdate.size(); ++t)
            map.heatScale =
                std::max(map.heatScale, std::fabs(u.tokenLossSkip[t] - u.tokenLossUpdate[t]));
        for (auto line = std::max<std::int64_t>(u.lineStart, 1);
             line <= u.lineEnd && std::size_t(line) <= lines; ++line)
            if (map.lineUnit[std::size_t(line - 1)] < 0)
                map.lineUnit[std::size_t(line - 1)] = std::int64_t(i);
    }
    return map;
}

std::optional<TokenLoss> tokenLoss(const std::vector<core::UnitRecord>& units,
                                   std::int64_t fileIndex, std::size_t token,
                                   std::int64_t nearUnit) {
    if (token == 0) return std::nullopt;
    const auto position = std::int64_t(token) - 1;
    for (std::int64_t k = std::max<std::int64_t>(0, nearUnit - 1);
         k <= nearUnit + 1 && std::size_t(k) < units.size(); ++k) {
        const auto& u = units[std::size_t(k)];
        const auto pos = position - u.tokenStart;
        if (u.fileIndex == fileIndex && pos >= 0 && std::size_t(pos) < u.tokenLossSkip.size() &&
            std::size_t(pos) < u.tokenLossUpdate.size())
            return TokenLoss{std::size_t(k), u.tokenLossSkip[std::size_t(pos)],
                             u.tokenLossUpdate[std::size_t(pos)]};
    }
    return std::nullopt;
}

float heatAlpha(float diff, float scale) {
    return std::min(1.0f, std::fabs(diff) / scale) * 0.6f;
}

}  // namespace ponder::studio
