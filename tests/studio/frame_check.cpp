// Checks the plot frames a studio screenshot shows: each frame that --dump-view listed as whole
// (not scrolled partly out of its pane) lies in the window, keeps at least MIN_HEIGHT pixels, does
// not overlap another, and is really drawn there (its left axis spine is ink along its height).
// Usage:
//   studio_frame_check SHOT.png VIEW.json MIN_HEIGHT [PLOT[=MIN]...]
// Each PLOT named must be listed whole, at least its own MIN high when given.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <stb_image.h>
#include <nlohmann/json.hpp>

namespace {

struct Frame {
    std::string plot;
    double x0, y0, x1, y1;
    bool whole;
};

// Whether column x (give or take one: the spine is one pixel wide, maybe anti-aliased over
// two) holds a pixel that stands out from the figure's background a few pixels left of it,
// between the spine's ticks and their labels: the spine is drawn in the theme's foreground.
bool spineAt(const unsigned char* pixels, int w, int x, int y) {
    const auto luminance = [&](int cx) {
        const unsigned char* p = pixels + (std::size_t(y) * w + std::clamp(cx, 0, w - 1)) * 3;
        return (p[0] + p[1] + p[2]) / 3;
    };
    const int background = luminance(x - 6);
    int contrast = 0;
    for (int dx = -1; dx <= 1; ++dx)
        contrast = std::max(contrast, std::abs(luminance(x + dx) - background));
    return contrast > 60;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: studio_frame_check SHOT.png VIEW.json MIN_HEIGHT [PLOT...]\n");
        return 2;
    }
    int w = 0, h = 0, channels = 0;
    unsigned char* pixels = stbi_load(argv[1], &w, &h, &channels, 3);
    if (!pixels) {
        std::printf("FAIL cannot read %s as PNG\n", argv[1]);
        return 1;
    }
    std::ifstream in(argv[2]);
    const auto view = nlohmann::json::parse(in, nullptr, false);
    if (view.is_discarded() || !view.contains("plot_frames")) {
        std::printf("FAIL %s has no plot_frames\n", argv[2]);
        return 1;
    }
    const double minHeight = std::atof(argv[3]);
    std::vector<Frame> frames;
    for (const auto& f : view["plot_frames"])
        if (f.value("whole", true))
            frames.push_back({f["plot"], f["x0"], f["y0"], f["x1"], f["y1"], true});
    int failures = 0;
    std::map<std::string, double> ownMinimum;
    for (int i = 4; i < argc; ++i) {
        std::string name = argv[i];
        const auto equals = name.find('=');
        if (equals != std::string::npos) {
            ownMinimum[name.substr(0, equals)] = std::atof(name.c_str() + equals + 1);
            name.resize(equals);
        }
        bool listed = false;
        for (const auto& f : frames)
            listed |= f.plot == name;
        if (!listed) {
            std::printf("FAIL %s was not drawn whole\n", name.c_str());
            ++failures;
        }
    }
    for (std::size_t i = 0; i < frames.size(); ++i) {
        const auto& f = frames[i];
        const double height = f.y1 - f.y0;
        std::printf("%-14s frame %4.0f,%4.0f .. %4.0f,%4.0f  height %3.0f px\n", f.plot.c_str(),
                    f.x0, f.y0, f.x1, f.y1, height);
        if (f.x0 < 0 || f.y0 < 0 || f.x1 > w || f.y1 > h) {
            std::printf("FAIL %s lies outside the %dx%d window\n", f.plot.c_str(), w, h);
            ++failures;
            continue;
        }
        const double least = ownMinimum.count(f.plot) ? ownMinimum[f.plot] : minHeight;
        if (height < least) {
            std::printf("FAIL %s is %.0f px high, under %.0f\n", f.plot.c_str(), height, least);
            ++failures;
        }
        for (std::size_t j = i + 1; j < frames.size(); ++j) {
            const auto& g = frames[j];
            if (f.x0 < g.x1 && g.x0 < f.x1 && f.y0 < g.y1 && g.y0 < f.y1) {
                std::printf("FAIL %s overlaps %s\n", f.plot.c_str(), g.plot.c_str());
                ++failures;
            }
        }
        int inked = 0, rows = 0;
        const int x = int(std::lround(f.x0));
        for (int y = int(std::ceil(f.y0)) + 1; y < int(f.y1) - 1; ++y, ++rows)
            inked += spineAt(pixels, w, x, y);
        if (rows == 0 || inked < 0.9 * rows) {
            std::printf("FAIL %s: its axis is not on screen (%d of %d rows of the spine drawn)\n",
                        f.plot.c_str(), inked, rows);
            ++failures;
        }
    }
    stbi_image_free(pixels);
    return failures ? 1 : 0;
}
