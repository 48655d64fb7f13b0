// Colour-blind-safe series colours (Okabe & Ito 2008) shared by plots and exported figures.
#pragma once

#include <cstdint>
#include <cstddef>

namespace ponder::viz {

struct Rgb {
    std::uint8_t r, g, b;
};

// Colour of the i-th series; cycles through the eight Okabe-Ito colours (black last).
Rgb seriesColour(std::size_t index);

}  // namespace ponder::viz
