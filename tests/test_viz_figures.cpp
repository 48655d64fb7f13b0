// viz run figures: the five figures of a run are built from plain per-unit vectors and export.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "viz/figure_export.h"
#include "viz/figure_render.h"
#include "viz/run_figures.h"
#include "viz/token_figure.h"

using namespace ponder::viz;

namespace {

RunFigureData sampleRun(std::size_t n) {
    RunFigureData d;
    d.title = "sample run";
    for (std::size_t i = 0; i < n; ++i) {
        d.signal.push_back(1.0 + std::sin(0.3 * i));
        d.threshold.push_back(i < 4 ? std::nan("") : 1.0);
        d.advantage.push_back(0.1 * std::sin(0.3 * i) + (i % 7 == 0 ? -0.05 : 0.02));
        d.decisions.push_back(i < 4 || d.signal.back() > 1.0 ? 1 : 0);
        d.oracleDecisions.push_back(d.advantage.back() > 0.02 ? 1 : 0);
    }
    d.calibrationUnits = 4;
    d.pearson = 0.42;
    d.spearman = 0.38;
    d.correlationUnits = n;
    for (double rate = 0; rate <= 1.0001; rate += 0.25)
        d.sweep.push_back({rate, 3.0 - 0.2 * rate, 3.0 - 0.1 * rate, 3.0 - 0.1 * rate,
                           3.0 - 0.3 * std::sqrt(rate)});
    d.currentRate = 0.5;
    d.lossSkip = 3.0;
    d.lossUpdate = 2.9;
    return d;
}

const Series* named(const Figure& f, const std::string& name) {
    for (const auto& s : f.series)
        if (s.name == name) return &s;
    return nullptr;
}

}  // namespace

TEST_CASE("viz: run figures: signal with threshold, calibration and decision markers",
          "[viz][figures]") {
    const auto d = sampleRun(40);
    const Figure f = signalFigure(d);
    CHECK(f.x.integerTicks);
    CHECK(f.title.find("sample run") != std::string::npos);
    REQUIRE(named(f, "recon_step0"));
    REQUIRE(named(f, "threshold \u03c4"));
    CHECK(named(f, "threshold \u03c4")->kind == SeriesKind::Step);
    REQUIRE(named(f, "Ours UPDATE"));
    REQUIRE(named(f, "Oracle UPDATE"));
    std::size_t updates = 0;
    for (auto d0 : d.decisions)
        updates += d0;
    const Series& ours = *named(f, "Ours UPDATE");
    CHECK(ours.size() == updates);
    for (std::size_t k = 0; k < ours.size(); ++k)
        CHECK(ours.y[k] == d.signal[static_cast<std::size_t>(ours.x[k])]);  // on the signal
    REQUIRE(f.regions.size() == 1);
    CHECK(f.regions[0].x1 == Approx(3.5));
}

TEST_CASE("viz: run figures: advantage bars split by agreement with the oracle", "[viz][figures]") {
    const auto d = sampleRun(40);
    const Figure f = advantageFigure(d);
    REQUIRE(f.series.size() == 2);
    const Series& agree = f.series[0];
    const Series& differ = f.series[1];
    CHECK(agree.kind == SeriesKind::Bars);
    std::size_t agreeing = 0;
    for (std::size_t i = 0; i < 40; ++i) {
        const bool same = d.decisions[i] == d.oracleDecisions[i];
        agreeing += same;
        CHECK(std::isnan(same ? differ.y[i] : agree.y[i]));
        CHECK((same ? agree.y[i] : differ.y[i]) == d.advantage[i]);
    }
    const std::string percent =
        std::to_string(static_cast<int>(std::lround(100.0 * agreeing / 40))) + "%";
    CHECK(f.title.find(percent) != std::string::npos);
    CHECK(f.y.includeZero);
}

TEST_CASE("viz: run figures: with the split, each advantage bar stacks its two parts",
          "[viz][figures][split]") {
    // algorithm.md §4.1: positive parts stack upward from 0, negative ones downward, so an
    // inner part of the other sign than the static part starts at 0.
    auto d = sampleRun(4);
    d.advStatic = {0.3, -0.2, 0.4, -0.1};
    d.advInner = {0.05, -0.05, -0.1, 0.2};
    d.adaptationOracleDecisions = {1, 0, 0, 1};
    const Figure f = advantageFigure(d);
    const Series* staticPart = named(f, "static part (trained weights)");
    const Series* innerPart = named(f, "inner loop (learning from the chunk)");
    REQUIRE(staticPart);
    REQUIRE(innerPart);
    CHECK(f.series.size() == 2);
    CHECK(staticPart->y == d.advStatic);
    CHECK(innerPart->barBases == std::vector<double>{0.3, -0.2, 0.0, 0.0});
    for (std::size_t i = 0; i < 4; ++i)
        CHECK(innerPart->valueAt(i) == Approx(d.advInner[i]));     // what hover and CSV show
    CHECK(figureCsv(f).find(",0.4,-0.1\n") != std::string::npos);  // unit 2: its parts, not its top
    // The fit keeps the stacked tops and the bases in view: 0.3 + 0.05 and -0.2 - 0.05.
    const auto y = fitY(f, visibilityOf(f), fitX(f, visibilityOf(f)));
    CHECK(y.max >= 0.35);
    CHECK(y.min <= -0.25);
    // The strip gets the adaptation oracle's row under the Oracle's, the sweep its curve.
    const Figure strip = decisionStripFigure(d);
    CHECK(named(strip, "Adaptation Oracle UPDATE"));
    CHECK(strip.y.range->min < -1.0);
    for (auto& row : d.sweep)
        row.adaptationOracle = row.oracle + 0.01;
    CHECK(named(sweepFigure(d), "Adaptation Oracle"));
    // The scatter reads the chosen part.
    d.scatterTarget = "adv_inner";
    d.scatterValues = d.advInner;
    const Figure scatter = scatterFigure(d);
    CHECK(scatter.y.label == "adv_inner");
    CHECK(scatter.title.find("Signal vs adv_inner") != std::string::npos);
    for (const auto& s : scatter.series)
        for (std::size_t k = 0; k < s.size(); ++k)
            CHECK(s.y[k] == d.advInner[static_cast<std::size_t>(s.ids[k])]);
}

TEST_CASE("viz: run figures: scatter carries the correlations and unit ids", "[viz][figures]") {
    const auto d = sampleRun(30);
    const Figure f = scatterFigure(d);
    CHECK(f.title.find("r = 0.420") != std::string::npos);
    CHECK(f.title.find("\u03c1 = 0.380") != std::string::npos);
    CHECK(f.title.find("n = 30") != std::string::npos);
    std::size_t points = 0;
    for (const auto& s : f.series) {
        CHECK(s.kind == SeriesKind::Scatter);
        points += s.size();
        for (std::size_t k = 0; k < s.size(); ++k)
            CHECK(s.x[k] == d.signal[static_cast<std::size_t>(s.ids[k])]);
    }
    CHECK(points == 30);
}

TEST_CASE("viz: run figures: sweep has Ours, Random and Oracle and marks the current rate",
          "[viz][figures]") {
    const auto d = sampleRun(10);
    const Figure f = sweepFigure(d);
    CHECK(named(f, "Ours"));
    CHECK(named(f, "Oracle"));
    CHECK(named(f, "Random (seeded)"));
    CHECK(named(f, "Random (expected)"));
    bool marked = false;
    for (const auto& line : f.lines)
        marked = marked || (line.vertical && line.value == 0.5);
    CHECK(marked);
}

namespace {

// Measures text as fixed-width characters and draws nothing: enough to lay a figure out.
class NullCanvas final : public Canvas {
public:
    void polyline(const Point*, std::size_t, Rgba, double) override {}
    void fillRect(const Rect&, Rgba) override {}
    void fillPolygon(const Point*, std::size_t, Rgba) override {}
    void fillCircle(Point, double, Rgba) override {}
    void strokeCircle(Point, double, Rgba, double) override {}
    Point textSize(const std::string& text, double size) override {
        return {0.6 * size * static_cast<double>(text.size()), size};
    }
    void text(Point, const std::string&, double, Rgba) override {}
    void pushClip(const Rect&) override {}
    void popClip() override {}
};

}  // namespace

TEST_CASE("viz: run figures: the decision strip has a row of cells for Ours and for Oracle",
          "[viz][figures]") {
    const auto d = sampleRun(30);
    const Figure f = decisionStripFigure(d);
    CHECK(f.x.integerTicks);
    REQUIRE(named(f, "Ours UPDATE"));
    REQUIRE(named(f, "Oracle UPDATE"));
    REQUIRE(named(f, "SKIP"));
    REQUIRE(named(f, "Oracle SKIP"));
    const auto cells = [](const Series& s) {
        std::size_t n = 0;
        for (double y : s.y)
            n += std::isfinite(y) ? 1 : 0;
        return n;
    };
    std::size_t ours = 0, oracle = 0;
    for (std::size_t i = 0; i < d.decisions.size(); ++i) {
        ours += d.decisions[i];
        oracle += d.oracleDecisions[i];
    }
    // Every chunk has exactly one cell per row, coloured by that row's decision.
    CHECK(cells(*named(f, "Ours UPDATE")) == ours);
    CHECK(cells(*named(f, "SKIP")) == d.decisions.size() - ours);
    CHECK(cells(*named(f, "Oracle UPDATE")) == oracle);
    CHECK(cells(*named(f, "Oracle SKIP")) == d.decisions.size() - oracle);
    CHECK(named(f, "Ours UPDATE")->barBase > named(f, "Oracle UPDATE")->barBase);  // Ours above
    CHECK(named(f, "Ours UPDATE")->barWidth == 1.0);
    CHECK(f.title.find("agree on") != std::string::npos);

    // The rows are named on the y axis instead of numeric ticks.
    NullCanvas canvas;
    const View view{{-0.5, 29.5}, *f.y.range};
    const auto layout = layoutFigure(canvas, f, view, {0, 0, 600, 120}, RenderStyle{});
    REQUIRE(layout.yLabels.size() == 2);
    CHECK(layout.yLabels[0] == "Oracle");
    CHECK(layout.yLabels[1] == "Ours");
}

TEST_CASE("viz: run figures: all five export, also for an empty run", "[viz][figures]") {
    const auto figures = runFigures(sampleRun(25));
    REQUIRE(figures.size() == 5);
    CHECK(figures[0].stem == "fig_signal");
    CHECK(figures[2].stem == "fig_decisions");
    CHECK_FALSE(figures[2].inOverview);
    CHECK(figures[4].stem == "fig_sweep");
    for (const auto& named : figures)
        for (auto format : {ImageFormat::Png, ImageFormat::Svg, ImageFormat::Pdf})
            CHECK(renderFigure(named.figure, format).size() > 500);
    for (const auto& named : runFigures(RunFigureData{}))
        CHECK_NOTHROW(renderFigure(named.figure, ImageFormat::Png));
}

TEST_CASE("viz: run figures: a compared run is overlaid dashed on the signal and the sweep",
          "[viz][figures]") {
    auto d = sampleRun(20);
    const auto plain = signalFigure(d).series.size();
    d.compareName = "run 7";
    d.compareSignal.assign(25, 1.5);
    d.compareThreshold.assign(25, 1.2);
    d.compareSweep = d.sweep;
    const Figure signal = signalFigure(d);
    REQUIRE(signal.series.size() == plain + 2);
    const auto& other = signal.series[plain];
    CHECK(other.name.find("run 7") != std::string::npos);
    CHECK(other.lineStyle == LineStyle::Dashed);
    CHECK(other.size() == 25);
    CHECK(signal.series[plain + 1].kind == SeriesKind::Step);
    const Figure sweep = sweepFigure(d);
    REQUIRE(named(sweep, "Ours \u2014 run 7"));
    REQUIRE(named(sweep, "Oracle \u2014 run 7"));
    CHECK(named(sweep, "Ours \u2014 run 7")->lineStyle == LineStyle::Dashed);
    CHECK(named(sweep, "Ours \u2014 run 7")->size() == d.sweep.size());
}

namespace {

// A run whose axes are short: advantages of about +-0.015 nats (a lone "0" tick before), sweep
// losses within 0.05 of each other with SKIP and UPDATE_1 close together.
RunFigureData shortRangeRun(std::size_t n) {
    RunFigureData d = sampleRun(n);
    for (auto& a : d.advantage)
        a *= 0.12;
    for (std::size_t i = 0; i < n; ++i)
        d.oracleDecisions[i] = d.advantage[i] > 0.002 ? 1 : 0;
    d.sweep.clear();
    for (double rate = 0; rate <= 1.0001; rate += 0.25)
        d.sweep.push_back({rate, 3.0 - 0.02 * rate, 3.0 - 0.01 * rate, 3.0 - 0.01 * rate,
                           3.0 - 0.03 * std::sqrt(rate)});
    d.lossSkip = 3.0;
    d.lossUpdate = 2.995;
    return d;
}

// Overlap with area: rectangles that only touch do not intersect.
bool intersects(const Rect& a, const Rect& b) {
    return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

bool inside(const Rect& inner, const Rect& outer) {
    return inner.x0 >= outer.x0 - 1e-9 && inner.x1 <= outer.x1 + 1e-9 &&
           inner.y0 >= outer.y0 - 1e-9 && inner.y1 <= outer.y1 + 1e-9;
}

std::vector<Rect> drawnBoxes(const std::vector<std::string>& labels,
                             const std::vector<Rect>& boxes) {
    std::vector<Rect> out;
    for (std::size_t i = 0; i < labels.size() && i < boxes.size(); ++i)
        if (!labels[i].empty()) out.push_back(boxes[i]);
    return out;
}

struct Size {
    double width, height;
};

const Size kSizes[] = {{240, 110}, {240, 140}, {320, 160}, {400, 200},
                       {520, 260}, {700, 300}, {1000, 400}};

// Every run figure laid out at every size and font (points at scale 1: pixels) with `check`.
template <class Check>
void forEachLayout(const RunFigureData& data, Check check) {
    for (const auto& named : runFigures(data))
        for (const Size size : kSizes)
            for (double fontSize : {9.0, 13.5}) {
                NullCanvas canvas;
                RenderStyle style;
                style.fontSize = fontSize;
                const View view = defaultView(named.figure, visibilityOf(named.figure));
                const auto layout = layoutFigure(canvas, named.figure, view,
                                                 {0, 0, size.width, size.height}, style);
                INFO(named.stem << " at " << size.width << "x" << size.height << ", font "
                                << fontSize);
                check(named.figure, layout, canvas);
            }
}

}  // namespace

TEST_CASE(
    "viz: run figures: three or more labels on each numeric axis, none overlapping, at any size",
    "[viz][figures]") {
    for (const auto& data : {shortRangeRun(300), sampleRun(300), sampleRun(7)}) {
        forEachLayout(data, [](const Figure& figure, const FigureLayout& layout, Canvas& canvas) {
            const double font = layout.fontPx;
            const double lineH = canvas.textSize("Ag", font).y;
            const auto xBoxes = drawnBoxes(layout.xLabels, layout.xLabelBoxes);
            const auto yBoxes = drawnBoxes(layout.yLabels, layout.yLabelBoxes);
            // x: three labels side by side fit in the plot's width -> three are drawn.
            double widest = 0;
            for (double v : layout.xTicks.values)
                widest =
                    std::max(widest, canvas.textSize(formatTick(v, layout.xTicks.step), font).x);
            const bool chunksEnough = !figure.x.integerTicks || layout.xTicks.values.size() >= 3;
            if (chunksEnough && 3 * widest + 2 * 0.8 * font <= layout.plot.width())
                CHECK(xBoxes.size() >= 3);
            // y (numeric only): the plot holds three label heights -> three are drawn.
            if (figure.y.categories.empty() && layout.plot.height() >= 3 * lineH)
                CHECK(yBoxes.size() >= 3);
            // No two labels overlap, on one axis or across the corner.
            std::vector<Rect> all = xBoxes;
            all.insert(all.end(), yBoxes.begin(), yBoxes.end());
            for (std::size_t i = 0; i < all.size(); ++i)
                for (std::size_t j = i + 1; j < all.size(); ++j)
                    CHECK_FALSE(intersects(all[i], all[j]));
            // Nor does one run into the header, the legend or a line label.
            std::vector<Rect> others;
            for (const auto& entry : layout.legend)
                others.push_back(entry.box);
            for (const auto& label : layout.lineLabels)
                others.push_back(label.box);
            const Point yTitle = canvas.textSize(layout.yTitle.text, font);
            others.push_back({layout.yTitle.at.x, layout.yTitle.at.y, layout.yTitle.at.x + yTitle.x,
                              layout.yTitle.at.y + yTitle.y});
            for (const auto& box : all)
                for (const auto& other : others)
                    CHECK_FALSE(intersects(box, other));
        });
    }
}

TEST_CASE("viz: run figures: line labels, legends and titles stay outside the plot frame",
          "[viz][figures]") {
    for (const auto& data : {shortRangeRun(300), sampleRun(40)}) {
        forEachLayout(data, [](const Figure& figure, const FigureLayout& layout, Canvas& canvas) {
            CHECK(figure.legend == LegendPosition::Above);
            for (const auto& entry : layout.legend)
                CHECK_FALSE(intersects(entry.box, layout.plot));
            for (const auto& line : layout.title) {
                const Point size = canvas.textSize(line.text, layout.titlePx);
                CHECK_FALSE(intersects(
                    {line.at.x, line.at.y, line.at.x + size.x, line.at.y + size.y}, layout.plot));
            }
            for (std::size_t i = 0; i < layout.lineLabels.size(); ++i) {
                const auto& label = layout.lineLabels[i];
                CHECK_FALSE(intersects(label.box, layout.plot));
                CHECK(inside(label.box, layout.outer));
                for (std::size_t j = i + 1; j < layout.lineLabels.size(); ++j)
                    CHECK_FALSE(intersects(label.box, layout.lineLabels[j].box));
                for (const auto& entry : layout.legend)
                    CHECK_FALSE(intersects(label.box, entry.box));
            }
        });
    }
}

TEST_CASE("viz: run figures: line labels go beside the frame at their line, vertical ones above it",
          "[viz][figures]") {
    const auto d = shortRangeRun(300);
    NullCanvas canvas;
    const RenderStyle style;
    // The sweep: SKIP and UPDATE_1 in a right gutter near their lines, apart; rho above.
    const Figure sweep = sweepFigure(d);
    const View view = defaultView(sweep, visibilityOf(sweep));
    const auto layout = layoutFigure(canvas, sweep, view, {0, 0, 600, 300}, style);
    const Transform t = layout.transform(view);
    REQUIRE(layout.lineLabels.size() == 3);
    int horizontal = 0, vertical = 0;
    for (const auto& label : layout.lineLabels) {
        const RefLine& line = sweep.lines[label.line];
        CHECK(label.text == line.label);
        if (line.vertical) {
            ++vertical;
            CHECK(label.box.y1 <= layout.plot.y0);  // the row above the frame
            const double x = t.xToPixel(line.value);
            CHECK(label.box.x0 <= x);
            CHECK(label.box.x1 >= x);
            for (const auto& entry : layout.legend)
                CHECK(label.box.y0 >= entry.box.y1);  // below the legend
        } else {
            ++horizontal;
            CHECK(label.box.x0 >= layout.plot.x1);  // the right gutter
            CHECK(label.box.x1 <= layout.outer.x1);
            // Within a label height of its line (two close lines are nudged apart).
            const double y = t.yToPixel(line.value);
            CHECK(std::abs(0.5 * (label.box.y0 + label.box.y1) - y) <= layout.fontPx * 1.2);
        }
    }
    CHECK(horizontal == 2);
    CHECK(vertical == 1);

    // A figure without labelled lines keeps its old frame: no gutter, no label row.
    const Figure scatter = scatterFigure(d);
    const auto plain = layoutFigure(canvas, scatter, defaultView(scatter, visibilityOf(scatter)),
                                    {0, 0, 600, 300}, style);
    CHECK(plain.lineLabels.empty());
    CHECK(plain.outer.x1 - plain.plot.x1 == Approx(style.px(style.padding) + 0.5 * plain.fontPx));
    // The advantage plot's cutoff label is in the gutter; the unlabelled zero line needs none.
    const Figure advantage = advantageFigure(d);
    const auto withCutoff =
        layoutFigure(canvas, advantage, defaultView(advantage, visibilityOf(advantage)),
                     {0, 0, 600, 300}, style);
    REQUIRE(withCutoff.lineLabels.size() == 1);
    CHECK(withCutoff.lineLabels[0].text == "Oracle cutoff");
    CHECK(withCutoff.lineLabels[0].box.x0 > withCutoff.plot.x1);
}

TEST_CASE("viz: run figures: a 240 x 140 figure keeps a plot three labels tall", "[viz][figures]") {
    for (const auto& named : runFigures(shortRangeRun(300))) {
        if (!named.inOverview) continue;  // the decision strip is a thin figure by design
        NullCanvas canvas;
        const View view = defaultView(named.figure, visibilityOf(named.figure));
        const auto layout = layoutFigure(canvas, named.figure, view, {0, 0, 240, 140}, {});
        INFO(named.stem);
        CHECK(layout.plot.height() >= 3 * canvas.textSize("Ag", layout.fontPx).y);
    }
}

TEST_CASE("figures: policies beside Ours get a strip row and a sweep curve each", "[viz]") {
    auto data = sampleRun(30);
    PolicyTrack inverted;
    inverted.name = "recon-ema-inverted";
    for (std::size_t i = 0; i < 30; ++i)
        inverted.decisions.push_back(i % 3 == 0 ? 1 : 0);
    for (const auto& row : data.sweep)
        inverted.sweepLoss.push_back(3.0 - 0.05 * row.rate);
    PolicyTrack gate;  // spends its own budget: one point, no curve
    gate.name = "Gate g";
    gate.decisions.assign(30, 1);
    gate.sweepLoss.assign(data.sweep.size(), kNaN);
    gate.ownRate = 0.3;
    gate.ownRateLoss = 2.95;
    data.policies = {inverted, gate};

    const auto strip = decisionStripFigure(data);
    // Rows from the top: Ours, the two policies, the Oracle at 0; a long name is cut.
    REQUIRE(strip.y.categories.size() == 4);
    CHECK(strip.y.categories[0] == std::make_pair(0.0, std::string("Oracle")));
    CHECK(strip.y.categories[1].second == "Gate g");
    CHECK(strip.y.categories[2].second == "recon-ema-i\u2026");
    CHECK(strip.y.categories[3].second == "Ours");
    CHECK(strip.y.range->max == Approx(3.55));
    const auto* row = named(strip, "recon-ema-inverted UPDATE");
    REQUIRE(row);
    CHECK(row->barBase == Approx(2.0 - 0.4));
    CHECK(std::isfinite(row->y[0]));  // unit 0 updated
    CHECK(std::isnan(row->y[1]));     // unit 1 skipped: in the SKIP series
    REQUIRE(named(strip, "Gate g UPDATE"));
    CHECK(named(strip, "Gate g UPDATE")->barBase == Approx(1.0 - 0.4));

    const auto sweep = sweepFigure(data);
    const auto* curve = named(sweep, "recon-ema-inverted");
    REQUIRE(curve);
    CHECK(curve->y.size() == data.sweep.size());
    CHECK_FALSE(named(sweep, "Gate g"));  // no finite point: no curve
    const auto* point = named(sweep, "Gate g (its own rate)");
    REQUIRE(point);
    CHECK(point->x == std::vector<double>{0.3});
    // Its export is taller by a row per policy.
    CHECK(runFigures(data)[2].heightScale == Approx(0.4 + 2 * 0.12));
}

TEST_CASE("figures: a slice keeps its units' chunk numbers and a folder run its files", "[viz]") {
    auto data = sampleRun(6);
    data.unitX = {10, 11, 12, 30, 31, 32};
    data.fileStarts = {{10, "a.py"}, {30, "c.py"}};
    for (const auto& figure :
         {signalFigure(data), advantageFigure(data), decisionStripFigure(data)}) {
        INFO(figure.title);
        CHECK(figure.series[0].x == data.unitX);
        // A boundary before the second file, and the hover names the file.
        const auto boundary =
            std::count_if(figure.lines.begin(), figure.lines.end(),
                          [](const RefLine& l) { return l.vertical && l.value == 29.5; });
        CHECK(boundary == 1);
        CHECK(figure.x.segmentAt(12.0) == "a.py");
        CHECK(figure.x.segmentAt(31.0) == "c.py");
        CHECK(figure.x.segmentAt(5.0).empty());
    }
    // Scatter points carry the unit's own number, so a click selects that chunk.
    const auto scatter = scatterFigure(data);
    std::vector<std::int64_t> ids;
    for (const auto& s : scatter.series)
        ids.insert(ids.end(), s.ids.begin(), s.ids.end());
    std::sort(ids.begin(), ids.end());
    CHECK(ids == std::vector<std::int64_t>{10, 11, 12, 30, 31, 32});
}

TEST_CASE("figures: one chunk's per-token losses and their difference", "[viz]") {
    TokenLossData data;
    data.title = "chunk 3";
    data.skip = {2.0f, 4.0f, 1.0f};
    data.update = {1.5f, 4.5f, 1.0f};
    const auto f = tokenLossFigure(data);
    CHECK(f.x.integerTicks);  // hover and selection name a position
    const auto* difference = named(f, "SKIP \u2212 UPDATE");
    REQUIRE(difference);
    CHECK(difference->kind == SeriesKind::Bars);
    CHECK(difference->y == std::vector<double>{0.5, -0.5, 0.0});
    REQUIRE(named(f, "CE SKIP"));
    CHECK(named(f, "CE UPDATE")->y == std::vector<double>{1.5, 4.5, 1.0});
    CHECK(f.title.find("chunk 3") != std::string::npos);
}
