// Table cells the studio's tables share.
#pragma once

#include <cmath>

#include <imgui.h>

namespace ponder::studio {

// The next column's number in `format`, or a muted "-" for a value that does not exist (NaN).
inline void numberCell(const char* format, double value) {
    ImGui::TableNextColumn();
    if (std::isnan(value))
        ImGui::TextDisabled("-");
    else
        ImGui::Text(format, value);
}

}  // namespace ponder::studio
