// Tune pane (rate, policy, signal, α, calibration → instant replay), the four x-linked plots
// and the summary table.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <imgui.h>

#include "app/studio/ui/studio_app.h"
#include "app/studio/ui/table_cells.h"
#include "core/util/errors.h"
#include "viz/figure_export.h"

namespace ponder::studio {

void Studio::drawTunePane() {
    ImGui::TextDisabled("TUNE");
    TuneSettings tune = m_state.tune();
    drawRateControl(tune);
    const auto policies = policyChoices(tune);
    if (ImGui::BeginCombo("policy", tune.policy.c_str())) {
        for (const auto& name : policies)
            if (ImGui::Selectable(name.c_str(), name == tune.policy)) tune.policy = name;
        ImGui::EndCombo();
    }
    drawBesideCombo(tune, policies);
    ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x - 80);
    ImGui::InputTextWithHint("##gate", "gate folder (ponder train-gate --out)", m_gateDir,
                             sizeof m_gateDir);
    ImGui::SameLine();
    if (ImGui::Button("use gate") && m_gateDir[0] != '\0')
        tune.policy = "gate:" + std::string(m_gateDir);
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip(
            "replay a learned gate over this run; its rate is its own, not the slider's");
    const std::string signal = core::signalName(tune.signal);
    if (ImGui::BeginCombo("signal", signal.c_str())) {
        for (auto s : core::allSignals())
            if (ImGui::Selectable(core::signalName(s).c_str(), s == tune.signal)) tune.signal = s;
        ImGui::EndCombo();
    }
    float alpha = float(tune.alpha);
    if (ImGui::SliderFloat("alpha", &alpha, 0.01f, 1.0f, "%.2f")) tune.alpha = double(alpha);
    int calibration = tune.calibration == "profile" ? 1 : 0;
    if (ImGui::Combo("calibration", &calibration, "paper\0profile\0"))
        tune.calibration = calibration ? "profile" : "paper";
    m_state.setTune(tune);  // replays only when something changed
    if (!m_state.replayError().empty())
        ImGui::TextColored(ImVec4(1, 0.5f, 0.4f, 1), "%s", m_state.replayError().c_str());
}

void Studio::drawRateControl(TuneSettings& tune) {
    float rate = float(tune.rate);
    // A policy that ρ does not steer (a learned gate, advanced-threshold, ...) spends its own
    // budget: the control is off and says what it realized (algorithm.md §8.2).
    const bool rateApplies = m_state.rateApplies();
    if (!rateApplies) ImGui::BeginDisabled();
    if (ImGui::SliderFloat("rate", &rate, 0.0f, 1.0f, "%.2f")) tune.rate = double(rate);
    if (!rateApplies) ImGui::EndDisabled();
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
        ImGui::SetTooltip(rateApplies ? "target update rate ρ"
                                      : "this policy decides its own rate: ρ does not apply");
    if (!rateApplies && !m_state.units().empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyle().Colors[ImGuiCol_TextDisabled]);
        ImGui::TextWrapped("own rate %.2f: Random and the Oracle at it",
                           m_state.analysis().baselineRate);
        ImGui::PopStyleColor();
    }
}

// Built-in policies, then learned gates (gates.md §2-3): the model's own gate folder, the one
// in use and any folder typed below.
std::vector<std::string> Studio::policyChoices(const TuneSettings& tune) const {
    auto policies = core::policyNames();
    policies.erase(std::remove_if(policies.begin(), policies.end(), core::isGatePolicy),
                   policies.end());
    const auto ownGate = std::filesystem::path(m_settings.modelDir) / "gate";
    if (std::filesystem::exists(ownGate / "gate.json"))
        policies.push_back("gate:" + ownGate.string());
    if (core::isGatePolicy(tune.policy) &&
        std::find(policies.begin(), policies.end(), tune.policy) == policies.end())
        policies.push_back(tune.policy);
    return policies;
}

// Policies side by side: each chosen one gets its own summary row, strip row in the decisions
// plot and sweep curve, each at the rate it realized.
void Studio::drawBesideCombo(const TuneSettings& tune, const std::vector<std::string>& policies) {
    auto extras = m_state.extraPolicies();
    const std::string besidePreview =
        extras.empty()
            ? "(none)"
            : extras.front() +
                  (extras.size() > 1 ? " + " + std::to_string(extras.size() - 1) : std::string());
    if (ImGui::BeginCombo("beside", besidePreview.c_str())) {
        bool changed = false;
        for (const auto& name : policies) {
            // The baselines have their rows in every run.
            if (name == tune.policy || core::isBaselinePolicy(name)) continue;
            const auto at = std::find(extras.begin(), extras.end(), name);
            if (ImGui::Selectable(name.c_str(), at != extras.end(),
                                  ImGuiSelectableFlags_DontClosePopups)) {
                if (at != extras.end())
                    extras.erase(at);
                else
                    extras.push_back(name);
                changed = true;
            }
        }
        ImGui::EndCombo();
        if (changed) m_state.setExtraPolicies(extras);
    }
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip(
            "policies replayed beside this one on the same run: a summary row, a "
            "decision strip row and a sweep curve each");
}

namespace {

// The tab and header name of each run figure (viz::runFigures' stems).
const char* figureLabel(const std::string& stem) {
    if (stem == "fig_signal") return "Signal";
    if (stem == "fig_advantage") return "Advantage";
    if (stem == "fig_decisions") return "Decisions";
    if (stem == "fig_scatter") return "Scatter";
    if (stem == "fig_sweep") return "Sweep";
    return "Plot";
}

}  // namespace

void Studio::drawPlotsPane() {
    const auto& figures = m_state.figures();
    for (std::size_t i = 0; i < figures.size(); ++i)
        if (figures[i].stem == m_settings.enlargedPlot) return drawEnlargedPlot(i);
    drawSummaryTable();
    drawRightTabs();
}

void Studio::drawRightTabs() {
    if (!ImGui::BeginTabBar("right-tabs", ImGuiTabBarFlags_FittingPolicyScroll)) return;
    // Selects the remembered tab once; afterwards the user's clicks decide.
    const auto tab = [&](const std::string& key, const char* label) {
        const ImGuiTabItemFlags flags = !m_rightTabRestored && key == m_settings.rightTab
                                            ? ImGuiTabItemFlags_SetSelected
                                            : ImGuiTabItemFlags_None;
        if (!ImGui::BeginTabItem(label, nullptr, flags)) return false;
        if (m_rightTabRestored) m_settings.rightTab = key;
        return true;
    };
    if (tab("plots", "Plots")) {
        ImGui::BeginChild("stacked");
        drawStackedPlots();
        ImGui::EndChild();
        ImGui::EndTabItem();
    }
    const auto& figures = m_state.figures();
    for (std::size_t i = 0; i < figures.size() && i < m_plots.size(); ++i) {
        if (!tab(figures[i].stem, figureLabel(figures[i].stem))) continue;
        if (figures[i].stem == "fig_scatter" && m_state.table().hasSplit()) {
            // The signal against the whole advantage or one of its parts (algorithm.md §4.1).
            int part = int(m_state.scatterPart());
            ImGui::SetNextItemWidth(14 * ImGui::GetFontSize());
            if (ImGui::Combo("y axis", &part,
                             "advantage\0adv_static (trained weights)\0"
                             "adv_inner (inner loop)\0"))
                m_state.setScatterPart(core::AdvantagePart(part));
        }
        if (m_plotFont) ImGui::PushFont(m_plotFont);
        drawPlot(i, ImVec2(0, ImGui::GetContentRegionAvail().y));
        if (m_plotFont) ImGui::PopFont();
        ImGui::EndTabItem();
    }
    if (tab("chunks", "Chunks")) {
        drawChunkTable();
        ImGui::EndTabItem();
    }
    if (tab("files", "Files")) {
        drawFilesTable();
        ImGui::EndTabItem();
    }
    m_rightTabRestored = true;
    ImGui::EndTabBar();
}

bool Studio::rowSplitter(const char* id, float& upper, float& lower, float total) {
    const float thickness = std::max(6.0f, 0.4f * ImGui::GetFontSize());
    ImGui::InvisibleButton(id, ImVec2(std::max(1.0f, ImGui::GetContentRegionAvail().x), thickness));
    const bool active = ImGui::IsItemActive();
    if (ImGui::IsItemHovered() || active) ImGui::SetMouseCursor(ImGuiMouseCursor_ResizeNS);
    const ImVec2 min = ImGui::GetItemRectMin(), max = ImGui::GetItemRectMax();
    const float mid = 0.5f * (min.y + max.y);
    ImGui::GetWindowDrawList()->AddRectFilled(
        ImVec2(min.x, mid - 1), ImVec2(max.x, mid + 1),
        ImGui::GetColorU32(active ? ImGuiCol_SeparatorActive : ImGuiCol_Separator));
    if (!active || total <= 0) return false;
    // Each pane keeps a sliver; the pair's sum never changes.
    constexpr float kSmallest = 0.05f;
    const float delta =
        std::clamp(ImGui::GetIO().MouseDelta.y / total, kSmallest - upper, lower - kSmallest);
    upper += delta;
    lower -= delta;
    return delta != 0;
}

void Studio::drawStackedPlots() {
    const auto& figures = m_state.figures();
    if (m_state.units().empty()) {
        ImGui::TextDisabled(m_worker.busy() ? "Waiting for the first chunk..."
                                            : "No chunks yet: run an evaluation (Ctrl+R).");
    }
    if (figures.size() < 3 || m_plots.size() < 3) return;
    if (m_plotFont) ImGui::PushFont(m_plotFont);
    // The three x-linked chunk plots (the scatter and the sweep have their own axes and tabs):
    // signal, advantage and the decision strip, their heights the user's shares of the tab
    // (splitters between them). Each keeps a least height in lines of the plot font, so its
    // title, legend and a frame with three readable ticks fit at any View > Font scale; when
    // the tab cannot give that, it scrolls instead of squashing.
    const float dpi = dpiScale();
    const float font = ImGui::GetFontSize();
    const float splitterRoom = std::max(6.0f, 0.4f * ImGui::GetFontSize());
    constexpr int kRows = 3;
    const float avail = std::max(1.0f, ImGui::GetContentRegionAvail().y - 2 * splitterRoom);
    // Ours, each policy beside it and the Oracle: one strip row each, under a legend that wraps.
    const auto& data = m_state.figureData();
    const float stripRows =
        float(data.policies.size() + 2 + (data.adaptationOracleDecisions.empty() ? 0 : 1));
    const float least[kRows] = {std::max(150.0f * dpi, 10.5f * font),
                                std::max(150.0f * dpi, 10.5f * font),
                                std::max(100.0f * dpi, (6.0f + 1.3f * stripRows) * font)};
    // Each row gets its least height, and the room left is shared out by the user's shares.
    auto& shares = m_settings.plotShares;
    float sum = 0, leastSum = 0;
    for (int row = 0; row < kRows; ++row) {
        sum += shares[std::size_t(row)];
        leastSum += least[row];
    }
    const float extra = std::max(0.0f, avail - leastSum);
    const ImVec2 spacing = ImGui::GetStyle().ItemSpacing;
    ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, ImVec2(spacing.x, 0));
    const char* splitters[kRows - 1] = {"##split-plot-0", "##split-plot-1"};
    for (int row = 0; row < kRows; ++row) {
        const auto r = std::size_t(row);
        drawPlot(r, ImVec2(0, least[row] + extra * shares[r] / sum));
        if (row + 1 < kRows)
            rowSplitter(splitters[row], shares[r], shares[r + 1], std::max(extra, 1.0f) / sum);
    }
    ImGui::PopStyleVar();
    if (m_plotFont) ImGui::PopFont();
}

void Studio::drawEnlargedPlot(std::size_t index) {
    const auto& figure = m_state.figures()[index];
    if (ImGui::SmallButton("Back")) m_settings.enlargedPlot.clear();
    ImGui::SameLine();
    ImGui::TextDisabled("%s enlarged: double-click its title or press Esc to go back",
                        figureLabel(figure.stem));
    if (m_plotFont) ImGui::PushFont(m_plotFont);
    drawPlot(index, ImVec2(0, ImGui::GetContentRegionAvail().y));
    if (m_plotFont) ImGui::PopFont();
}

void Studio::notePlotFrame(const std::string& stem, const viz::Rect& frame) {
    const ImDrawList* draw = ImGui::GetWindowDrawList();
    const ImVec2 clipMin = draw->GetClipRectMin(), clipMax = draw->GetClipRectMax();
    const bool whole = frame.x0 >= clipMin.x - 1 && frame.y0 >= clipMin.y - 1 &&
                       frame.x1 <= clipMax.x + 1 && frame.y1 <= clipMax.y + 1;
    m_plotFrames.push_back({stem, frame, whole});
}

void Studio::drawPlot(std::size_t index, ImVec2 size) {
    const auto& named = m_state.figures()[index];
    const auto& stem = named.stem;
    // The scatter and the sweep have their own x axes; the chunk plots (an integer chunk axis,
    // viz/run_figures.h) share one.
    const bool chunkAxis = named.figure.x.integerTicks;
    viz::PlotOptions options;
    options.size = size;
    options.dpiScale = dpiScale();
    // The selection is a unit: the chunk plots mark its chunk and the scatter its point
    // (scatter points are units, by id); the sweep's points are rates, not units.
    if (chunkAxis || stem == "fig_scatter") options.selectedUnit = m_state.selected;
    auto& plot = m_plots[index];
    const auto events =
        chunkAxis ? plot.draw(named.figure, m_xAxis, options) : plot.draw(named.figure, options);
    notePlotFrame(stem, plot.layout().plot);
    if (events.headerDoubleClicked)
        m_settings.enlargedPlot = m_settings.enlargedPlot == stem ? std::string() : stem;
    if (events.clickedUnit && stem != "fig_sweep") {
        m_state.selected = events.clickedUnit;
        m_scrollToUnit = events.clickedUnit;
    }
    if (events.exportRequested) {
        std::filesystem::path dir(m_exportDir);
        try {
            std::filesystem::create_directories(dir);
            const auto path = dir / (stem + "." + viz::extensionOf(*events.exportRequested));
            viz::ExportOptions exportOptions;
            exportOptions.heightPt *= named.heightScale;
            viz::exportFigure(plot.snapshot(named.figure), *events.exportRequested, path,
                              exportOptions);
            report({LogLine::Level::Info, "wrote " + path.string(), {}});
        } catch (...) {
            report(errorLine(std::current_exception()));
        }
    }
}

namespace {

// Above the table: a slice's rows say so, and a compared run is named (each with its way out).
void drawSummaryBanners(StudioState& state) {
    if (!state.slice().empty()) {  // the rows below are a slice's, and say so
        ImGui::TextColored(ImVec4(0.95f, 0.75f, 0.3f, 1),
                           "Slice: %zu of %zu files, %zu of %zu units (the whole run's decisions)",
                           state.slice().size(), state.fileRows().size(), state.sliceUnitCount(),
                           state.units().size());
        ImGui::SameLine();
        if (ImGui::SmallButton("All files")) state.setSlice({});
    }
    const auto& compare = state.compare();
    if (!compare) return;
    const std::string name = "run " + std::to_string(compare->id);
    ImGui::TextDisabled(
        "B: comparing with %s%s%s (%zu of %zu units matched by file and "
        "chunk; dashed in the plots)",
        name.c_str(), compare->title == name ? "" : ": ",
        compare->title == name ? "" : compare->title.c_str(), state.compareMatched(),
        state.units().size());
    ImGui::SameLine();
    if (ImGui::SmallButton("Stop comparing")) state.setCompare(std::nullopt);
}

// A value with its bootstrap CI: the interval in muted text, the detail on hover.
void summaryCellWithCi(const char* format, double value,
                       const std::optional<core::BootstrapInterval>& ci, double scale) {
    numberCell(format, value);
    if (!ci || std::isnan(ci->low)) return;
    ImGui::SameLine(0, 4);
    const int decimals = scale > 1 ? 1 : 4;
    ImGui::TextDisabled("[%.*f, %.*f]", decimals, scale * ci->low, decimals, scale * ci->high);
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("95%% percentile block bootstrap over %zu files (%zu resamples)",
                          ci->blocks, ci->resamples);
}

void drawSummaryRow(const SummaryRow& row, bool withCompare) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(row.method.c_str());
    if (row.ownRate) {
        ImGui::SameLine(0, 4);
        ImGui::TextDisabled("(own rate)");
        if (ImGui::IsItemHovered())
            ImGui::SetTooltip(
                "ρ does not set this policy's budget: its recovery and "
                "agreement are against the Oracle with as many updates "
                "as it made");
    }
    summaryCellWithCi("%.4f", row.summary.loss, row.lossCi, 1);
    // The seeded draw on hover: the row is the expectation, labelled so; the files keep
    // the draw under "Random Skip" (algorithm.md §8.1).
    if (row.seededDraw && ImGui::IsItemHovered())
        ImGui::SetTooltip(
            "Expected loss and rate of Random at the target rate. The seeded "
            "draw, which the JSON and the exports keep as \"Random Skip\": "
            "loss %.4f at rate %.2f",
            row.seededDraw->loss, row.seededDraw->rate);
    numberCell("%.2f", row.summary.rate);
    numberCell("%.2f", row.summary.cost);
    summaryCellWithCi("%.1f%%", 100 * row.summary.recovery, row.recoveryCi, 100);
    numberCell("%.1f%%", 100 * row.summary.agreement);
    if (!withCompare) return;
    const auto delta = [&](double core::PolicySummary::*field) {
        return row.compare ? (*row.compare).*field - row.summary.*field : core::kNaN;
    };
    numberCell("%.4f", row.compare ? row.compare->loss : core::kNaN);
    numberCell("%.1f%%", row.compare ? 100 * row.compare->recovery : core::kNaN);
    numberCell("%+.4f", delta(&core::PolicySummary::loss));
    numberCell("%+.2f", delta(&core::PolicySummary::rate));
    numberCell("%+.1f%%", 100 * delta(&core::PolicySummary::recovery));
    numberCell("%+.1f%%", 100 * delta(&core::PolicySummary::agreement));
}

// Where UPDATE's gain comes from (algorithm.md §4.1): the trained layer as a static adapter
// or the learning from each chunk that the gate rations. One line with the CI note, so the
// plots below keep their room.
void drawAdvantageLine(const core::AdvantageSplit& split, bool withCi) {
    if (std::isfinite(split.advantage)) {
        const std::string share =
            std::isfinite(split.innerShare)
                ? std::to_string(int(std::lround(100 * split.innerShare))) + "%"
                : std::string("n/a");
        // Wrapped: a narrow pane or a large font scale keeps the share in view.
        ImGui::TextWrapped("Advantage %.4f = static %.4f + inner %.4f (inner share %s)",
                           split.advantage, split.advStatic, split.advInner, share.c_str());
        if (ImGui::IsItemHovered())
            ImGui::SetTooltip(
                "Per chunk, loss SKIP − loss UPDATE splits into what the TTT "
                "layer's trained weights add with the inner step set to zero "
                "(static) and what learning from the chunk adds (inner loop). "
                "The Adaptation Oracle updates the chunks with the largest inner "
                "part. The inner share is n/a where UPDATE gains nothing on "
                "average.");
    }
    if (withCi) return;
    // Too few files make no interval worth the name (algorithm.md §8.3).
    const std::string note =
        "95% CIs need " + std::to_string(core::kMinBootstrapBlocks) + "+ files";
    const float gap = 2 * ImGui::GetFontSize();
    if (std::isfinite(split.advantage) && ImGui::GetContentRegionAvail().x -
                                                  ImGui::GetItemRectMax().x +
                                                  ImGui::GetCursorScreenPos().x - gap >=
                                              ImGui::CalcTextSize(note.c_str()).x)
        ImGui::SameLine(0, gap);
    ImGui::TextDisabled("%s", note.c_str());
}

}  // namespace

void Studio::drawSummaryTable() {
    const auto& rows = m_state.summary();
    if (rows.empty()) return;
    drawSummaryBanners(m_state);
    const bool withCompare = m_state.compare().has_value();
    // Columns fit their text, never cut a number short (a larger font scale, a CI, a long
    // policy name); a narrow pane scrolls the table sideways.
    const bool withCi = rows.front().lossCi.has_value();
    const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg |
                                  ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_ScrollX |
                                  ImGuiTableFlags_ScrollY;
    // A scrolling table needs its height: every row, or at most a third of the pane (a larger
    // font scale, many policies beside Ours), so the plots below keep their room.
    // A row is a line of text and the cell padding above and below it (ImGui's table rows).
    const float rowHeight = ImGui::GetTextLineHeight() + 2 * ImGui::GetStyle().CellPadding.y;
    const float tableHeight =
        std::min(rowHeight * float(rows.size() + 1) + ImGui::GetStyle().ScrollbarSize + 2,
                 std::max(4.0f * ImGui::GetFrameHeight(), ImGui::GetContentRegionAvail().y / 3.0f));
    if (!ImGui::BeginTable("summary", withCompare ? 12 : 6, flags, ImVec2(0, tableHeight))) return;
    for (const char* header : {"method", "loss", "rate", "cost", "recovery", "agreement"})
        ImGui::TableSetupColumn(header);
    if (withCompare)  // B is the compared run; Δ = B − this run
        for (const char* header : {"loss B", "recovery B", "\u0394 loss", "\u0394 rate",
                                   "\u0394 recovery", "\u0394 agreement"})
            ImGui::TableSetupColumn(header);
    ImGui::TableHeadersRow();
    for (const auto& row : rows)
        drawSummaryRow(row, withCompare);
    ImGui::EndTable();
    drawAdvantageLine(m_state.advantageSplit(), withCi);
    if (!m_state.compareNote().empty()) ImGui::TextWrapped("%s", m_state.compareNote().c_str());
}

}  // namespace ponder::studio
