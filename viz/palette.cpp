// Okabe-Ito palette: distinguishable under the common colour-vision deficiencies.
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

}  // namespace ponder::viz
