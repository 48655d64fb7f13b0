// Where the studio keeps user state: settings.json, imgui.ini and the run
// database under $XDG_CONFIG_HOME/ponder-studio (runs.sqlite under $XDG_DATA_HOME when set),
// never in the working directory.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace ponder::studio {

// $XDG_CONFIG_HOME/ponder-studio, else $HOME/.config/ponder-studio (created on demand).
std::filesystem::path configDir();
// $XDG_DATA_HOME/ponder-studio/runs.sqlite, else configDir()/runs.sqlite.
std::filesystem::path databasePath();

struct Settings {
    bool darkTheme = true;
    float fontScale = 1.0f;
    std::string modelDir;
    std::vector<std::string> recent;  // most recent first, at most 10
    float leftRatio = 0.22f;          // files/tune column width over the window width
    float sourceRatio = 0.36f;        // source pane width over the rest
    int threads = 0;                  // 0: all cores
    std::string device = "cpu";       // "cpu" or "cuda:N", applied to the next run
    float dpiScale = 0.0f;            // plots' line and marker scale; 0: the monitor's own
    // The workbench as the user left it (View > Reset layout restores these).
    int windowWidth = 0, windowHeight = 0;  // 0: 1280 x 800
    // The stacked chunk plots' shares of the room the Plots tab has past their least heights:
    // signal, advantage, decisions (dragged by the splitters between them).
    std::vector<float> plotShares = {0.4f, 0.35f, 0.25f};
    std::string rightTab = "plots";  // plots, a figure's stem (fig_sweep, ...), chunks, files
    std::string enlargedPlot;        // a figure's stem shown over the whole right side, or ""
    float chunkPlotRatio = 0.3f;     // the one-chunk plot's share of the source column
    std::string chunkSort;           // the chunk table's sort column, "" for run order
    bool chunkSortAscending = true;

    void addRecent(const std::string& path);
    void resetLayout();
};

// Missing or malformed files give the defaults (a broken settings file must not stop the app).
Settings loadSettings(const std::filesystem::path& file);
void saveSettings(const Settings& settings, const std::filesystem::path& file);

}  // namespace ponder::studio
