// Tune pane (rate, policy, signal, α, calibration → instant replay), the four x-linked plots
// and the summary table.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include <imgui.h>

#include "app/studio/studio_app.h"
#include "core/errors.h"
#include "viz/figure_export.h"

namespace ponder::studio {

void Studio::drawTunePane() {
    ImGui::TextDisabled("TUNE");
    TuneSettings tune = m_state.tune();
    float rate = float(tune.rate);
    if (ImGui::SliderFloat("rate", &rate, 0.0f, 1.0f, "%.2f")) tune.rate = double(rate);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("target update rate ρ");
    const auto policies = core::policyNames();
    if (ImGui::BeginCombo("policy", tune.policy.c_str())) {
        for (const auto& name : policies)
            if (ImGui::Selectable(name.c_str(), name == tune.policy)) tune.policy = name;
        ImGui::EndCombo();
    }
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
    const float avail = ImGui::GetContentRegionAvail().y;
    const float height = std::max(140.0f, (avail - 3 * ImGui::GetStyle().ItemSpacing.y) / 4.0f);
    for (std::size_t i = 0; i < figures.size() && i < m_plots.size(); ++i) {
        viz::PlotOptions options;
        options.size = ImVec2(0, height);
        options.selectedUnit = m_state.selected;
        // The scatter and the sweep have their own x axes; the chunk plots share one.
        const bool chunkAxis =
            figures[i].stem == "fig_signal" || figures[i].stem == "fig_advantage";
        const auto events = chunkAxis ? m_plots[i].draw(figures[i].figure, m_xAxis, options)
                                      : m_plots[i].draw(figures[i].figure, options);
        if (events.clickedUnit && figures[i].stem != "fig_sweep") {
            m_state.selected = events.clickedUnit;
            m_scrollToUnit = events.clickedUnit;
        }
        if (events.exportRequested) {
            std::filesystem::path dir(m_exportDir);
            try {
                std::filesystem::create_directories(dir);
                const auto path =
                    dir / (figures[i].stem + "." + viz::extensionOf(*events.exportRequested));
                viz::exportFigure(m_plots[i].snapshot(figures[i].figure), *events.exportRequested,
                                  path);
                report({LogLine::Level::Info, "wrote " + path.string(), {}});
            } catch (const core::PonderError& error) {
                report({LogLine::Level::Error, error.what(), error.hint()});
            } catch (const std::exception& error) {
                report({LogLine::Level::Error, error.what(), "choose a writable export folder"});
            }
        }
    }
    if (m_plotFont) ImGui::PopFont();
}

void Studio::drawSummaryTable() {
    const auto& rows = m_state.summary();
    if (rows.empty()) return;
    const ImGuiTableFlags flags =
        ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp;
    if (!ImGui::BeginTable("summary", 6, flags)) return;
    for (const char* header : {"method", "loss", "rate", "cost", "recovery", "agreement"})
        ImGui::TableSetupColumn(header);
    ImGui::TableHeadersRow();
    const auto cell = [](const char* format, double value) {
        ImGui::TableNextColumn();
        if (std::isnan(value))
            ImGui::TextDisabled("-");
        else
            ImGui::Text(format, value);
    };
    for (const auto& row : rows) {
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(row.method.c_str());
        cell("%.4f", row.summary.loss);
        cell("%.2f", row.summary.rate);
        cell("%.2f", row.summary.cost);
        cell("%.1f%%", 100 * row.summary.recovery);
        cell("%.1f%%", 100 * row.summary.agreement);
    }
    ImGui::EndTable();
}

}  // namespace ponder::studio
