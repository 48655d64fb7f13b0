// viz palette: the series colours are the eight distinct Okabe-Ito colours, cycling.
#include <catch2/catch.hpp>

#include <set>
#include <tuple>

#include "viz/palette.h"

using ponder::viz::seriesColour;

TEST_CASE("viz: series colours are eight distinct Okabe-Ito colours that then repeat", "[viz]") {
    std::set<std::tuple<int, int, int>> seen;
    for (std::size_t i = 0; i < 8; ++i) {
        const auto c = seriesColour(i);
        seen.insert({c.r, c.g, c.b});
    }
    CHECK(seen.size() == 8);
    const auto first = seriesColour(0), ninth = seriesColour(8);
    CHECK((first.r == ninth.r && first.g == ninth.g && first.b == ninth.b));
    CHECK((first.r == 0 && first.g == 114 && first.b == 178));  // Okabe-Ito blue
}
