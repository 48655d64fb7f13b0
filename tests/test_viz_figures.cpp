// viz run figures: the five figures of a run are built from plain per-unit vectors and export.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "viz/figure_export.h"
#include "viz/figure_render.h"
#include "viz/run_figures.h"

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
