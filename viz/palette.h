// Colour-blind-safe series colours (Okabe & Ito 2008) and the light/dark themes that plots and
// exported figures share, so a figure reads the same on a dark screen and on white paper.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ponder::viz {

struct Rgb {
    std::uint8_t r, g, b;
};

// Colour of the i-th series; cycles through the eight Okabe-Ito colours (black last).
Rgb seriesColour(std::size_t index);

// Palette indices by name, for figures that give colours a meaning.
enum PaletteIndex : int {
    kBlue = 0,
    kOrange = 1,
    kBluishGreen = 2,
    kVermillion = 3,
    kReddishPurple = 4,
    kSkyBlue = 5,
    kYellow = 6,
    kBlack = 7,
};

// Linear 0..1 components with alpha.
struct Rgba {
    float r = 0, g = 0, b = 0, a = 1;
};

Rgba toRgba(Rgb colour, float alpha = 1.0f);

// A colour by role rather than value: series colours come from the palette, axes and text
// from the theme, so one figure description serves both themes.
enum class ColourRole { Series, Foreground, Muted, Custom };

struct Colour {
    ColourRole role = ColourRole::Series;
    int index = 0;  // palette index for Series
    Rgba custom{};  // for Custom
    float alpha = 1.0f;

    static Colour series(int index, float alpha = 1.0f) {
        return {ColourRole::Series, index, {}, alpha};
    }
    static Colour foreground(float alpha = 1.0f) { return {ColourRole::Foreground, 0, {}, alpha}; }
    static Colour muted(float alpha = 1.0f) { return {ColourRole::Muted, 0, {}, alpha}; }
    static Colour rgba(Rgba value) { return {ColourRole::Custom, 0, value, 1.0f}; }
};

struct Theme {
    bool dark = false;
    Rgba background;      // the whole figure
    Rgba plotBackground;  // inside the axes
    Rgba foreground;      // text, axes, ticks
    Rgba muted;           // secondary text, reference lines
    Rgba grid;
};

Theme lightTheme();
Theme darkTheme();

// Palette black would vanish on a dark background, so there it becomes the foreground.
Rgba resolveColour(const Colour& colour, const Theme& theme);

}  // namespace ponder::viz
