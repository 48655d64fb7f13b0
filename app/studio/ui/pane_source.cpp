// Source pane: the shown file with a decision strip per chunk (UPDATE/SKIP, Oracle
// disagreement), a per-token heat map of CE_skip - CE_update, hover tooltips and click-to-select.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include <imgui.h>

#include "app/studio/ui/studio_app.h"

namespace ponder::studio {

namespace {

ImU32 rgba(int r, int g, int b, float a) {
    return IM_COL32(r, g, b, int(std::clamp(a, 0.0f, 1.0f) * 255));
}

}  // namespace

// What each line of the source pane is drawn with.
struct Studio::SourceView {
    const core::PlanFile& file;
    const std::vector<std::uint8_t>& ours;
    const std::vector<std::uint8_t>& oracle;  // empty on a fast-path run
    ImDrawList* draw;
    ImVec2 origin, mouse;
    float lineHeight, gutter, textX;
    bool hoveredPane;
    ImU32 textColour, mutedColour;
    std::optional<std::int64_t>* hoveredUnit;  // set to the unit of the line under the mouse
};

void Studio::drawSourcePane() {
    const auto& files = m_state.files();
    const auto& units = m_state.units();
    if (m_scrollToUnit && std::size_t(*m_scrollToUnit) < units.size()) {
        const auto fileIndex = units[std::size_t(*m_scrollToUnit)].fileIndex;
        if (fileIndex >= 0) m_sourceFile = std::size_t(fileIndex);
    }
    if (files.empty() || m_sourceFile >= files.size()) {
        ImGui::TextDisabled(m_worker.busy() ? "Loading..."
                                            : "No source: open a file and run (Ctrl+R).");
        m_scrollToUnit.reset();
        return;
    }
    const auto& file = files[m_sourceFile];
    const std::size_t lines = file.lineStarts.size();
    // A gated fast-path run has no Oracle to disagree with (its SKIP units lack advantages).
    static const std::vector<std::uint8_t> noOracle;
    const auto& oracle = m_state.table().partial() ? noOracle : m_state.oracle().decisions;
    if (m_sourceMapVersion != m_state.version() || m_sourceMapFile != m_sourceFile) {
        m_sourceMapVersion = m_state.version();
        m_sourceMapFile = m_sourceFile;
        m_sourceMap = buildSourceMap(units, std::int64_t(m_sourceFile), lines);
    }
    ImGui::TextDisabled("%s", file.path.c_str());
    if (m_sourceFile < m_sourceNotes.size() && !m_sourceNotes[m_sourceFile].empty())
        ImGui::TextColored(ImVec4(0.9f, 0.7f, 0.3f, 1), "%s", m_sourceNotes[m_sourceFile].c_str());
    ImGui::Separator();
    ImGui::BeginChild("text", ImVec2(0, 0), false, ImGuiWindowFlags_HorizontalScrollbar);
    const float lineHeight = ImGui::GetTextLineHeight();
    const float charWidth = ImGui::CalcTextSize("0").x;
    if (m_scrollToUnit && std::size_t(*m_scrollToUnit) < units.size()) {
        const auto line = units[std::size_t(*m_scrollToUnit)].lineStart;
        ImGui::SetScrollY(std::max(0.0f, (float(line) - 4) * lineHeight));
        m_scrollToUnit.reset();
    }
    std::optional<std::int64_t> hoveredUnit;
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    const float gutter = charWidth * 6 + 12;
    const SourceView view{file,
                          m_state.ours().decisions,
                          oracle,
                          ImGui::GetWindowDrawList(),
                          origin,
                          ImGui::GetIO().MousePos,
                          lineHeight,
                          gutter,
                          origin.x + gutter,
                          ImGui::IsWindowHovered(),
                          ImGui::GetColorU32(ImGuiCol_Text),
                          ImGui::GetColorU32(ImGuiCol_TextDisabled),
                          &hoveredUnit};
    m_sourceHoverToken.reset();
    // Lines are exactly lineHeight apart, so the clipper and the drawn rows agree.
    ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, ImVec2(0, 0));
    ImGuiListClipper clipper;
    clipper.Begin(int(lines), lineHeight);
    while (clipper.Step())
        for (int line = clipper.DisplayStart; line < clipper.DisplayEnd; ++line) {
            drawSourceLine(view, line);
            ImGui::Dummy(ImVec2(gutter + charWidth * 120, lineHeight));
        }
    clipper.End();
    ImGui::PopStyleVar();
    if (hoveredUnit && ImGui::IsMouseClicked(ImGuiMouseButton_Left)) m_state.selected = hoveredUnit;
    ImGui::EndChild();
}

void Studio::drawSourceLine(const SourceView& view, int line) {
    const auto& file = view.file;
    const auto& lineStarts = file.lineStarts;
    const float y = view.origin.y + float(line) * view.lineHeight;
    const std::size_t begin = lineStarts[std::size_t(line)];
    std::size_t end = std::size_t(line) + 1 < lineStarts.size() ? lineStarts[std::size_t(line) + 1]
                                                                : file.text.size();
    while (end > begin && (file.text[end - 1] == '\n' || file.text[end - 1] == '\r'))
        --end;
    const std::int64_t unit = m_sourceMap.lineUnit[std::size_t(line)];
    const float x = view.origin.x;
    if (unit >= 0) {
        const auto u = std::size_t(unit);
        const auto& ours = view.ours;
        const bool update = u < ours.size() && ours[u];
        const bool disagree =
            u < view.oracle.size() && u < ours.size() && ours[u] != view.oracle[u];
        view.draw->AddRectFilled(ImVec2(x, y), ImVec2(x + 6, y + view.lineHeight),
                                 update ? rgba(0, 158, 115, 1) : rgba(128, 128, 128, 0.7f));
        if (disagree)
            view.draw->AddRectFilled(ImVec2(x + 7, y), ImVec2(x + 10, y + view.lineHeight),
                                     rgba(213, 94, 0, 1));
        if (m_state.selected && *m_state.selected == unit)
            view.draw->AddRectFilled(ImVec2(view.textX - 2, y),
                                     ImVec2(view.textX + 4000, y + view.lineHeight),
                                     rgba(86, 180, 233, 0.12f));
    }
    char number[16];
    std::snprintf(number, sizeof number, "%5d", line + 1);
    view.draw->AddText(ImVec2(x + 12, y), view.mutedColour, number);
    if (unit >= 0 && !file.tokenByteStart.empty()) drawTokenHeat(view, begin, end, y, unit);
    view.draw->AddText(nullptr, 0, ImVec2(view.textX, y), view.textColour, file.text.data() + begin,
                       file.text.data() + end);
    if (view.hoveredPane && view.mouse.y >= y && view.mouse.y < y + view.lineHeight && unit >= 0)
        *view.hoveredUnit = unit;
}

// Token heat map: each token coloured by how much the update changed predicting it; the
// hovered token gets a tooltip with its losses and its chunk's decision.
void Studio::drawTokenHeat(const SourceView& view, std::size_t begin, std::size_t end, float y,
                           std::int64_t unit) {
    const auto& file = view.file;
    const auto& units = m_state.units();
    const auto& byteStarts = file.tokenByteStart;
    const auto first = std::lower_bound(byteStarts.begin(), byteStarts.end(), begin);
    for (auto it = first; it != byteStarts.end() && *it < end; ++it) {
        const std::size_t token = std::size_t(it - byteStarts.begin());
        const std::size_t tokenEnd =
            std::min<std::size_t>(end, token + 1 < byteStarts.size() ? byteStarts[token + 1] : end);
        const auto loss = tokenLoss(units, std::int64_t(m_sourceFile), token, unit);
        if (!loss) continue;
        const float skip = loss->skip, upd = loss->update;
        const float diff = skip - upd;
        const char* text = file.text.data();
        const float x0 = view.textX + ImGui::CalcTextSize(text + begin, text + *it).x;
        const float x1 = view.textX + ImGui::CalcTextSize(text + begin, text + tokenEnd).x;
        const float alpha = heatAlpha(diff, m_sourceMap.heatScale);
        view.draw->AddRectFilled(ImVec2(x0, y), ImVec2(x1, y + view.lineHeight),
                                 diff >= 0 ? rgba(0, 114, 178, alpha) : rgba(213, 94, 0, alpha));
        if (m_plotHoverToken == token)  // hovered in the chunk plot
            view.draw->AddRect(ImVec2(x0 - 1, y), ImVec2(x1 + 1, y + view.lineHeight),
                               view.textColour, 0, 0, 1.5f);
        if (!view.hoveredPane || view.mouse.y < y || view.mouse.y >= y + view.lineHeight ||
            view.mouse.x < x0 || view.mouse.x >= x1)
            continue;
        m_sourceHoverToken = token;
        const auto ownerIndex = loss->unit;
        const auto& owner = units[ownerIndex];
        const std::string tokenText(text + *it, text + tokenEnd);
        const auto& threshold = m_state.ours().threshold;
        const auto& signal = m_state.table().signal(m_state.tune().signal);
        const bool update = ownerIndex < view.ours.size() && view.ours[ownerIndex];
        ImGui::SetTooltip(
            "token %zu: \"%s\"\nCE skip %.3f   CE update %.3f   diff %+.3f\n"
            "chunk %zu: loss skip %.4f, update %.4f, advantage %+.4f\n%s",
            token, tokenText.c_str(), skip, upd, diff, ownerIndex, owner.lossSkip, owner.lossUpdate,
            owner.advantage,
            decisionReason(ownerIndex < signal.size() ? signal[ownerIndex] : core::kNaN,
                           ownerIndex < threshold.size() ? threshold[ownerIndex] : core::kNaN,
                           update, ownerIndex < m_state.calibrationUnits())
                .c_str());
    }
}

}  // namespace ponder::studio
