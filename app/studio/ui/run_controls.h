// Run controls that must not move or surprise: the progress row whose Cancel stays put while
// the ETA text changes, and Quit that asks first while a run or batch is busy. Plain ImGui
// (no Studio), so tests drive them headless.
#pragma once
#include <string>

#include <imgui.h>

namespace ponder::studio {

// [Cancel] [progress bar] text, at the cursor. Cancel comes first so it stays under the mouse
// while the text ("12/340 units  812 tokens/s  ETA 95 s") grows or shrinks. The text is clipped
// `reserveRight` pixels before the end of the row, where the caller puts more (the Log button).
// Returns true when Cancel was clicked.
bool progressWithCancel(float fraction, const std::string& text, float barWidth,
                        float reserveRight = 0);

// One line of text at the cursor, clipped `reserveRight` pixels before the end of the row.
void clippedText(const std::string& text, float reserveRight);

// File > Quit: quits at once when nothing is busy, else asks in a modal ("A run is in
// progress. Quit anyway?"), defaulting to keep running.
class QuitPrompt {
public:
    static constexpr const char* kTitle = "Quit?###quit-confirm";

    // From the menu item (popups opened inside a menu would be keyed to the menu's ID stack,
    // so this only records the wish; draw() acts on it).
    void request() { m_requested = true; }
    // Once per frame at window level, outside menus. True when the studio should close now:
    // asked while nothing was busy, or "Quit anyway" was clicked.
    bool draw(bool busy);

    // Where the last draw put the modal's buttons (screen pixels; for tests).
    ImVec2 quitButtonCentre() const { return m_quitAt; }
    ImVec2 keepButtonCentre() const { return m_keepAt; }

private:
    bool m_requested = false;
    ImVec2 m_quitAt{-1, -1}, m_keepAt{-1, -1};
};

}  // namespace ponder::studio
