// settings.json read and written with nlohmann-json; XDG directories.
#include "app/studio/state/settings.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/util/file_io.h"

namespace ponder::studio {

namespace fs = std::filesystem;

namespace {

fs::path envDir(const char* name, const char* homeFallback) {
    if (const char* value = std::getenv(name); value && *value) return fs::path(value);
    if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / homeFallback;
    return fs::temp_directory_path();
}

}  // namespace

fs::path configDir() {
    const auto dir = envDir("XDG_CONFIG_HOME", ".config") / "ponder-studio";
    std::error_code ignored;
    fs::create_directories(dir, ignored);
    return dir;
}

fs::path databasePath() {
    if (const char* data = std::getenv("XDG_DATA_HOME"); data && *data) {
        const auto dir = fs::path(data) / "ponder-studio";
        std::error_code ignored;
        fs::create_directories(dir, ignored);
        return dir / "runs.sqlite";
    }
    return configDir() / "runs.sqlite";
}

void Settings::addRecent(const std::string& path) {
    recent.erase(std::remove(recent.begin(), recent.end(), path), recent.end());
    recent.insert(recent.begin(), path);
    if (recent.size() > 10) recent.resize(10);
}

void Settings::resetLayout() {
    const Settings defaults;
    leftRatio = defaults.leftRatio;
    sourceRatio = defaults.sourceRatio;
    plotShares = defaults.plotShares;
    rightTab = defaults.rightTab;
    enlargedPlot = defaults.enlargedPlot;
    chunkPlotRatio = defaults.chunkPlotRatio;
}

Settings loadSettings(const fs::path& file) {
    Settings settings;
    std::ifstream in(file);
    if (!in) return settings;
    try {
        const auto json = nlohmann::json::parse(in);
        settings.darkTheme = json.value("dark_theme", settings.darkTheme);
        settings.fontScale = json.value("font_scale", settings.fontScale);
        settings.modelDir = json.value("model_dir", settings.modelDir);
        settings.recent = json.value("recent", settings.recent);
        settings.leftRatio = json.value("left_ratio", settings.leftRatio);
        settings.sourceRatio = json.value("source_ratio", settings.sourceRatio);
        settings.threads = json.value("threads", settings.threads);
        settings.device = json.value("device", settings.device);
        settings.dpiScale = json.value("dpi_scale", settings.dpiScale);
        settings.windowWidth = json.value("window_width", settings.windowWidth);
        settings.windowHeight = json.value("window_height", settings.windowHeight);
        settings.plotShares = json.value("plot_shares", settings.plotShares);
        settings.rightTab = json.value("right_tab", settings.rightTab);
        settings.enlargedPlot = json.value("enlarged_plot", settings.enlargedPlot);
        settings.chunkPlotRatio = json.value("chunk_plot_ratio", settings.chunkPlotRatio);
        settings.chunkSort = json.value("chunk_sort", settings.chunkSort);
        settings.chunkSortAscending =
            json.value("chunk_sort_ascending", settings.chunkSortAscending);
    } catch (const std::exception&) {
        return Settings{};
    }
    // A hand-edited or older file: shares that cannot lay out the plots fall back.
    if (settings.plotShares.size() != Settings{}.plotShares.size() ||
        std::any_of(settings.plotShares.begin(), settings.plotShares.end(),
                    [](float share) { return !(share > 0.0f && share < 1.0f); }))
        settings.plotShares = Settings{}.plotShares;
    settings.chunkPlotRatio = std::clamp(settings.chunkPlotRatio, 0.1f, 0.8f);
    return settings;
}

void saveSettings(const Settings& settings, const fs::path& file) {
    nlohmann::json json;
    json["dark_theme"] = settings.darkTheme;
    json["font_scale"] = settings.fontScale;
    json["model_dir"] = settings.modelDir;
    json["recent"] = settings.recent;
    json["left_ratio"] = settings.leftRatio;
    json["source_ratio"] = settings.sourceRatio;
    json["threads"] = settings.threads;
    json["device"] = settings.device;
    json["dpi_scale"] = settings.dpiScale;
    json["window_width"] = settings.windowWidth;
    json["window_height"] = settings.windowHeight;
    json["plot_shares"] = settings.plotShares;
    json["right_tab"] = settings.rightTab;
    json["enlarged_plot"] = settings.enlargedPlot;
    json["chunk_plot_ratio"] = settings.chunkPlotRatio;
    json["chunk_sort"] = settings.chunkSort;
    json["chunk_sort_ascending"] = settings.chunkSortAscending;
    core::writeFileAtomic(file, json.dump(2) + "\n");
}

}  // namespace ponder::studio
