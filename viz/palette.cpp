// Okabe-Ito palette: distinguishable under the common colour-vision deficiencies; themes.
#include "viz/palette.h"

#include <array>

namespace ponder::viz {

Rgb seriesColour(std::size_t index) {
    static constexpr std::array<Rgb, 8> kOkabeIto{{
        {0, 114, 178},    // blue
        {230, 159, 0},    // orange
        {0, 158, 115},    // bluish green
        {213, 94, 0},     // vermillion
        {204, 121, 167},  // reddish purple
        {86, 180, 233},   // sky blue
        {240, 228, 66},   // yellow
        {0, 0, 0},        // black
    }};
    return kOkabeIto[index % kOkabeIto.size()];
}

Rgba toRgba(Rgb colour, float alpha) {
    return {colour.r / 255.0f, colour.g / 255.0f, colour.b / 255.0f, alpha};
}

Theme lightTheme() {
    Theme theme;
    theme.dark = false;
    theme.background = {1, 1, 1, 1};
    theme.plotBackground = {1, 1, 1, 1};
    theme.foreground = {0.10f, 0.10f, 0.12f, 1};
    theme.muted = {0.42f, 0.42f, 0.46f, 1};
    theme.grid = {0.88f, 0.88f, 0.90f, 1};
    return theme;
}

Theme darkTheme() {
    Theme theme;
    theme.dark = true;
    theme.background = {0.11f, 0.11f, 0.13f, 1};
    theme.plotBackground = {0.08f, 0.08f, 0.10f, 1};
    theme.foreground = {0.90f, 0.90f, 0.92f, 1};
    theme.muted = {0.62f, 0.62f, 0.66f, 1};
    theme.grid = {0.22f, 0.22f, 0.26f, 1};
    return theme;
}

Rgba resolveColour(const Colour& colour, const Theme& theme) {
    Rgba out;
    switch (colour.role) {
        case ColourRole::Series: {
            const auto index = static_cast<std::size_t>(colour.index < 0 ? 0 : colour.index);
            out = (theme.dark && index % 8 == kBlack) ? theme.foreground
                                                      : toRgba(seriesColour(index));
            break;
        }
        case ColourRole::Foreground:
            out = theme.foreground;
            break;
        case ColourRole::Muted:
            out = theme.muted;
            break;
        case ColourRole::Custom:
            out = colour.custom;
            break;
    }
    out.a *= colour.alpha;
    return out;
}

}  // namespace ponder::viz
