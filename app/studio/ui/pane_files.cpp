// Files pane (inputs, model, recent), the std::filesystem file browser, and the run history.
#include <algorithm>
#include <cstdio>
#include <thread>

#include <imgui.h>
#include <imgui_internal.h>  // RenderTextEllipsis, for the history's two-line rows

#include "app/studio/ui/history_row.h"
#include "app/studio/ui/studio_app.h"
#include "core/model/backbone.h"

namespace ponder::studio {

namespace fs = std::filesystem;

void Studio::drawFilesPane() {
    ImGui::TextDisabled("MODEL");
    if (m_settings.modelDir.empty() || m_modelMissing)
        ImGui::TextColored(ImVec4(1, 0.5f, 0.4f, 1), "%s",
                           m_settings.modelDir.empty()
                               ? "No model: File > Open model... (or make one with\n"
                                 "`ponder make-test-model DIR --ttt`)"
                               : "The model could not be loaded (see Log).");
    ImGui::TextWrapped("%s", m_settings.modelDir.empty() ? "(none)" : m_settings.modelDir.c_str());
    if (m_modelSummaryFor != m_settings.modelDir) {  // read config.json once per choice
        m_modelSummaryFor = m_settings.modelDir;
        try {
            m_modelSummary = m_settings.modelDir.empty()
                                 ? ""
                                 : core::backboneInfoFromConfig(m_settings.modelDir).describe();
        } catch (const std::exception&) {
            m_modelSummary.clear();  // the load itself reports the problem in the Log
        }
    }
    if (!m_modelSummary.empty()) {  // wrapped: the pane is narrower than the summary
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
        ImGui::TextWrapped("%s", m_modelSummary.c_str());
        ImGui::PopStyleColor();
    }
    if (ImGui::SmallButton("Choose model...")) {
        m_browserTarget = "model";
        m_showBrowser = true;
    }
    drawRunSettings();
    ImGui::TextDisabled("INPUTS");
    for (const auto& input : m_inputs)
        ImGui::TextWrapped("%s", input.c_str());
    if (ImGui::SmallButton("Open...")) {
        m_browserTarget = "input";
        m_showBrowser = true;
    }
    ImGui::SameLine();
    if (ImGui::SmallButton("Datasets...")) m_showDatasets = true;
    ImGui::SameLine();
    if (ImGui::SmallButton(m_worker.busy() ? "Cancel" : "Run")) {
        if (m_worker.busy())
            m_worker.cancel();
        else
            startRun();
    }
    const auto& files = m_state.files();
    if (files.size() > 1) {
        ImGui::TextDisabled("FILES IN RUN");
        for (std::size_t i = 0; i < files.size(); ++i)
            if (ImGui::Selectable(files[i].path.filename().string().c_str(), m_sourceFile == i))
                m_sourceFile = i;
    }
}

void Studio::drawRunSettings() {
    // Applied to the next run (a run in progress keeps what it started with).
    ImGui::PushItemWidth(ImGui::GetFontSize() * 7);
    if (ImGui::BeginCombo("device", m_settings.device.c_str())) {
        for (const auto& device : m_devices)
            if (ImGui::Selectable(device.c_str(), device == m_settings.device))
                m_settings.device = device;
        ImGui::EndCombo();
    }
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("device of the next run (CUDA devices appear when LibTorch has CUDA)");
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    ImGui::SliderInt("threads", &m_settings.threads, 0, cores,
                     m_settings.threads == 0 ? "all" : "%d");
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("LibTorch threads of the next run (0: all cores)");
    // The rest of `ponder eval`'s options, folded away: most runs keep the defaults.
    if (ImGui::TreeNode("evaluation options")) {
        auto& run = m_runOptions;
        int mode = run.mode == core::EvalMode::Paper ? 1 : 0;
        if (ImGui::Combo("mode", &mode, "file\0paper\0"))
            run.mode = mode ? core::EvalMode::Paper : core::EvalMode::File;
        if (ImGui::IsItemHovered())
            ImGui::SetTooltip(
                "file: one chunk of one file per unit; paper: files joined, "
                "batches of 16 two-chunk windows (algorithm.md §4)");
        int chunk = int(run.chunk);
        if (ImGui::InputInt("chunk", &chunk, 64, 256) && chunk > 0) run.chunk = chunk;
        int maxUnits = run.maxUnits ? int(*run.maxUnits) : 0;
        if (ImGui::InputInt("max units", &maxUnits, 1, 16))
            run.maxUnits = maxUnits > 0 ? std::optional<std::size_t>(maxUnits) : std::nullopt;
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("the first N units in data order (0: all)");
        ImGui::Checkbox("shuffle", &run.shuffle);
        if (ImGui::IsItemHovered())
            ImGui::SetTooltip("the shuffle ablation: tokens permuted within each chunk");
        bool diagonal = run.causalK == std::optional<std::int64_t>(-1);
        if (ImGui::Checkbox("causal-k -1", &diagonal))
            run.causalK = diagonal ? std::optional<std::int64_t>(-1) : std::nullopt;
        ImGui::Checkbox("bf16", &run.bf16);
        if (ImGui::IsItemHovered())
            ImGui::SetTooltip(
                "the backbone held and computed in bfloat16; the TTT layer and "
                "the losses stay float32");
        ImGui::Checkbox("fast path", &run.fast);
        if (ImGui::IsItemHovered())
            ImGui::SetTooltip(
                "the gated fast path: the policy decides before the UPDATE path "
                "runs, so skipped units have no UPDATE values (design.md §4)");
        ImGui::TreePop();
    }
    ImGui::PopItemWidth();
}

void Studio::drawFileBrowser() {
    if (!m_showBrowser) return;
    ImGui::SetNextWindowSize(ImVec2(560, 440), ImGuiCond_FirstUseEver);
    const char* title = m_browserTarget == "model" ? "Open model folder###browser"
                                                   : "Open file or folder###browser";
    if (ImGui::Begin(title, &m_showBrowser)) {
        ImGui::TextWrapped("%s", m_browseDir.c_str());
        if (ImGui::Button("Up") && m_browseDir.has_parent_path())
            m_browseDir = m_browseDir.parent_path();
        ImGui::SameLine();
        const bool isModel = fs::exists(m_browseDir / "config.json");
        if (ImGui::Button(m_browserTarget == "model" ? "Use this folder as the model"
                                                     : "Evaluate this folder")) {
            if (m_browserTarget == "model") {
                // chooseModel refuses a folder that is no model (an error toast, nothing saved);
                // the browser then stays open to pick another.
                chooseModel(m_browseDir.string());
                if (m_settings.modelDir == m_browseDir.string()) m_showBrowser = false;
            } else {
                openInputs({m_browseDir.string()}, !m_worker.busy());
                m_showBrowser = false;
            }
        }
        if (m_browserTarget == "model" && !isModel)
            ImGui::TextDisabled("(no config.json here: not a model directory)");
        ImGui::Separator();
        ImGui::BeginChild("entries");
        std::vector<fs::directory_entry> entries;
        std::error_code error;
        for (const auto& entry : fs::directory_iterator(m_browseDir, error))
            entries.push_back(entry);
        if (error) ImGui::TextColored(ImVec4(1, 0.5f, 0.4f, 1), "%s", error.message().c_str());
        std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
            if (a.is_directory() != b.is_directory()) return a.is_directory();
            return a.path().filename() < b.path().filename();
        });
        for (const auto& entry : entries) {
            const auto name = entry.path().filename().string();
            if (!name.empty() && name[0] == '.') continue;
            if (entry.is_directory()) {
                if (ImGui::Selectable((name + "/").c_str(), false,
                                      ImGuiSelectableFlags_AllowDoubleClick))
                    m_browseDir = entry.path();
            } else if (m_browserTarget == "input") {
                if (ImGui::Selectable(name.c_str())) {
                    openInputs({entry.path().string()}, !m_worker.busy());
                    m_showBrowser = false;
                }
            } else {
                ImGui::TextDisabled("%s", name.c_str());
            }
        }
        ImGui::EndChild();
    }
    ImGui::End();
}

void Studio::drawHistoryPane() {
    ImGui::TextDisabled("RUN HISTORY");
    ImGui::SameLine();
    if (ImGui::SmallButton("Refresh") || m_historyDirty) {
        if (!m_worker.busy()) refreshHistory();
    }
    ImGui::BeginChild("history", ImVec2(0, 0));
    const float line = ImGui::GetTextLineHeight();
    const ImU32 mutedColour = ImGui::GetColorU32(ImGuiCol_TextDisabled);
    for (const auto& run : m_history) {
        // Two lines per run: which inputs (and its label), then mode, model and status,
        // each elided to the pane's width. RunSummary has no input paths yet: the first line
        // then counts the files.
        const HistoryRow row = historyRow(run);
        const bool compared = m_state.compare() && m_state.compare()->id == run.id;
        ImGui::PushID(static_cast<int>(run.id));
        const ImVec2 at = ImGui::GetCursorScreenPos();
        if (ImGui::Selectable("##run", (m_runId && *m_runId == run.id) || compared, 0,
                              ImVec2(0, 2 * line + 2)))
            reopenRun(run.id);
        const float right = ImGui::GetItemRectMax().x;
        ImDrawList* draw = ImGui::GetWindowDrawList();
        ImGui::RenderTextEllipsis(draw, at, ImVec2(right, at.y + line), right, right,
                                  row.heading.c_str(), nullptr, nullptr);
        ImGui::PushStyleColor(ImGuiCol_Text, mutedColour);
        ImGui::RenderTextEllipsis(draw, ImVec2(at.x, at.y + line + 1),
                                  ImVec2(right, at.y + 2 * line + 1), right, right,
                                  row.detail.c_str(), nullptr, nullptr);
        ImGui::PopStyleColor();
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", row.tooltip.c_str());
        if (ImGui::BeginPopupContextItem()) {
            if (ImGui::MenuItem("Open")) reopenRun(run.id);
            if (ImGui::MenuItem("Compare with the current run", nullptr, compared))
                reopenRun(run.id, true);
            if (ImGui::MenuItem("Stop comparing", nullptr, false, m_state.compare().has_value()))
                m_state.setCompare(std::nullopt);
            ImGui::EndPopup();
        }
        ImGui::PopID();
    }
    ImGui::EndChild();
}

}  // namespace ponder::studio
