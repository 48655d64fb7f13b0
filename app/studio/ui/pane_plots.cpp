// Tune pane (rate, policy, signal, α, calibration → instant replay), the four x-linked plots
// and the summary table.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <imgui.h>

#include "app/studio/ui/studio_app.h"
#include "core/util/errors.h"
#include "viz/figure_export.h"

namespace ponder::studio {

void Studio::drawTunePane() {
    ImGui::TextDisabled("TUNE");
    TuneSettings tune = m_state.tune();
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
    // Built-in policies, then learned gates (gates.md §2-3): the model's own gate folder, the
    // one in use and any folder typed below.
    auto policies = core::policyNames();
    policies.erase(std::remove_if(policies.begin(), policies.end(), core::isGatePolicy),
                   policies.end());
    const auto ownGate = std::filesystem::path(m_settings.modelDir) / "gate";
    if (std::filesystem::exists(ownGate / "gate.json"))
        policies.push_back("gate:" + ownGate.string());
    if (core::isGatePolicy(tune.policy) &&
        std::find(policies.begin(), policies.end(), tune.policy) == policies.end())
        policies.push_back(tune.policy);
    if (ImGui::BeginCombo("policy", tune.policy.c_str())) {
        for (const auto& name : policies)
            if (ImGui::Selectable(name.c_str(), name == tune.policy)) tune.policy = name;
        ImGui::EndCombo();
    }
    ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x - 80);
    ImGui::InputTextWithHint("##gate", "gate folder (ponder train-gate --out)", m_gateDir,
                             sizeof m_gateDir);
    ImGui::SameLine();
    if (ImGui::Button("use gate") && m_gateDir[0] != '\0') tune.policy = "gate:" + std::string(m_gateDir);
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("replay a learned gate over this run; its rate is its own, not the slider's");
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

void Studio::drawPlotsPane() {
    drawSummaryTable();
    const auto& figures = m_state.figures();
    if (m_state.units().empty()) {
        ImGui::TextDisabled(m_worker.busy() ? "Waiting for the first chunk..."
                                            : "No chunks yet: run an evaluation (Ctrl+R).");
    }
    if (m_plotFont) ImGui::PushFont(m_plotFont);
    // Rows: signal, advantage, the decision strip (two rows of cells need little height), and
    // the scatter beside the sweep, so the chunk plots keep their height with five figures.
    // Smallest heights in lines of the plot font: titles, legends and tick labels grow with
    // View > Font scale, and a plot must keep room for its data (at scale 1 these equal the
    // pixel minimums; past that the pane scrolls instead of squashing the plots to nothing).
    const float dpi = dpiScale();
    const float font = ImGui::GetFontSize();
    const float stripHeight = std::max(100.0f * dpi, 6.5f * font);
    const float spacing = ImGui::GetStyle().ItemSpacing.y;
    const float avail = ImGui::GetContentRegionAvail().y - stripHeight - 3 * spacing;
    // The half-width pair gets the most height: its legends wrap onto more rows.
    const float chunkHeight = std::max({110.0f * dpi, 9.0f * font, avail * 0.3f});
    const float pairHeight = std::max({140.0f * dpi, 11.0f * font, avail - 2 * chunkHeight});
    const float halfWidth =
        (ImGui::GetContentRegionAvail().x - ImGui::GetStyle().ItemSpacing.x) / 2.0f;
    for (std::size_t i = 0; i < figures.size() && i < m_plots.size(); ++i) {
        const auto& stem = figures[i].stem;
        // The scatter and the sweep have their own x axes; the chunk plots share one.
        const bool chunkAxis =
            stem == "fig_signal" || stem == "fig_advantage" || stem == "fig_decisions";
        viz::PlotOptions options;
        options.size = ImVec2(chunkAxis ? 0 : halfWidth, stem == "fig_decisions" ? stripHeight
                                                         : chunkAxis             ? chunkHeight
                                                                                 : pairHeight);
        options.dpiScale = dpi;
        // The selection is a unit: the chunk plots mark its chunk and the scatter its point
        // (scatter points are units, by id); the sweep's points are rates, not units.
        if (chunkAxis || stem == "fig_scatter") options.selectedUnit = m_state.selected;
        if (stem == "fig_sweep") ImGui::SameLine();
        const auto events = chunkAxis ? m_plots[i].draw(figures[i].figure, m_xAxis, options)
                                      : m_plots[i].draw(figures[i].figure, options);
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
                exportOptions.heightPt *= figures[i].heightScale;
                viz::exportFigure(m_plots[i].snapshot(figures[i].figure), *events.exportRequested,
                                  path, exportOptions);
                report({LogLine::Level::Info, "wrote " + path.string(), {}});
            } catch (...) {
                report(errorLine(std::current_exception()));
            }
        }
    }
    if (m_plotFont) ImGui::PopFont();
}

void Studio::drawSummaryTable() {
    const auto& rows = m_state.summary();
    if (rows.empty()) return;
    const auto& compare = m_state.compare();
    if (compare) {
        const std::string name = "run " + std::to_string(compare->id);
        ImGui::TextDisabled("B: comparing with %s%s%s (%zu of %zu units matched by file and "
                            "chunk; dashed in the plots)",
                            name.c_str(), compare->title == name ? "" : ": ",
                            compare->title == name ? "" : compare->title.c_str(),
                            m_state.compareMatched(), m_state.units().size());
        ImGui::SameLine();
        if (ImGui::SmallButton("Stop comparing")) m_state.setCompare(std::nullopt);
    }
    const bool withCompare = compare.has_value();
    // Columns fit their text, never cut a number short (a larger font scale, a CI, a long
    // policy name); a narrow pane scrolls the table sideways.
    const bool withCi = rows.front().lossCi.has_value();
    const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg |
                                  ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_ScrollX;
    // A scrolling table needs its height.
    const float tableHeight =
        ImGui::GetFrameHeight() * float(rows.size() + 1) + ImGui::GetStyle().ScrollbarSize;
    if (!ImGui::BeginTable("summary", withCompare ? 12 : 6, flags, ImVec2(0, tableHeight))) return;
    for (const char* header : {"method", "loss", "rate", "cost", "recovery", "agreement"})
        ImGui::TableSetupColumn(header);
    if (withCompare)  // B is the compared run; Δ = B − this run
        for (const char* header :
             {"loss B", "recovery B", "\u0394 loss", "\u0394 rate", "\u0394 recovery",
              "\u0394 agreement"})
            ImGui::TableSetupColumn(header);
    ImGui::TableHeadersRow();
    const auto cell = [](const char* format, double value) {
        ImGui::TableNextColumn();
        if (std::isnan(value))
            ImGui::TextDisabled("-");
        else
            ImGui::Text(format, value);
    };
    // A value with its bootstrap CI: the interval in muted text, the detail on hover.
    const auto cellCi = [&](const char* format, double value,
                            const std::optional<core::BootstrapInterval>& ci, double scale) {
        cell(format, value);
        if (!ci || std::isnan(ci->low)) return;
        ImGui::SameLine(0, 4);
        const int decimals = scale > 1 ? 1 : 4;
        ImGui::TextDisabled("[%.*f, %.*f]", decimals, scale * ci->low, decimals, scale * ci->high);
        if (ImGui::IsItemHovered())
            ImGui::SetTooltip("95%% percentile block bootstrap over %zu files (%zu resamples)",
                              ci->blocks, ci->resamples);
    };
    for (const auto& row : rows) {
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(row.method.c_str());
        if (row.ownRate) {
            ImGui::SameLine(0, 4);
            ImGui::TextDisabled("(own rate)");
            if (ImGui::IsItemHovered())
                ImGui::SetTooltip("ρ does not set this policy's budget: its recovery and "
                                  "agreement are against the Oracle with as many updates "
                                  "as it made");
        }
        cellCi("%.4f", row.summary.loss, row.lossCi, 1);
        // The seeded draw on hover: the row is the expectation, labelled so; the files keep
        // the draw under "Random Skip" (algorithm.md §8.1).
        if (row.seededDraw && ImGui::IsItemHovered())
            ImGui::SetTooltip("Expected loss and rate of Random at the target rate. The seeded "
                              "draw, which the JSON and the exports keep as \"Random Skip\": "
                              "loss %.4f at rate %.2f",
                              row.seededDraw->loss, row.seededDraw->rate);
        cell("%.2f", row.summary.rate);
        cell("%.2f", row.summary.cost);
        cellCi("%.1f%%", 100 * row.summary.recovery, row.recoveryCi, 100);
        cell("%.1f%%", 100 * row.summary.agreement);
        if (withCompare) {
            const auto delta = [&](double core::PolicySummary::*field) {
                return row.compare ? (*row.compare).*field - row.summary.*field : core::kNaN;
            };
            cell("%.4f", row.compare ? row.compare->loss : core::kNaN);
            cell("%.1f%%", row.compare ? 100 * row.compare->recovery : core::kNaN);
            cell("%+.4f", delta(&core::PolicySummary::loss));
            cell("%+.2f", delta(&core::PolicySummary::rate));
            cell("%+.1f%%", 100 * delta(&core::PolicySummary::recovery));
            cell("%+.1f%%", 100 * delta(&core::PolicySummary::agreement));
        }
    }
    ImGui::EndTable();
    // Too few files make no interval worth the name (algorithm.md §8.3).
    if (!withCi)
        ImGui::TextDisabled("95%% CIs need %zu+ files", core::kMinBootstrapBlocks);
    if (!m_state.compareNote().empty()) ImGui::TextWrapped("%s", m_state.compareNote().c_str());
}

}  // namespace ponder::studio
