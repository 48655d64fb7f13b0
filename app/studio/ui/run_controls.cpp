// Progress with a fixed Cancel, and the Quit confirmation (see run_controls.h).
#include "app/studio/ui/run_controls.h"

namespace ponder::studio {

namespace {

ImVec2 centreOfLastItem() {
    const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
    return {0.5f * (a.x + b.x), 0.5f * (a.y + b.y)};
}

}  // namespace

bool progressWithCancel(float fraction, const std::string& text, float barWidth,
                        float reserveRight) {
    const bool cancel = ImGui::Button("Cancel");  // full height: level with the bar
    ImGui::SameLine();
    ImGui::ProgressBar(fraction, ImVec2(barWidth, 0));
    ImGui::SameLine();
    clippedText(text, reserveRight);
    return cancel;
}

void clippedText(const std::string& text, float reserveRight) {
    const ImVec2 at = ImGui::GetCursorScreenPos();
    const float room = ImGui::GetContentRegionAvail().x - reserveRight;
    ImGui::PushClipRect(at, ImVec2(at.x + room, at.y + ImGui::GetFrameHeight()), true);
    ImGui::TextUnformatted(text.c_str());
    ImGui::PopClipRect();
}

bool QuitPrompt::draw(bool busy) {
    bool quit = false;
    if (m_requested) {
        m_requested = false;
        if (!busy) return true;
        ImGui::OpenPopup(kTitle);
    }
    const ImVec2 centre = ImGui::GetMainViewport()->GetCenter();
    ImGui::SetNextWindowPos(centre, ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
    if (!ImGui::BeginPopupModal(
            kTitle, nullptr, ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings))
        return false;
    ImGui::TextUnformatted(busy ? "A run is in progress. Quit anyway?"
                                : "The run has ended. Quit?");
    ImGui::TextDisabled("Quitting cancels it.");
    ImGui::Spacing();
    if (ImGui::Button("Quit anyway")) {
        quit = true;
        ImGui::CloseCurrentPopup();
    }
    m_quitAt = centreOfLastItem();
    ImGui::SameLine();
    if (ImGui::Button("Keep running")) ImGui::CloseCurrentPopup();
    m_keepAt = centreOfLastItem();
    ImGui::EndPopup();
    return quit;
}

}  // namespace ponder::studio
