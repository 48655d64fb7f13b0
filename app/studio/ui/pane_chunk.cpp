// One chunk up close, under the source: the selected chunk's per-token CE on the SKIP and
// UPDATE paths and their difference (viz/token_figure.h). Hovering a position marks its token
// in the source, and hovering a token in the source marks its position here.
#include <cstdio>
#include <filesystem>

#include <imgui.h>

#include "app/studio/ui/studio_app.h"

namespace ponder::studio {

void Studio::drawChunkPlot() {
    const auto& units = m_state.units();
    m_plotHoverToken.reset();
    if (!m_state.selected || *m_state.selected < 0 ||
        std::size_t(*m_state.selected) >= units.size()) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyle().Colors[ImGuiCol_TextDisabled]);
        ImGui::TextWrapped(
            "Select a chunk (click a plot, the source or a table row) to see its "
            "per-token losses here.");
        ImGui::PopStyleColor();
        return;
    }
    const auto index = *m_state.selected;
    const auto& unit = units[std::size_t(index)];
    if (unit.tokenLossSkip.empty() || unit.tokenLossUpdate.empty()) {
        ImGui::TextDisabled(
            "Chunk %lld kept no per-token losses (paper mode, or a run stored "
            "without them).",
            static_cast<long long>(index));
        return;
    }
    const std::pair<std::uint64_t, std::int64_t> key{m_state.version(), index};
    if (m_chunkFigureKey != key) {
        viz::TokenLossData data;
        char title[256];
        std::snprintf(title, sizeof title, "chunk %lld of %s, tokens %lld\u2013%lld",
                      static_cast<long long>(index),
                      std::filesystem::path(unit.file).filename().string().c_str(),
                      static_cast<long long>(unit.tokenStart),
                      static_cast<long long>(unit.tokenStart + unit.tokens - 1));
        data.title = title;
        data.skip = unit.tokenLossSkip;
        data.update = unit.tokenLossUpdate;
        m_chunkFigure = viz::tokenLossFigure(data);
        m_chunkFigureKey = key;
    }
    // Position p of the chunk predicts file token tokenStart + p + 1 (evaluator.h).
    const bool sameFile = unit.fileIndex == std::int64_t(m_sourceFile);
    viz::PlotOptions options;
    options.size = ImVec2(0, ImGui::GetContentRegionAvail().y);
    options.dpiScale = dpiScale();
    if (sameFile && m_sourceHoverToken && std::int64_t(*m_sourceHoverToken) > unit.tokenStart &&
        std::int64_t(*m_sourceHoverToken) <=
            unit.tokenStart + std::int64_t(unit.tokenLossSkip.size()))
        options.selectedUnit = std::int64_t(*m_sourceHoverToken) - unit.tokenStart - 1;
    if (m_plotFont) ImGui::PushFont(m_plotFont);
    const auto events = m_chunkPlot.draw(m_chunkFigure, options);
    if (m_plotFont) ImGui::PopFont();
    notePlotFrame("chunk-tokens", m_chunkPlot.layout().plot);
    if (sameFile && events.hoveredUnit && *events.hoveredUnit >= 0 &&
        *events.hoveredUnit < std::int64_t(unit.tokenLossSkip.size()))
        m_plotHoverToken = std::size_t(unit.tokenStart + *events.hoveredUnit + 1);
}

}  // namespace ponder::studio
