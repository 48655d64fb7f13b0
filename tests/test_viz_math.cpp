// viz plot maths: transforms, ticks, formats, label pruning, decimation, hit tests (nearest
// point, value at a chunk), view operations, figure fitting and CSV.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "viz/figure.h"
#include "viz/plot_math.h"

using namespace ponder::viz;

namespace {

std::size_t countGaps(const std::vector<Point>& points) {
    std::size_t gaps = 0;
    for (const auto& p : points)
        gaps += std::isnan(p.x) ? 1 : 0;
    return gaps;
}

}  // namespace

TEST_CASE("viz: transform maps plot values to pixels and back, y up", "[viz][math]") {
    const Transform t({0, 10}, {-1, 1}, {100, 50, 300, 150});
    CHECK(t.xToPixel(0) == Approx(100));
    CHECK(t.xToPixel(10) == Approx(300));
    CHECK(t.yToPixel(-1) == Approx(150));  // bottom
    CHECK(t.yToPixel(1) == Approx(50));    // top
    CHECK(t.pixelToX(t.xToPixel(3.7)) == Approx(3.7));
    CHECK(t.pixelToY(t.yToPixel(0.25)) == Approx(0.25));
}

TEST_CASE("viz: nice ticks use 1/2/5 steps inside the range and keep to the budget",
          "[viz][math]") {
    CHECK(niceStep(0.13) == Approx(0.2));
    CHECK(niceStep(0.5) == Approx(0.5));
    CHECK(niceStep(7) == Approx(10));
    CHECK(niceStep(1) == Approx(1));
    CHECK(niceStep(0.2 / 0.1 * 0.1) == Approx(0.2));
    const auto ticks = niceTicks({0, 1}, 6);
    CHECK(ticks.step == Approx(0.2));
    REQUIRE(ticks.values.size() == 6);
    CHECK(ticks.values.front() == 0.0);
    CHECK(ticks.values.back() == Approx(1.0));
    for (int budget = 2; budget < 12; ++budget) {
        for (const Range r : {Range{-3.3, 7.1}, Range{0.001, 0.0042}, Range{1e6, 3.5e6}}) {
            const auto t = niceTicks(r, budget);
            // The budget's own step where it leaves three ticks, else the first finer one that
            // does (a few over the budget, never more than 7).
            const auto own = ticksAtStep(r, niceStep(r.span() / (budget - 1)));
            if (own.values.size() >= 3) {
                CHECK(t.values == own.values);
                CHECK(static_cast<int>(t.values.size()) <= budget);
            } else {
                CHECK(t.values.size() >= 3);
                CHECK(t.values.size() <= 7);
            }
            for (double v : t.values)
                CHECK(r.contains(v));
        }
    }
    // A tick at zero is exactly zero, not 1e-17.
    const auto around = niceTicks({-0.3, 0.3}, 7);
    CHECK(std::find(around.values.begin(), around.values.end(), 0.0) != around.values.end());
    CHECK(niceTicks({1, 1}, 5).values.empty());  // invalid range
}

TEST_CASE("viz: integer ticks for chunk axes sit on whole numbers", "[viz][math]") {
    const auto few = integerTicks({-0.5, 3.5}, 20);
    CHECK(few.step == 1.0);
    CHECK(few.values == std::vector<double>{0, 1, 2, 3});
    const auto many = integerTicks({-0.5, 999.5}, 6);
    CHECK(many.step == 200.0);
    for (double v : many.values)
        CHECK(v == std::round(v));
}

TEST_CASE("viz: ticks: at least three for any valid range and budget", "[viz][math]") {
    CHECK(niceStepBelow(5) == Approx(2));
    CHECK(niceStepBelow(2) == Approx(1));
    CHECK(niceStepBelow(1) == Approx(0.5));
    CHECK(niceStepBelow(0.01) == Approx(0.005));
    // A short advantage axis: budget 2 used to give the step 0.05 and a lone "0".
    const auto advantage = niceTicks({-0.013, 0.021}, 2);
    CHECK(advantage.values.size() >= 3);
    CHECK(advantage.step == Approx(0.01));
    const std::vector<Range> ranges = {{-0.013, 0.021}, {0.4, 0.6},   {2.95, 3.02},
                                       {-1e-6, 3e-6},   {0.01, 2.99}, {99.5, 100.5},
                                       {-7, -6.99},     {1e6, 1.3e6}, {0, 1}};
    for (const Range& r : ranges)
        for (int budget : {1, 2, 3, 4, 6}) {
            const auto t = niceTicks(r, budget);
            INFO("[" << r.min << ", " << r.max << "] budget " << budget);
            CHECK(t.values.size() >= 3);
            CHECK(t.values.size() <= std::max<std::size_t>(7, static_cast<std::size_t>(budget)));
            for (double v : t.values)
                CHECK(r.contains(v));
            const double k = t.step / std::pow(10.0, std::floor(std::log10(t.step) + 1e-9));
            CHECK((k == Approx(1) || k == Approx(2) || k == Approx(5)));
        }
}

TEST_CASE("viz: integer ticks: at least three when the range holds three whole numbers",
          "[viz][math]") {
    // A narrow sweep of chunks 3..7 used to show a lone "5".
    const auto narrow = integerTicks({2.5, 7.5}, 2);
    CHECK(narrow.values.size() >= 3);
    for (double v : narrow.values)
        CHECK(v == std::round(v));
    for (int budget : {2, 3, 4})
        for (const Range r : {Range{-0.5, 2.5}, Range{9.7, 12.2}, Range{-0.5, 29.5}, Range{40, 140},
                              Range{-0.5, 299.5}}) {
            const auto t = integerTicks(r, budget);
            INFO("[" << r.min << ", " << r.max << "] budget " << budget);
            CHECK(t.values.size() >= 3);
            CHECK(t.step >= 1.0);
        }
    // Two whole numbers are all there is: no step below 1.
    const auto two = integerTicks({-0.5, 1.5}, 2);
    CHECK(two.step == 1.0);
    CHECK(two.values == std::vector<double>{0, 1});
}

TEST_CASE("viz: tick labels: decimals from the step, compact thousands, no minus zero",
          "[viz][math]") {
    CHECK(formatTick(0.2, 0.2) == "0.2");
    CHECK(formatTick(0.25, 0.05) == "0.25");
    CHECK(formatTick(3, 1) == "3");
    CHECK(formatTick(-1e-17, 0.1) == "0.0");
    CHECK(formatTick(-0.0, 1) == "0");
    CHECK(formatTick(20000, 5000) == "20k");
    CHECK(formatTick(2500, 500) == "2500");
    CHECK(formatTick(1500000, 500000) == "1.5M");
    CHECK(formatTick(2.5e-5, 5e-6) == "2.5e-05");
    CHECK(formatCompact(0.123456) == "0.123");
    CHECK(formatCompact(12345) == "12.3k");
    CHECK(formatCompact(1234) == "1234");
    CHECK(formatCompact(0.0000123) == "1.23e-05");
    CHECK(formatCompact(0) == "0");
    CHECK(formatCompact(std::nan("")) == "nan");
    CHECK(formatCompact(-2.5) == "-2.5");
}

TEST_CASE("viz: label pruning keeps round ticks and leaves no overlap", "[viz][math]") {
    // 11 labels 30 px wide, 20 px apart: every other one leaves 10 px, enough for a 4 px gap;
    // with a 12 px gap only every third fits.
    std::vector<double> centres, widths;
    for (int i = 0; i < 11; ++i) {
        centres.push_back(20.0 * i);
        widths.push_back(30);
    }
    const auto everyOther = pruneLabels(centres, widths, 4.0);
    CHECK(everyOther[0]);
    CHECK_FALSE(everyOther[1]);
    CHECK(everyOther[2]);
    const auto everyThird = pruneLabels(centres, widths, 12.0);
    CHECK(everyThird[0]);
    CHECK_FALSE(everyThird[1]);
    CHECK_FALSE(everyThird[2]);
    CHECK(everyThird[3]);
    // Ticks 5, 10, 15, ...: with stride 2 the kept ones are the multiples of 10 (index 2k).
    const auto phased = pruneLabels({0, 20, 40, 60, 80}, {25, 25, 25, 25, 25}, 2.0, 1);
    CHECK(phased == std::vector<bool>{false, true, false, true, false});
    const auto roomy = pruneLabels({0, 100, 200}, {20, 20, 20}, 4.0);
    CHECK(roomy == std::vector<bool>{true, true, true});
}

TEST_CASE(
    "viz: label pruning keeps three labels off the round ticks when the round ones give fewer",
    "[viz][math]") {
    // Ticks 0.5 .. 2.5 (indices 1..5), 30 px apart, labels 40 px wide: every other label fits,
    // but the round ones (1.0, 2.0) are only two; 0.5, 1.5, 2.5 are three.
    const std::vector<double> centres = {0, 30, 60, 90, 120};
    const std::vector<double> widths(5, 40.0);
    CHECK(pruneLabels(centres, widths, 4.0, 1) ==
          std::vector<bool>{false, true, false, true, false});
    CHECK(pruneLabels(centres, widths, 4.0, 1, 3) ==
          std::vector<bool>{true, false, true, false, true});
    // Enough round ones: the round choice stands.
    CHECK(pruneLabels(centres, widths, 4.0, 0, 3) ==
          std::vector<bool>{true, false, true, false, true});
    // Three cannot fit at all: the round choice as before.
    CHECK(pruneLabels(centres, std::vector<double>(5, 70.0), 4.0, 1, 3) ==
          std::vector<bool>{false, false, true, false, false});
}

TEST_CASE("viz: spread labels stay near their wish, apart and inside the bounds", "[viz][math]") {
    // Two labels 10 px tall wanted 3 px apart (SKIP and UPDATE_1 at close losses).
    auto starts = spreadLabels({50, 53}, {10, 10}, 0, 100, 2);
    CHECK(starts[0] == Approx(50));
    CHECK(starts[1] == Approx(62));
    // Near the bottom bound they are pushed back up, order kept.
    starts = spreadLabels({95, 92}, {10, 10}, 0, 100, 2);
    CHECK(starts[0] == Approx(90));
    CHECK(starts[1] == Approx(78));
    // Below the top bound: clamped down.
    starts = spreadLabels({-20}, {10}, 0, 100, 2);
    CHECK(starts[0] == Approx(0));
    // Not all fit: the later ones are dropped.
    starts = spreadLabels({0, 5, 10}, {10, 10, 10}, 0, 25, 2);
    CHECK(starts[0] == Approx(0));
    CHECK(starts[1] == Approx(12));
    CHECK(std::isnan(starts[2]));
}

TEST_CASE("viz: min-max decimation keeps spikes and ends, at most ~4 points a column",
          "[viz][math]") {
    const std::size_t n = 100000;
    std::vector<double> y(n, 0.0);
    y[50000] = 10.0;  // one spike that must survive
    y[70000] = -5.0;
    const Transform t({0, static_cast<double>(n - 1)}, {-6, 11}, {0, 0, 500, 200});
    std::vector<Point> out;
    decimateLine({nullptr, y.data(), n}, t, false, out);
    CHECK(out.size() <= 4 * 501);
    double top = 1e9, bottom = -1e9;
    for (const auto& p : out) {
        top = std::min(top, p.y);
        bottom = std::max(bottom, p.y);
    }
    CHECK(top == Approx(t.yToPixel(10.0)));
    CHECK(bottom == Approx(t.yToPixel(-5.0)));
    CHECK(out.front().x == Approx(0.0));
    CHECK(out.back().x == Approx(500.0));
    // x stays ascending: the polyline is drawn left to right.
    for (std::size_t i = 1; i < out.size(); ++i)
        CHECK(out[i].x >= out[i - 1].x);
}

// Decimation is what keeps a frame cheap: its output is bounded by the pixel columns, not by
// the points. (Its speed is printed, not asserted: these VMs are too noisy for time budgets.)
TEST_CASE("viz: decimating 100,000 points keeps at most four points per pixel column",
          "[viz][math]") {
    const std::size_t n = 100000;
    std::vector<double> x(n), y(n);
    for (std::size_t i = 0; i < n; ++i) {
        x[i] = static_cast<double>(i);
        y[i] = std::sin(i * 0.01) + 0.1 * std::sin(i * 1.7);
    }
    const Transform t({0, static_cast<double>(n)}, {-1.2, 1.2}, {0, 0, 1600, 400});
    std::vector<Point> out;
    double best = 1e9;
    for (int round = 0; round < 5; ++round) {
        const auto start = std::chrono::steady_clock::now();
        decimateLine({x.data(), y.data(), n}, t, false, out);
        const auto end = std::chrono::steady_clock::now();
        best = std::min(best, std::chrono::duration<double, std::milli>(end - start).count());
    }
    INFO("decimateLine over 100k points: " << best << " ms (about 0.3 ms in a release build)");
    CHECK(out.size() <= 4 * 1601);
    CHECK(out.size() >= 1600);  // every column keeps its extremes
}

TEST_CASE("viz: NaN values break lines into separate runs", "[viz][math]") {
    const std::vector<double> y = {1, 2, std::nan(""), 3, 4, std::nan(""), std::nan(""), 5, 6};
    const Transform t({0, 8}, {0, 7}, {0, 0, 800, 100});
    std::vector<Point> out;
    decimateLine({nullptr, y.data(), y.size()}, t, false, out);
    CHECK(countGaps(out) == 2);
    CHECK(out.size() == 6 + 2);
    CHECK_FALSE(std::isnan(out.front().x));
    CHECK_FALSE(std::isnan(out.back().x));
}

TEST_CASE("viz: step lines hold each value over its chunk", "[viz][math]") {
    const std::vector<double> y = {1, 2, 3};
    const Transform t({-0.5, 2.5}, {0, 4}, {0, 0, 300, 400});
    std::vector<Point> out;
    decimateLine({nullptr, y.data(), y.size()}, t, true, out);
    REQUIRE(out.size() == 6);
    CHECK(out[0].x == Approx(0));
    CHECK(out[1].x == Approx(100));
    CHECK(out[0].y == Approx(out[1].y));
    CHECK(out[2].x == Approx(100));  // the riser
    CHECK(out[5].x == Approx(300));
    CHECK(out[5].y == Approx(t.yToPixel(3)));
}

TEST_CASE("viz: lines are clipped to a band around the axes so huge values stay finite",
          "[viz][math]") {
    const std::vector<double> y = {0, 1e200, 0};
    const Transform t({0, 2}, {0, 1}, {0, 0, 200, 100});
    std::vector<Point> out;
    decimateLine({nullptr, y.data(), y.size()}, t, false, out);
    for (const auto& p : out)
        if (!std::isnan(p.x)) CHECK(std::abs(p.y) < 1000);
    CHECK(out.size() >= 4);  // both flanks still drawn up to the band
}

TEST_CASE("viz: only the visible window of a zoomed series is visited", "[viz][math]") {
    std::vector<double> y(1000);
    for (std::size_t i = 0; i < y.size(); ++i)
        y[i] = static_cast<double>(i);
    const Transform t({100, 110}, {0, 1000}, {0, 0, 1000, 100});
    std::vector<Point> out;
    decimateLine({nullptr, y.data(), y.size()}, t, false, out);
    CHECK(out.size() == 13);  // x = 99..111: one neighbour beyond each edge
}

TEST_CASE("viz: scatter decimation keeps one point per cell inside the axes", "[viz][math]") {
    std::vector<double> x, y;
    for (int i = 0; i < 1000; ++i) {
        x.push_back(0.5);
        y.push_back(0.5);
    }
    x.push_back(0.9);
    y.push_back(0.1);
    x.push_back(5.0);  // outside
    y.push_back(0.5);
    const Transform t({0, 1}, {0, 1}, {0, 0, 100, 100});
    std::vector<Point> out;
    std::vector<std::size_t> indices;
    decimatePoints({x.data(), y.data(), x.size()}, t, 2.0, false, out, &indices);
    CHECK(out.size() == 2);
    CHECK(indices == std::vector<std::size_t>{0, 1000});
}

TEST_CASE("viz: bars: one rectangle each, or one per pixel column when thinner", "[viz][math]") {
    const std::vector<double> y = {1, -2, std::nan(""), 3};
    const Transform t({-0.5, 3.5}, {-3, 3}, {0, 0, 400, 600});
    std::vector<Rect> out;
    decimateBars({nullptr, y.data(), y.size()}, 0.0, 0.8, t, 2.0, out);
    REQUIRE(out.size() == 3);
    CHECK(out[0].x0 == Approx(10));
    CHECK(out[0].x1 == Approx(90));
    CHECK(out[0].y1 == Approx(300));  // base
    CHECK(out[0].y0 == Approx(200));
    CHECK(out[1].y0 == Approx(300));  // negative bar hangs from the base
    CHECK(out[1].y1 == Approx(500));
    std::vector<double> many(10000, 1.0);
    many[1234] = 5.0;
    const Transform dense({-0.5, 9999.5}, {0, 6}, {0, 0, 100, 60});
    decimateBars({nullptr, many.data(), many.size()}, 0.0, 0.8, dense, 2.0, out);
    CHECK(out.size() <= 101);
    double tallest = 1e9;
    for (const auto& r : out)
        tallest = std::min(tallest, r.y0);
    CHECK(tallest == Approx(dense.yToPixel(5.0)));
}

TEST_CASE("viz: stacked bars start at their own bases, also where columns merge",
          "[viz][math][split]") {
    const std::vector<double> y = {2, -1, 1};
    const std::vector<double> bases = {1, 0, std::nan("")};  // a NaN base draws nothing
    const Transform t({-0.5, 2.5}, {-3, 3}, {0, 0, 300, 600});
    std::vector<Rect> out;
    decimateBars({nullptr, y.data(), y.size()}, 0.0, 0.8, t, 2.0, out, bases.data());
    REQUIRE(out.size() == 2);
    CHECK(out[0].y0 == Approx(t.yToPixel(2)));
    CHECK(out[0].y1 == Approx(t.yToPixel(1)));  // from its base, not from 0
    CHECK(out[1].y0 == Approx(t.yToPixel(0)));
    CHECK(out[1].y1 == Approx(t.yToPixel(-1)));
    // Thinner than 2 px: a column spans its bars' bases and tops.
    std::vector<double> many(1000, 3.0), manyBases(1000, 2.0);
    const Transform dense({-0.5, 999.5}, {0, 6}, {0, 0, 10, 60});
    decimateBars({nullptr, many.data(), many.size()}, 0.0, 0.8, dense, 2.0, out, manyBases.data());
    REQUIRE_FALSE(out.empty());
    for (const auto& r : out) {
        CHECK(r.y0 == Approx(dense.yToPixel(3.0)));
        CHECK(r.y1 == Approx(dense.yToPixel(2.0)));
    }
}

TEST_CASE("viz: dashes alternate on and off along the path", "[viz][math]") {
    const std::vector<Point> line = {{0, 0}, {20, 0}};
    std::vector<Point> out;
    dashPolyline(line, 4, 2, out);
    // 0-4, 6-10, 12-16, 18-20
    CHECK(countGaps(out) == 3);
    CHECK(out[0].x == Approx(0));
    CHECK(out[1].x == Approx(4));
    CHECK(out[3].x == Approx(6));
    CHECK(out.back().x == Approx(20));
}

TEST_CASE("viz: hit tests find the nearest chunk and the nearest point", "[viz][math]") {
    const std::vector<double> x = {0, 1, 2, 10};
    const std::vector<double> y = {0, 1, 0, 5};
    const XYView d{x.data(), y.data(), x.size()};
    CHECK(nearestIndexByX(d, 1.4) == 1);
    CHECK(nearestIndexByX(d, 7) == 3);
    CHECK(nearestIndexByX(d, -5) == 0);
    CHECK(nearestIndexByX({nullptr, y.data(), y.size()}, 2.6) == 3);
    CHECK(nearestIndexByX({nullptr, y.data(), 0}, 1) == -1);
    const Transform t({0, 10}, {0, 5}, {0, 0, 100, 50});
    CHECK(nearestPoint(d, t, {11, 39}, 5) == 1);
    CHECK(nearestPoint(d, t, {60, 25}, 5) == -1);
}

TEST_CASE("viz: the value at x is the point within half a chunk of x, both edges included",
          "[viz][math]") {
    const std::vector<double> y = {10, 20, 30};
    const XYView chunks{nullptr, y.data(), y.size()};
    CHECK(pointAtX(chunks, 1.0) == 1);
    CHECK(pointAtX(chunks, 1.4) == 1);
    CHECK(pointAtX(chunks, 0.6) == 1);
    CHECK(pointAtX(chunks, -0.5) == 0);  // |0 - -0.5| = 0.5: still chunk 0
    CHECK(pointAtX(chunks, 2.5) == 2);
    // Explicit x: the point nearest by x, if it is within 0.5 of it.
    const std::vector<double> x = {0, 2, 4};
    const XYView sparse{x.data(), y.data(), x.size()};
    CHECK(pointAtX(sparse, 2.3) == 1);
    CHECK(pointAtX(sparse, 3.9) == 2);
    CHECK(pointAtX(sparse, 0.5) == 0);
    // Between sparse points there is no value: nothing is interpolated.
    CHECK(pointAtX(sparse, 1.0) == -1);
    CHECK(pointAtX(sparse, 3.0) == -1);
}

TEST_CASE("viz: a NaN gap has no value at its chunk rather than borrowing a neighbour's",
          "[viz][math]") {
    const std::vector<double> y = {1, std::nan(""), 3};
    const XYView chunks{nullptr, y.data(), y.size()};
    CHECK(pointAtX(chunks, 0.0) == 0);
    CHECK(pointAtX(chunks, 1.0) == -1);
    CHECK(pointAtX(chunks, 1.4) == -1);
    CHECK(pointAtX(chunks, 1.6) == 2);
    // Point 0 is only 0.2 from x = 0.2, but the gap at 0.3 is nearer, so there is no value.
    const std::vector<double> x = {0, 0.3, 1};
    const std::vector<double> gappy = {5, std::nan(""), 7};
    const XYView d{x.data(), gappy.data(), x.size()};
    CHECK(pointAtX(d, 0.2) == -1);
    CHECK(pointAtX(d, 0.1) == 0);
    const std::vector<double> infinite = {std::numeric_limits<double>::infinity()};
    CHECK(pointAtX({nullptr, infinite.data(), 1}, 0.0) == -1);
}

TEST_CASE("viz: a series without points, or a NaN x, has no value", "[viz][math]") {
    const std::vector<double> y = {1, 2};
    CHECK(pointAtX({nullptr, nullptr, 0}, 0.0) == -1);
    CHECK(pointAtX({y.data(), y.data(), 0}, 1.0) == -1);
    CHECK(pointAtX({nullptr, y.data(), y.size()}, std::nan("")) == -1);
}

TEST_CASE("viz: x more than half a chunk beyond the first or last point has no value",
          "[viz][math]") {
    const std::vector<double> y = {1, 2, 3};
    const XYView chunks{nullptr, y.data(), y.size()};
    CHECK(pointAtX(chunks, -0.51) == -1);
    CHECK(pointAtX(chunks, 2.51) == -1);
    CHECK(pointAtX(chunks, 1e9) == -1);
    CHECK(pointAtX(chunks, std::numeric_limits<double>::infinity()) == -1);
    CHECK(pointAtX(chunks, -std::numeric_limits<double>::infinity()) == -1);
    const std::vector<double> x = {10, 11};
    const XYView d{x.data(), y.data(), x.size()};
    CHECK(pointAtX(d, 9.4) == -1);
    CHECK(pointAtX(d, 9.5) == 0);
    CHECK(pointAtX(d, 11.6) == -1);
}

TEST_CASE("viz: halfway between two points the lower x wins on explicit x, the upper on chunks",
          "[viz][math]") {
    // nearestIndexByX's tie rules: explicit x keeps the left point, chunk indices round half
    // away from zero. The widget rounds to whole chunks first, so it never asks at a half.
    const std::vector<double> y = {1, 2};
    const std::vector<double> x = {0, 1};
    CHECK(pointAtX({nullptr, y.data(), y.size()}, 0.5) == 1);
    CHECK(pointAtX({x.data(), y.data(), x.size()}, 0.5) == 0);
}

namespace {

std::vector<std::pair<std::size_t, std::size_t>> pairs(const std::vector<SeriesPoint>& points) {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    for (const auto& p : points)
        out.emplace_back(p.series, p.index);
    return out;
}

}  // namespace

TEST_CASE("viz: values at x across series skip excluded series and those without a value there",
          "[viz][math]") {
    using Pairs = std::vector<std::pair<std::size_t, std::size_t>>;
    const std::vector<double> a = {1, 2, 3};
    const std::vector<double> b = {std::nan(""), 5, 6};
    const std::vector<double> cx = {0.9, 5}, cy = {7, 8};
    const std::vector<double> d = {9, 9};
    const std::vector<XYView> series = {{nullptr, a.data(), a.size()},
                                        {nullptr, b.data(), b.size()},
                                        {cx.data(), cy.data(), cx.size()},
                                        {nullptr, d.data(), d.size()}};
    // x = 0: b is a gap there, c's first point is 0.9 away, d is excluded.
    CHECK(pairs(seriesPointsAtX(series, {true, true, true, false}, 0.0)) == Pairs{{0, 0}});
    CHECK(pairs(seriesPointsAtX(series, {true, true, true, false}, 1.0)) ==
          Pairs{{0, 1}, {1, 1}, {2, 0}});
    // Series past the end of the mask count as included.
    CHECK(pairs(seriesPointsAtX(series, {false}, 1.0)) == Pairs{{1, 1}, {2, 0}, {3, 1}});
    CHECK(seriesPointsAtX(series, {true, true, true, true}, 7.0).empty());
    CHECK(seriesPointsAtX({}, {}, 0.0).empty());
}

TEST_CASE("viz: the nearest point across series is the closest finite included point in the radius",
          "[viz][math]") {
    // 10 px per unit: (x, y) is at pixel (10x, 100 - 10y).
    const Transform t({0, 10}, {0, 10}, {0, 0, 100, 100});
    const std::vector<double> ax = {1, 5}, ay = {1, 5};  // (10, 90), (50, 50)
    const std::vector<double> bx = {5.3}, by = {5.4};    // (53, 46)
    const std::vector<double> cx = {5.2}, cy = {std::nan("")};
    const std::vector<XYView> series = {{ax.data(), ay.data(), ax.size()},
                                        {bx.data(), by.data(), bx.size()},
                                        {cx.data(), cy.data(), cx.size()}};
    // From (52, 48): a's (50, 50) is sqrt(8) away, b's (53, 46) sqrt(5); c's gap is skipped.
    auto hit = nearestSeriesPoint(series, {}, t, {52, 48}, 12);
    REQUIRE(hit);
    CHECK(hit->series == 1);
    CHECK(hit->index == 0);
    // From (49, 52): a's (50, 50) is sqrt(5) away, b's sqrt(52).
    hit = nearestSeriesPoint(series, {}, t, {49, 52}, 12);
    REQUIRE(hit);
    CHECK(hit->series == 0);
    CHECK(hit->index == 1);
    // b excluded: a's (50, 50) again.
    hit = nearestSeriesPoint(series, {true, false, true}, t, {52, 48}, 12);
    REQUIRE(hit);
    CHECK(hit->series == 0);
    CHECK(hit->index == 1);
    CHECK_FALSE(nearestSeriesPoint(series, {}, t, {80, 20}, 12));  // nearest is ~42 px off
    CHECK_FALSE(nearestSeriesPoint({}, {}, t, {10, 90}, 12));
    CHECK_FALSE(nearestSeriesPoint({{nullptr, nullptr, 0}}, {}, t, {10, 90}, 12));
}

TEST_CASE("viz: the pick radius is inclusive: a point exactly on it is found, one beyond is not",
          "[viz][math]") {
    const Transform t({0, 10}, {0, 10}, {0, 0, 100, 100});
    const std::vector<double> x = {1}, y = {1};  // (10, 90)
    const std::vector<XYView> series = {{x.data(), y.data(), 1}};
    // (13, 94) is 3-4-5 from (10, 90): exactly 5 px.
    CHECK(nearestSeriesPoint(series, {}, t, {13, 94}, 5.0));
    CHECK_FALSE(nearestSeriesPoint(series, {}, t, {13, 94}, 4.999));
}

TEST_CASE(
    "viz: of equally near points the first in a series wins, and a later series over an earlier",
    "[viz][math]") {
    const Transform t({0, 10}, {0, 10}, {0, 0, 100, 100});
    const std::vector<double> twoX = {2, 4}, twoY = {2, 2};  // (20, 80), (40, 80)
    auto hit = nearestSeriesPoint({{twoX.data(), twoY.data(), 2}}, {}, t, {30, 80}, 12);
    REQUIRE(hit);
    CHECK(hit->index == 0);
    // Two series with a point at (10, 90), 5 px from (13, 94): the later one is drawn on top.
    const std::vector<double> x = {1}, y = {1};
    const std::vector<XYView> same = {{x.data(), y.data(), 1}, {x.data(), y.data(), 1}};
    hit = nearestSeriesPoint(same, {}, t, {13, 94}, 12);
    REQUIRE(hit);
    CHECK(hit->series == 1);
    hit = nearestSeriesPoint(same, {}, t, {10, 90}, 12);  // on the point itself
    REQUIRE(hit);
    CHECK(hit->series == 1);
    hit = nearestSeriesPoint(same, {true, false}, t, {13, 94}, 12);
    REQUIRE(hit);
    CHECK(hit->series == 0);
}

TEST_CASE("viz: zoom about the cursor keeps the anchor, pan shifts, clamp stays in the data",
          "[viz][math]") {
    const Range zoomed = zoomAbout({0, 100}, 25, 0.5);
    CHECK(zoomed.min == Approx(12.5));
    CHECK(zoomed.max == Approx(62.5));
    // The anchor keeps its relative position.
    CHECK((25 - zoomed.min) / zoomed.span() == Approx(0.25));
    CHECK(panBy({0, 10}, 5).min == 5);
    const Range limits{0, 100};
    CHECK(clampRange({-10, 20}, limits, 1).min == Approx(0));
    CHECK(clampRange({-10, 20}, limits, 1).max == Approx(30));
    CHECK(clampRange({90, 120}, limits, 1).max == Approx(100));
    CHECK(clampRange({-50, 500}, limits, 1).span() == Approx(100));  // fit, not beyond
    CHECK(clampRange({50, 50.001}, limits, 4).span() == Approx(4));  // minimum span
    CHECK(clampRange({std::nan(""), 1}, limits, 1).max == 100);
}

TEST_CASE("viz: padded ranges and extents handle constants, NaN and the visible window",
          "[viz][math]") {
    CHECK(paddedRange({0, 10}, 0.05).min == Approx(-0.5));
    CHECK(paddedRange({3, 3}, 0.05).span() > 0);
    CHECK(paddedRange({0, 0}, 0.05).span() > 0);
    CHECK(paddedRange(kEmptyRange, 0.05).max == 1);
    const std::vector<double> y = {5, std::nan(""), -3, 8, 1};
    const XYView d{nullptr, y.data(), y.size()};
    const Range all = xExtent(d);
    CHECK(all.min == 0);
    CHECK(all.max == 4);
    const Range window = yExtentWithin(d, {1.5, 3.5}, true);
    CHECK(window.min == -3);
    CHECK(window.max == 8);
    const Range one = yExtentWithin(d, {3.5, 10}, true);
    CHECK(one.min == 1);
    CHECK(one.max == 1);
}

TEST_CASE("viz: figure fit: chunk axes show whole chunks, y follows the visible x", "[viz][math]") {
    Figure f;
    f.x.integerTicks = true;
    Series s;
    s.y = {1, 2, 100, 3};
    f.series.push_back(s);
    const auto visible = visibilityOf(f);
    const Range x = fitX(f, visible);
    CHECK(x.min == Approx(-0.5));
    CHECK(x.max == Approx(3.5));
    const Range yAll = fitY(f, visible, x);
    CHECK(yAll.max > 100);
    const Range yLeft = fitY(f, visible, {-0.5, 1.5});
    CHECK(yLeft.max < 3);  // the spike at chunk 2 is out of view
    f.y.includeZero = true;
    CHECK(fitY(f, visible, {-0.5, 1.5}).min <= 0);
    RefLine floor;
    floor.value = -7.0;
    f.lines.push_back(floor);
    CHECK(fitY(f, visible, x).min < -7);
    // Hidden series do not count.
    Series big;
    big.y = {1e6, 1e6, 1e6, 1e6};
    f.series.push_back(big);
    CHECK(fitY(f, {true, false}, x).max < 1000);
    f.y.range = Range{0, 1};
    CHECK(fitY(f, visibilityOf(f), x).max == 1);
}

TEST_CASE("viz: figure CSV: wide with a shared x, long otherwise, NaN empty", "[viz][math]") {
    Figure f;
    f.x.label = "chunk";
    Series a, b;
    a.name = "signal";
    a.y = {1.5, std::nan("")};
    b.name = "threshold, tau";
    b.y = {2, 3};
    f.series = {a, b};
    CHECK(figureCsv(f) == "chunk,signal,\"threshold, tau\"\n0,1.5,2\n1,,3\n");
    f.series[1].x = {0, 5};
    f.y.label = "value";
    CHECK(figureCsv(f) ==
          "series,chunk,value\nsignal,0,1.5\nsignal,1,\n\"threshold, tau\",0,2\n"
          "\"threshold, tau\",5,3\n");
    f.series[1].visible = false;
    CHECK(figureCsv(f) == "chunk,signal\n0,1.5\n1,\n");
}
