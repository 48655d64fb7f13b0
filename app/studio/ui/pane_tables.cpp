// The right side's tables: every chunk of the run as a sortable, filterable row (click selects
// it everywhere, "Copy as CSV" copies the rows shown), and the per-file table whose checkboxes
// restrict the summary, the plots and the chunk table to a slice of files.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <imgui.h>

#include "app/studio/ui/studio_app.h"
#include "app/studio/ui/table_cells.h"

namespace ponder::studio {

namespace {

// The methods whose decisions the table shows: Ours and each policy beside it.
std::vector<std::string> shownMethods(const core::RunAnalysis& analysis) {
    std::vector<std::string> methods;
    for (std::size_t i = 0; i < analysis.policies.size(); ++i)
        if (analysis.policies[i].method == "Ours" || i >= core::kFirstExtraPolicy)
            methods.push_back(analysis.policies[i].method);
    return methods;
}

}  // namespace

void Studio::drawChunkTable() {
    if (m_chunkTableVersion != m_state.version()) {
        m_chunkTable.rebuild(m_state.units(), m_state.analysis(), shownMethods(m_state.analysis()));
        m_chunkTableVersion = m_state.version();
        if (!m_settings.chunkSort.empty()) {
            if (const auto column = m_chunkTable.columnIndex(m_settings.chunkSort))
                m_chunkTable.setSort(*column, m_settings.chunkSortAscending);
        }
    }
    drawChunkFilters();
    const auto& columns = m_chunkTable.columns();
    if (columns.empty()) return;
    const ImGuiTableFlags flags =
        ImGuiTableFlags_Sortable | ImGuiTableFlags_ScrollX | ImGuiTableFlags_ScrollY |
        ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_Resizable |
        ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_Reorderable | ImGuiTableFlags_Hideable;
    if (!ImGui::BeginTable("chunks", int(columns.size()), flags)) return;
    setupChunkColumns();
    drawChunkRows();
    ImGui::EndTable();
}

// Filters: the slice's files, a file-name substring, a decision (whose), disagreement; then
// Copy as CSV and the count shown.
void Studio::drawChunkFilters() {
    ChunkFilter filter = m_chunkTable.filter();
    filter.files = m_state.slice();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 10);
    if (ImGui::InputTextWithHint("##file-filter", "file contains", m_chunkFileFilter,
                                 sizeof m_chunkFileFilter))
        filter.text = m_chunkFileFilter;
    ImGui::SameLine();
    int decision = int(filter.decision);
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7);
    if (ImGui::Combo("##decision", &decision, "any decision\0UPDATE\0SKIP\0"))
        filter.decision = ChunkFilter::Decision(decision);
    const auto methods = shownMethods(m_state.analysis());
    if (methods.size() > 1) {  // whose decision the filters read
        ImGui::SameLine();
        ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
        const std::string current = filter.policy.empty() ? "Ours" : filter.policy;
        if (ImGui::BeginCombo("##of", current.c_str())) {
            for (const auto& method : methods)
                if (ImGui::Selectable(method.c_str(), method == current))
                    filter.policy = method == "Ours" ? std::string() : method;
            ImGui::EndCombo();
        }
    }
    ImGui::SameLine();
    ImGui::Checkbox("disagrees with Oracle", &filter.disagreesOnly);
    if (filter != m_chunkTable.filter()) m_chunkTable.setFilter(filter);
    ImGui::SameLine();
    if (ImGui::SmallButton("Copy as CSV")) {
        ImGui::SetClipboardText(m_chunkTable.csv().c_str());
        report({LogLine::Level::Info,
                "copied " + std::to_string(m_chunkTable.rows().size()) + " chunks as CSV",
                {}});
    }
    ImGui::SameLine();
    ImGui::TextDisabled("%zu of %zu chunks", m_chunkTable.rows().size(), m_chunkTable.unitCount());
}

// The columns, the remembered sort as the default, and a header click as the new sort.
void Studio::setupChunkColumns() {
    const auto& columns = m_chunkTable.columns();
    ImGui::TableSetupScrollFreeze(2, 1);  // unit and file stay in view
    for (std::size_t c = 0; c < columns.size(); ++c) {
        ImGuiTableColumnFlags columnFlags = ImGuiTableColumnFlags_None;
        if (m_chunkTable.sortColumn() == c)
            columnFlags |=
                ImGuiTableColumnFlags_DefaultSort |
                (m_chunkTable.sortAscending() ? ImGuiTableColumnFlags_PreferSortAscending
                                              : ImGuiTableColumnFlags_PreferSortDescending);
        // The file column starts wide enough for a typical name (ImGui fits the others to
        // the rows it draws, and the clipper draws only those on screen).
        const float width = c == 1 ? ImGui::CalcTextSize("configparser.py").x : 0.0f;
        ImGui::TableSetupColumn(columns[c].name.c_str(), columnFlags, width);
    }
    ImGui::TableHeadersRow();
    ImGuiTableSortSpecs* specs = ImGui::TableGetSortSpecs();
    if (!specs || !specs->SpecsDirty) return;
    if (specs->SpecsCount > 0) {
        const auto& spec = specs->Specs[0];
        const bool ascending = spec.SortDirection == ImGuiSortDirection_Ascending;
        m_chunkTable.setSort(std::size_t(spec.ColumnIndex), ascending);
        m_settings.chunkSort = columns[std::size_t(spec.ColumnIndex)].name;
        m_settings.chunkSortAscending = ascending;
    } else {
        m_chunkTable.clearSort();
        m_settings.chunkSort.clear();
    }
    specs->SpecsDirty = false;
}

// The rows on screen; a click selects the chunk (the source follows), and a chunk selected
// elsewhere (a plot, the source) scrolls into view once.
void Studio::drawChunkRows() {
    const auto& columns = m_chunkTable.columns();
    const auto& rows = m_chunkTable.rows();
    std::optional<std::size_t> scrollRow;
    if (m_state.selected != m_chunkTableScrolledTo) {
        m_chunkTableScrolledTo = m_state.selected;
        if (m_state.selected) scrollRow = m_chunkTable.rowOfUnit(*m_state.selected);
    }
    const float rowHeight = ImGui::GetTextLineHeightWithSpacing();
    if (scrollRow)
        ImGui::SetScrollY(
            std::max(0.0f, float(*scrollRow) * rowHeight - 0.4f * ImGui::GetWindowHeight()));
    ImGuiListClipper clipper;
    clipper.Begin(int(rows.size()), rowHeight);
    while (clipper.Step()) {
        for (int row = clipper.DisplayStart; row < clipper.DisplayEnd; ++row) {
            const std::size_t r = std::size_t(row);
            const auto unit = std::int64_t(rows[r]);
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::PushID(row);
            const std::string first = m_chunkTable.cellText(r, 0);
            if (ImGui::Selectable(
                    first.c_str(), m_state.selected == unit,
                    ImGuiSelectableFlags_SpanAllColumns | ImGuiSelectableFlags_AllowItemOverlap)) {
                m_state.selected = unit;
                m_chunkTableScrolledTo = unit;  // clicked here: already in view
                m_scrollToUnit = unit;          // the source follows
            }
            ImGui::PopID();
            for (std::size_t c = 1; c < columns.size(); ++c) {
                ImGui::TableNextColumn();
                ImGui::TextUnformatted(m_chunkTable.cellText(r, c).c_str());
                if (ImGui::IsItemHovered()) {
                    const auto tip = m_chunkTable.cellTooltip(r, c);
                    if (!tip.empty()) ImGui::SetTooltip("%s", tip.c_str());
                }
            }
        }
    }
}

void Studio::drawFilesTable() {
    const auto& files = m_state.fileRows();
    if (files.empty()) {
        ImGui::TextDisabled("No files yet: run an evaluation (Ctrl+R).");
        return;
    }
    auto slice = m_state.slice();
    ImGui::TextWrapped(
        "Tick files to restrict the summary, the plots and the chunk table to "
        "them (the decisions made on the whole run).");
    if (!slice.empty()) {
        ImGui::SameLine();
        if (ImGui::SmallButton("All files")) slice.clear();
    }
    const ImGuiTableFlags flags = ImGuiTableFlags_ScrollX | ImGuiTableFlags_ScrollY |
                                  ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                                  ImGuiTableFlags_Resizable | ImGuiTableFlags_SizingFixedFit;
    if (ImGui::BeginTable("files", 10, flags)) {
        ImGui::TableSetupScrollFreeze(2, 1);
        for (const char* header : {"", "file", "units", "loss SKIP", "loss UPDATE", "loss Ours",
                                   "loss Oracle", "rate Ours", "rate Oracle", "recovery"})
            ImGui::TableSetupColumn(header);
        ImGui::TableHeadersRow();
        for (const auto& row : files) {
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::PushID(int(row.fileIndex));
            bool chosen = slice.count(row.fileIndex) > 0;
            if (row.fileIndex >= 0 && ImGui::Checkbox("##slice", &chosen)) {
                if (chosen)
                    slice.insert(row.fileIndex);
                else
                    slice.erase(row.fileIndex);
            }
            ImGui::PopID();
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(std::filesystem::path(row.file).filename().string().c_str());
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", row.file.c_str());
            ImGui::TableNextColumn();
            ImGui::Text("%zu", row.units);
            numberCell("%.4f", row.lossSkip);
            numberCell("%.4f", row.lossUpdate);
            numberCell("%.4f", row.lossOurs);
            numberCell("%.4f", row.lossOracle);
            numberCell("%.2f", row.oursRate);
            numberCell("%.2f", row.oracleRate);
            numberCell("%.1f%%", 100 * row.recovery);
        }
        ImGui::EndTable();
    }
    m_state.setSlice(std::move(slice));
}

}  // namespace ponder::studio
