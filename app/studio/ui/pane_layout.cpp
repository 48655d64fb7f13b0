// The workbench frame: menu bar, the three resizable columns with splitters, status bar,
// and the floating Help, Log, Export windows and toasts.
#include <algorithm>
#include <cstdio>

#include <GLFW/glfw3.h>
#include <imgui.h>

#include "app/studio/ui/run_controls.h"
#include "app/studio/ui/studio_app.h"

namespace ponder::studio {

namespace fs = std::filesystem;

bool Studio::splitter(const char* id, float& ratio, float total, float height) {
    ImGui::SameLine(0, 0);
    ImGui::InvisibleButton(id, ImVec2(6, height));
    const bool active = ImGui::IsItemActive();
    if (ImGui::IsItemHovered() || active) ImGui::SetMouseCursor(ImGuiMouseCursor_ResizeEW);
    const ImVec2 min = ImGui::GetItemRectMin(), max = ImGui::GetItemRectMax();
    ImGui::GetWindowDrawList()->AddRectFilled(
        ImVec2(min.x + 2, min.y), ImVec2(max.x - 2, max.y),
        ImGui::GetColorU32(active ? ImGuiCol_SeparatorActive : ImGuiCol_Separator));
    if (active && total > 0) {
        ratio = std::clamp(ratio + ImGui::GetIO().MouseDelta.x / total, 0.1f, 0.8f);
        return true;
    }
    ImGui::SameLine(0, 0);
    return false;
}

void Studio::drawFrame() {
    m_plotFrames.clear();
    const ImGuiViewport* viewport = ImGui::GetMainViewport();
    ImGui::SetNextWindowPos(viewport->Pos);
    ImGui::SetNextWindowSize(viewport->Size);
    ImGui::PushStyleVar(ImGuiStyleVar_WindowRounding, 0);
    ImGui::Begin("PonderTTT Studio", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                     ImGuiWindowFlags_MenuBar | ImGuiWindowFlags_NoBringToFrontOnFocus |
                     ImGuiWindowFlags_NoSavedSettings);
    ImGui::PopStyleVar();
    drawMenuBar();
    const float statusHeight = ImGui::GetFrameHeightWithSpacing() + 4;
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const float height = avail.y - statusHeight;
    const float total = avail.x - 12;
    const float left = total * m_settings.leftRatio;
    const float middle = (total - left) * m_settings.sourceRatio;

    ImGui::BeginChild("left", ImVec2(left, height), true);
    drawFilesPane();
    ImGui::Separator();
    drawTunePane();
    ImGui::Separator();
    drawHistoryPane();
    ImGui::EndChild();
    splitter("##split-left", m_settings.leftRatio, total, height);
    // The source over the selected chunk's per-token plot, a splitter between them.
    ImGui::BeginChild("source", ImVec2(middle, height), true);
    const float columnHeight = ImGui::GetContentRegionAvail().y;
    const float splitterRoom = std::max(6.0f, 0.4f * ImGui::GetFontSize());
    // The chunk plot keeps room for its title, legend and a readable frame while the column
    // has it; past that the user's ratio decides.
    const float plotFont =
        (m_plotFont ? m_plotFont->FontSize : ImGui::GetFontSize()) * ImGui::GetIO().FontGlobalScale;
    const float leastPlot = std::min(0.7f * columnHeight, 12.0f * plotFont);
    m_settings.chunkPlotRatio =
        std::clamp(m_settings.chunkPlotRatio, leastPlot / std::max(columnHeight, 1.0f), 0.8f);
    float sourceShare = 1.0f - m_settings.chunkPlotRatio;
    ImGui::BeginChild("source-text",
                      ImVec2(0, std::max(1.0f, columnHeight * sourceShare - splitterRoom)));
    drawSourcePane();
    ImGui::EndChild();
    if (rowSplitter("##split-chunk", sourceShare, m_settings.chunkPlotRatio, columnHeight))
        m_settings.chunkPlotRatio = std::clamp(m_settings.chunkPlotRatio, 0.1f, 0.8f);
    ImGui::BeginChild("chunk-plot");
    drawChunkPlot();
    ImGui::EndChild();
    ImGui::EndChild();
    splitter("##split-source", m_settings.sourceRatio, total - left, height);
    ImGui::BeginChild("plots", ImVec2(0, height), true);
    drawPlotsPane();
    ImGui::EndChild();
    drawStatusBar();
    if (m_quitPrompt.draw(m_worker.busy() || m_batch.busy()))
        glfwSetWindowShouldClose(glfwGetCurrentContext(), GLFW_TRUE);
    ImGui::End();

    drawFileBrowser();
    drawHelpWindow();
    drawLogWindow();
    drawExportWindow();
    drawBatchWindow();
    drawDatasetsWindow();
    drawToasts();
}

void Studio::drawMenuBar() {
    if (!ImGui::BeginMenuBar()) return;
    if (ImGui::BeginMenu("File")) {
        if (ImGui::MenuItem("Open file or folder...", "Ctrl+O")) {
            m_browserTarget = "input";
            m_showBrowser = true;
        }
        if (ImGui::MenuItem("Open model...")) {
            m_browserTarget = "model";
            m_showBrowser = true;
        }
        if (ImGui::MenuItem("Datasets...")) m_showDatasets = true;
        if (ImGui::BeginMenu("Recent", !m_settings.recent.empty())) {
            for (const auto& recent : m_settings.recent)
                if (ImGui::MenuItem(recent.c_str())) openInputs({recent}, !m_worker.busy());
            ImGui::EndMenu();
        }
        if (ImGui::MenuItem("Export...", "Ctrl+E")) m_showExport = true;
        if (ImGui::MenuItem("Batch export...")) m_showBatch = true;
        // Apart from the items above, and asking first while something runs (run_controls.h).
        ImGui::Spacing();
        ImGui::Separator();
        ImGui::Spacing();
        if (ImGui::MenuItem("Quit")) m_quitPrompt.request();
        ImGui::EndMenu();
    }
    if (ImGui::BeginMenu("Run")) {
        if (ImGui::MenuItem("Run", "Ctrl+R", false, !m_worker.busy())) startRun();
        if (ImGui::MenuItem("Cancel", "Esc", false, m_worker.busy())) m_worker.cancel();
        ImGui::Separator();
        drawRunSettings();
        ImGui::EndMenu();
    }
    if (ImGui::BeginMenu("View")) {
        if (ImGui::MenuItem("Dark theme", nullptr, m_settings.darkTheme)) {
            m_settings.darkTheme = !m_settings.darkTheme;
            applyTheme();
        }
        if (ImGui::SliderFloat("Font scale", &m_settings.fontScale, 0.75f, 2.0f, "%.2f"))
            applyTheme();
        // 0 follows the monitor's content scale; applied on release (it rescales the style).
        ImGui::SliderFloat("DPI scale", &m_settings.dpiScale, 0.0f, 3.0f,
                           m_settings.dpiScale > 0 ? "%.2f" : "auto");
        if (ImGui::IsItemDeactivatedAfterEdit()) applyTheme();
        if (ImGui::MenuItem("Log window", nullptr, m_showLog)) m_showLog = !m_showLog;
        if (ImGui::MenuItem("Reset layout")) {
            m_settings.resetLayout();
            m_rightTabRestored = false;  // back to the Plots tab
            ImGui::LoadIniSettingsFromMemory("");
            std::error_code ignored;
            fs::remove(m_iniPath, ignored);
        }
        if (ImGui::MenuItem("Reset settings")) {
            m_settings = Settings{};
            applyTheme();
        }
        ImGui::EndMenu();
    }
    if (ImGui::BeginMenu("Help")) {
        if (ImGui::MenuItem("Keys, mouse and plots")) m_showHelp = true;
        ImGui::EndMenu();
    }
    ImGui::EndMenuBar();
}

void Studio::drawStatusBar() {
    constexpr float kLogRoom = 70;  // the Log button at the right end of the row
    ImGui::Separator();
    const auto phase = m_worker.phase();
    const std::size_t done = m_worker.done(), total = m_worker.total();
    char text[256];
    if (m_worker.busy()) {
        if (phase == EvalWorker::Phase::Loading)
            std::snprintf(text, sizeof text, "loading model and tokenizing...");
        else
            std::snprintf(text, sizeof text, "%zu/%zu units  %.0f tokens/s  ETA %.0f s", done,
                          total, m_worker.tokensPerSecond(), m_worker.etaSeconds());
        // Cancel first and the text clipped before Log: nothing moves as the ETA changes.
        if (progressWithCancel(total ? float(done) / float(total) : 0.0f, text, 240, kLogRoom))
            m_worker.cancel();
    } else {
        const char* state = phase == EvalWorker::Phase::Finished    ? "finished"
                            : phase == EvalWorker::Phase::Cancelled ? "cancelled"
                            : phase == EvalWorker::Phase::Failed    ? "failed (see Log)"
                                                                    : "idle";
        std::snprintf(text, sizeof text, "%s  |  %zu units  |  model %s  |  %s", state,
                      m_state.units().size(),
                      m_settings.modelDir.empty() ? "(none)" : m_settings.modelDir.c_str(),
                      m_runId ? ("run " + std::to_string(*m_runId)).c_str() : "not stored");
        clippedText(text, kLogRoom);  // a long model path must not run under Log
    }
    ImGui::SameLine(ImGui::GetWindowWidth() - 60);
    if (ImGui::SmallButton("Log")) m_showLog = !m_showLog;
}

void Studio::drawHelpWindow() {
    if (!m_showHelp) return;
    ImGui::SetNextWindowSize(ImVec2(620, 560), ImGuiCond_FirstUseEver);
    if (ImGui::Begin("Help", &m_showHelp)) {
        ImGui::TextWrapped(
            "Keys\n"
            "  Ctrl+O  open a file or folder      Ctrl+R  run the evaluation\n"
            "  Ctrl+E  export tables and figures   Esc     back from an enlarged plot,\n"
            "                                              else cancel the run\n\n"
            "Mouse (plots)\n"
            "  click: select a chunk (everywhere)   wheel: zoom x\n"
            "  drag: pan   right-drag: box zoom   double-click: fit   right-click: menu\n"
            "  double-click a plot's title: enlarge it over the right side (again: back)\n"
            "  click a legend entry to hide or show a series\n"
            "  drag the bars between panes and between the stacked plots to resize them\n\n"
            "Source pane\n"
            "  left strip: chunk decision (green UPDATE, grey SKIP, red edge: Oracle disagrees)\n"
            "  token background: CE_skip - CE_update (blue: the update helped, red: it hurt)\n"
            "  hover a token for its two losses; click to select its chunk\n"
            "  below: the selected chunk's per-token CE, linked to the tokens by hover\n\n"
            "Tabs on the right\n"
            "  Plots: signal (threshold, decisions), advantage, decision strip, x-linked\n"
            "  Signal, Advantage, Decisions, Scatter, Sweep: each plot alone\n"
            "  Chunks: every chunk as a row; click a header to sort, filter above, click a row\n"
            "          to select it, Copy as CSV copies the rows shown\n"
            "  Files: per-file losses and recovery; tick files to show only them (a slice)\n\n"
            "Tune: every change replays the policies over the cached chunks (no recomputation);\n"
            "  beside: more policies on the same run, each with a summary row, a strip row and\n"
            "  a sweep curve.\n"
            "Compare (right-click a run in the history): its signal, threshold and sweep\n"
            "  dashed in the plots, its loss and recovery as B columns.\n"
            "Summary: [low, high] is a 95%% block-bootstrap CI over files (several files).");
    }
    ImGui::End();
}

void Studio::drawLogWindow() {
    if (!m_showLog) return;
    ImGui::SetNextWindowSize(ImVec2(640, 300), ImGuiCond_FirstUseEver);
    if (ImGui::Begin("Log", &m_showLog)) {
        for (const auto& line : m_log) {
            const ImVec4 colour = line.level == LogLine::Level::Error ? ImVec4(1, 0.4f, 0.4f, 1)
                                  : line.level == LogLine::Level::Warning
                                      ? ImVec4(1, 0.8f, 0.3f, 1)
                                      : ImGui::GetStyle().Colors[ImGuiCol_Text];
            ImGui::TextColored(colour, "%s", line.text.c_str());
            if (!line.hint.empty()) ImGui::TextDisabled("  hint: %s", line.hint.c_str());
        }
        if (ImGui::GetScrollY() >= ImGui::GetScrollMaxY()) ImGui::SetScrollHereY(1.0f);
    }
    ImGui::End();
}

void Studio::drawExportWindow() {
    if (!m_showExport) return;
    ImGui::SetNextWindowSize(ImVec2(520, 150), ImGuiCond_FirstUseEver);
    if (ImGui::Begin("Export", &m_showExport)) {
        ImGui::TextWrapped(
            "Tables (CSV, Markdown, LaTeX, JSON) of the stored run and the four "
            "figures (PNG, SVG, PDF) at the current settings.");
        ImGui::InputText("folder", m_exportDir, sizeof m_exportDir);
        if (ImGui::Button("Export")) {
            exportCurrent(m_exportDir);
            m_showExport = false;
        }
    }
    ImGui::End();
}

void Studio::drawToasts() {
    const auto now = std::chrono::steady_clock::now();
    m_toasts.erase(std::remove_if(m_toasts.begin(), m_toasts.end(),
                                  [&](const Toast& t) { return t.until < now; }),
                   m_toasts.end());
    const ImGuiViewport* viewport = ImGui::GetMainViewport();
    float y = viewport->Pos.y + viewport->Size.y - 50;
    int index = 0;
    for (auto it = m_toasts.rbegin(); it != m_toasts.rend(); ++it, ++index) {
        ImGui::SetNextWindowPos(ImVec2(viewport->Pos.x + viewport->Size.x - 20, y),
                                ImGuiCond_Always, ImVec2(1, 1));
        ImGui::SetNextWindowBgAlpha(0.9f);
        const std::string id = "##toast" + std::to_string(index);
        ImGui::Begin(id.c_str(), nullptr,
                     ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_AlwaysAutoResize |
                         ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoFocusOnAppearing |
                         ImGuiWindowFlags_NoNav);
        ImGui::PushTextWrapPos(420);
        ImGui::TextColored(it->error ? ImVec4(1, 0.45f, 0.45f, 1) : ImVec4(0.5f, 0.9f, 0.5f, 1),
                           "%s", it->text.c_str());
        ImGui::PopTextWrapPos();
        y -= ImGui::GetWindowHeight() + 8;
        ImGui::End();
    }
}

}  // namespace ponder::studio
