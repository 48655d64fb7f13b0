// The floating tool windows: batch export (files × rates → a folder, with progress and cancel)
// and the dataset browser (recipes, manifests and built corpora by split and language).
#include <algorithm>
#include <cstdio>

#include <imgui.h>

#include "app/studio/ui/studio_app.h"

namespace ponder::studio {

void Studio::drawBatchWindow() {
    if (!m_showBatch) return;
    ImGui::SetNextWindowSize(ImVec2(560, 340), ImGuiCond_FirstUseEver);
    if (ImGui::Begin("Batch export", &m_showBatch)) {
        ImGui::TextWrapped(
            "Evaluates each input file (a folder gives its files) as a stored run, then writes "
            "the tables over all runs and each run's figures for every rate into "
            "<folder>/rate-<rate>/. The policy, signal, alpha and calibration are the Tune "
            "pane's.");
        ImGui::Separator();
        ImGui::TextDisabled("inputs (%zu; set by File > Open or the dataset browser):",
                            m_inputs.size());
        ImGui::BeginChild("batch-inputs", ImVec2(0, ImGui::GetTextLineHeightWithSpacing() * 4),
                          true);
        for (const auto& input : m_inputs)
            ImGui::TextUnformatted(input.c_str());
        ImGui::EndChild();
        const bool busy = m_batch.busy();
        if (busy) ImGui::BeginDisabled();
        ImGui::InputText("rates", m_batchRates, sizeof m_batchRates);
        ImGui::InputText("folder", m_batchDir, sizeof m_batchDir);
        if (ImGui::Button("Start") && !busy) startBatch();
        if (busy) ImGui::EndDisabled();
        if (busy || m_batch.phase() != BatchExporter::Phase::Idle) {
            ImGui::SameLine();
            ImGui::ProgressBar(float(m_batch.progress()), ImVec2(-80, 0));
            ImGui::SameLine();
            if (busy) {
                if (ImGui::Button("Cancel")) m_batch.cancel();
            } else {
                const auto phase = m_batch.phase();
                ImGui::TextUnformatted(phase == BatchExporter::Phase::Finished    ? "done"
                                       : phase == BatchExporter::Phase::Cancelled ? "cancelled"
                                                                                  : "failed");
            }
            ImGui::TextDisabled("%s", busy ? m_batch.step().c_str() : "");
            if (!busy && !m_batch.written().empty())
                ImGui::TextWrapped("%zu files in %s", m_batch.written().size(), m_batchDir);
        }
    }
    ImGui::End();
}

void Studio::drawDatasetsWindow() {
    if (!m_showDatasets) return;
    ImGui::SetNextWindowSize(ImVec2(620, 480), ImGuiCond_FirstUseEver);
    if (!ImGui::Begin("Datasets", &m_showDatasets)) {
        ImGui::End();
        return;
    }
    if (!m_datasetsScanned || ImGui::SmallButton("Rescan")) {
        m_datasetsScanned = true;
        m_datasets = m_datasetsRoot.empty() ? std::vector<Dataset>{} : scanDatasets(m_datasetsRoot);
    }
    ImGui::SameLine();
    ImGui::TextDisabled(
        "%s", m_datasetsRoot.empty() ? "no datasets/ folder found" : m_datasetsRoot.c_str());
    const bool canOpen = !m_datasetSelection.empty() && !m_worker.busy();
    if (!canOpen) ImGui::BeginDisabled();
    char label[64];
    std::snprintf(label, sizeof label, "Open %zu selected", m_datasetSelection.size());
    if (ImGui::Button(label)) {
        openInputs({m_datasetSelection.begin(), m_datasetSelection.end()}, true);
        m_showDatasets = false;
    }
    if (!canOpen) ImGui::EndDisabled();
    ImGui::SameLine();
    if (ImGui::Button("Clear selection")) m_datasetSelection.clear();
    ImGui::Separator();
    ImGui::BeginChild("datasets");
    for (const auto& d : m_datasets)
        drawDataset(d);
    ImGui::EndChild();
    ImGui::End();
}

// One dataset's node: what it is, whether it is built, then its splits.
void Studio::drawDataset(const Dataset& d) {
    char title[256];
    std::snprintf(title, sizeof title, "%s  (%s%s, %zu files built)###%s", d.name.c_str(),
                  d.language.empty() ? "?" : d.language.c_str(),
                  d.recipe.empty() ? ", no recipe" : "", d.files.size(), d.name.c_str());
    if (!ImGui::TreeNode(title)) return;
    if (!d.description.empty()) ImGui::TextWrapped("%s", d.description.c_str());
    if (!d.manifest.empty())
        ImGui::TextDisabled("manifest: %zu files (%s)", d.manifestFiles,
                            d.manifest.filename().c_str());
    if (!d.error.empty()) ImGui::TextColored(ImVec4(1, 0.5f, 0.4f, 1), "%s", d.error.c_str());
    if (d.built.empty()) {
        ImGui::TextDisabled("not built: datasets/build_all.sh (or `ponder corpus build`)");
    } else if (d.missingFiles) {
        ImGui::TextDisabled("%zu files of the manifest are missing on disk", d.missingFiles);
    }
    for (const auto& split : d.splits()) {
        ImGui::PushID(split.c_str());
        const bool open = ImGui::TreeNode("split", "%s", split.c_str());
        ImGui::SameLine();
        if (ImGui::SmallButton("open folder") && !m_worker.busy()) {
            openInputs({(d.built / split).string()}, true);
            m_showDatasets = false;
        }
        if (open) {
            for (const auto& language : d.languages(split)) {
                std::vector<const DatasetFile*> files;
                for (const auto& f : d.files)
                    if (f.split == split && f.language == language) files.push_back(&f);
                ImGui::PushID(language.c_str());
                drawDatasetFiles(language, files);
                ImGui::PopID();
            }
            ImGui::TreePop();
        }
        ImGui::PopID();
    }
    ImGui::TreePop();
}

// One language of one split: "select all", then a checkbox per file.
void Studio::drawDatasetFiles(const std::string& language,
                              const std::vector<const DatasetFile*>& files) {
    const bool open = ImGui::TreeNode("lang", "%s (%zu files)", language.c_str(), files.size());
    ImGui::SameLine();
    if (ImGui::SmallButton("select all"))
        for (const auto* f : files)
            m_datasetSelection.insert(f->onDisk.string());
    if (!open) return;
    // Thousands of files: only the visible rows are laid out.
    ImGuiListClipper clipper;
    clipper.Begin(int(files.size()));
    while (clipper.Step())
        for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
            const auto* f = files[std::size_t(i)];
            const auto key = f->onDisk.string();
            bool selected = m_datasetSelection.count(key) > 0;
            char row[512];
            std::snprintf(row, sizeof row, "%s  (%llu tokens)##%d", f->path.c_str(),
                          (unsigned long long)f->tokens, i);
            if (ImGui::Checkbox(row, &selected)) {
                if (selected)
                    m_datasetSelection.insert(key);
                else
                    m_datasetSelection.erase(key);
            }
        }
    ImGui::TreePop();
}

}  // namespace ponder::studio
