// viz plot widget driven headless: an ImGui context without a backend, mouse and wheel set in
// io, frames run with NewFrame/Render; the tests assert ranges, selection and hidden series.
#include <catch2/catch.hpp>

#include <cfloat>
#include <chrono>
#include <cmath>
#include <functional>
#include <optional>
#include <string>

#include <imgui.h>
#include <imgui_internal.h>

#include "viz/plot_widget.h"
#include "viz/run_figures.h"

using namespace ponder::viz;

namespace {

// One ImGui context with a built font atlas and no renderer: enough to run frames.
class Harness {
public:
    Harness() {
        m_context = ImGui::CreateContext();
        ImGuiIO& io = ImGui::GetIO();
        io.DisplaySize = ImVec2(900, 700);
        io.IniFilename = nullptr;
        io.DeltaTime = 1.0f / 60.0f;
        io.BackendFlags |= ImGuiBackendFlags_RendererHasVtxOffset;
        unsigned char* pixels = nullptr;
        int w = 0, h = 0;
        io.Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);
        ImGui::StyleColorsLight();
    }
    ~Harness() { ImGui::DestroyContext(m_context); }

    void frame(const std::function<void()>& body) {
        ImGuiIO& io = ImGui::GetIO();
        ImGui::NewFrame();
        ImGui::SetNextWindowPos(ImVec2(0, 0));
        ImGui::SetNextWindowSize(io.DisplaySize);
        ImGui::Begin("plots", nullptr,
                     ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                         ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoScrollWithMouse);
        body();
        ImGui::End();
        ImGui::Render();
        io.MouseWheel = 0;
    }

    // ImGui floors the mouse position, so tests place it on whole pixels too.
    void mouse(double x, double y) {
        ImGui::GetIO().MousePos = ImVec2(std::floor(float(x)), std::floor(float(y)));
    }
    Point mousePoint() const { return {ImGui::GetIO().MousePos.x, ImGui::GetIO().MousePos.y}; }
    // Lets more than the double-click time pass, so the next press is a fresh click.
    void wait(const std::function<void()>& body) {
        ImGui::GetIO().DeltaTime = 1.0f;
        frame(body);
        ImGui::GetIO().DeltaTime = 1.0f / 60.0f;
    }
    void button(int b, bool down) { ImGui::GetIO().MouseDown[b] = down; }
    void wheel(float notches) { ImGui::GetIO().MouseWheel = notches; }
    // From 1.87 ImGui takes modifiers as key events and NewFrame sets io.KeyShift from them.
    void shift(bool down) {
#if IMGUI_VERSION_NUM >= 18900
        ImGui::GetIO().AddKeyEvent(ImGuiMod_Shift, down);
#elif IMGUI_VERSION_NUM >= 18700
        ImGui::GetIO().AddKeyEvent(ImGuiKey_ModShift, down);
#else
        ImGui::GetIO().KeyShift = down;
#endif
    }

private:
    ImGuiContext* m_context;
};

Figure chunkFigure(std::size_t n, double scale = 1.0) {
    Figure f;
    f.title = "signal";
    f.x.label = "chunk";
    f.x.integerTicks = true;
    f.y.label = "value";
    Series a, b;
    a.name = "signal";
    b.name = "threshold";
    b.kind = SeriesKind::Step;
    b.colour = Colour::series(kOrange);
    for (std::size_t i = 0; i < n; ++i) {
        a.y.push_back(scale * std::sin(0.1 * i));
        b.y.push_back(scale * 0.5);
    }
    f.series = {a, b};
    return f;
}

// Whole pixels, as ImGui sees the mouse.
Point plotPoint(const PlotWidget& w, double fx, double fy) {
    const Rect& r = w.layout().plot;
    return {std::floor(r.x0 + fx * r.width()), std::floor(r.y0 + fy * r.height())};
}

Point pixelOf(const PlotWidget& w, double x, double y) {
    const Point p = w.layout().transform(w.view()).toPixel(x, y);
    return {std::floor(p.x), std::floor(p.y)};
}

}  // namespace

TEST_CASE("viz: widget: the first frame fits the data, then wheel zooms x about the cursor",
          "[viz][widget]") {
    Harness h;
    PlotWidget plot("p");
    const Figure f = chunkFigure(100);
    h.frame([&] { plot.draw(f); });
    CHECK(plot.view().x.min == Approx(-0.5));
    CHECK(plot.view().x.max == Approx(99.5));
    CHECK(plot.yFollowsData());

    const Point at = plotPoint(plot, 0.25, 0.5);
    const double anchor = plot.layout().transform(plot.view()).pixelToX(at.x);
    h.mouse(at.x, at.y);
    h.wheel(2);
    PlotEvents events;
    h.frame([&] { events = plot.draw(f); });
    CHECK(events.viewChanged);
    CHECK(plot.view().x.span() == Approx(100 * 0.8 * 0.8).epsilon(1e-6));
    // The value under the cursor stays under the cursor.
    CHECK(plot.layout().transform(plot.view()).pixelToX(at.x) == Approx(anchor).margin(1e-6));

    // Zooming out far is clamped to the data.
    h.wheel(-30);
    h.frame([&] { plot.draw(f); });
    CHECK(plot.view().x.min == Approx(-0.5));
    CHECK(plot.view().x.max == Approx(99.5));
    // Zooming in far stops at four chunks.
    h.wheel(60);
    h.frame([&] { plot.draw(f); });
    CHECK(plot.view().x.span() == Approx(4.0));
}

TEST_CASE("viz: widget: shift+wheel zooms y and stops y following the data", "[viz][widget]") {
    Harness h;
    PlotWidget plot("p");
    const Figure f = chunkFigure(50);
    h.frame([&] { plot.draw(f); });
    const double span = plot.view().y.span();
    const Point at = plotPoint(plot, 0.5, 0.5);
    h.mouse(at.x, at.y);
    h.shift(true);
    h.wheel(1);
    h.frame([&] { plot.draw(f); });
    h.shift(false);
    CHECK(plot.view().y.span() == Approx(span * 0.8));
    CHECK_FALSE(plot.yFollowsData());
    CHECK(plot.view().x.span() == Approx(50.0));
}

TEST_CASE("viz: widget: x-linked plots share the range, the crosshair and the left gutter",
          "[viz][widget]") {
    Harness h;
    PlotWidget top("top"), bottom("bottom");
    LinkedXAxis axis;
    const Figure small = chunkFigure(200, 0.1);
    const Figure large = chunkFigure(200, 123456.0);  // wider y labels
    PlotOptions options;
    options.size = ImVec2(0, 250);
    const auto both = [&] {
        top.draw(small, axis, options);
        bottom.draw(large, axis, options);
    };
    h.frame(both);
    h.frame(both);
    CHECK(top.layout().plot.x0 == Approx(bottom.layout().plot.x0));
    CHECK(top.layout().plot.x1 == Approx(bottom.layout().plot.x1));

    // Zoom the bottom plot: the top one follows.
    const Point at = plotPoint(bottom, 0.5, 0.5);
    h.mouse(at.x, at.y);
    h.wheel(3);
    h.frame(both);
    h.frame(both);
    CHECK(bottom.view().x.span() < 150);
    CHECK(top.view().x.min == Approx(bottom.view().x.min));
    CHECK(top.view().x.max == Approx(bottom.view().x.max));
    CHECK_FALSE(axis.followsData());

    // Hover the bottom plot over chunk 60: the shared crosshair is at 60.
    const Point over = pixelOf(bottom, 60.2, 0);
    h.mouse(over.x, plotPoint(bottom, 0, 0.5).y);
    h.frame(both);
    REQUIRE(axis.hoverX());
    CHECK(*axis.hoverX() == 60.0);
    CHECK_FALSE(top.hoverX());  // the top plot is not under the mouse, but draws the crosshair
    h.frame(both);
    REQUIRE(axis.hoverX());
    CHECK(*axis.hoverX() == 60.0);
    // A tooltip lists the hovered chunk's values.
    ImGuiWindow* tooltip = ImGui::FindWindowByName("##Tooltip_00");
    REQUIRE(tooltip != nullptr);
    CHECK(tooltip->Active);

    // Leaving the plots clears the crosshair.
    h.mouse(-100, -100);
    h.frame(both);
    h.frame(both);
    CHECK_FALSE(axis.hoverX());
}

TEST_CASE("viz: widget: x-linked plots share the right gutter one plot's line label needs",
          "[viz][widget]") {
    Harness h;
    PlotWidget top("top"), bottom("bottom");
    LinkedXAxis axis;
    const Figure plain = chunkFigure(200, 0.1);
    Figure labelled = chunkFigure(200, 0.1);
    labelled.lines.push_back({false, 0.05, "Oracle cutoff"});
    PlotOptions options;
    options.size = ImVec2(0, 250);
    const auto both = [&] {
        top.draw(plain, axis, options);
        bottom.draw(labelled, axis, options);
    };
    h.frame(both);
    h.frame(both);
    REQUIRE(bottom.layout().lineLabels.size() == 1);
    CHECK(bottom.layout().lineLabels[0].box.x0 > bottom.layout().plot.x1);
    CHECK(top.layout().lineLabels.empty());
    // The plain plot gives up the same room, so the chunk axes still line up.
    CHECK(top.layout().plot.x1 == Approx(bottom.layout().plot.x1));
    CHECK(top.layout().rightGutter < bottom.layout().rightGutter);
}

TEST_CASE("viz: widget: a click selects the chunk under the mouse, then a drag pans",
          "[viz][widget]") {
    Harness h;
    PlotWidget plot("p");
    const Figure f = chunkFigure(100);
    h.frame([&] { plot.draw(f); });
    const Point at = pixelOf(plot, 42.3, 0.0);
    h.mouse(at.x, plotPoint(plot, 0, 0.5).y);
    PlotEvents events;
    h.button(0, true);
    h.frame([&] { events = plot.draw(f); });
    CHECK_FALSE(events.clickedUnit);
    h.button(0, false);
    h.frame([&] { events = plot.draw(f); });
    REQUIRE(events.clickedUnit);
    CHECK(*events.clickedUnit == 42);

    // Zoom in, then drag 100 px to the left: the view moves right by 100 px worth of x.
    h.wheel(4);
    h.wait([&] { plot.draw(f); });
    const Range before = plot.view().x;
    const double perPixel = before.span() / plot.layout().plot.width();
    h.button(0, true);
    h.frame([&] { plot.draw(f); });
    h.mouse(at.x - 100, plotPoint(plot, 0, 0.5).y);
    h.frame([&] { events = plot.draw(f); });
    h.button(0, false);
    h.frame([&] { events = plot.draw(f); });
    CHECK_FALSE(events.clickedUnit);  // a drag is not a click
    CHECK(plot.view().x.min == Approx(before.min + 100 * perPixel));
    CHECK(plot.view().x.span() == Approx(before.span()));

    // A long drag stops at the end of the data.
    h.wait([&] { plot.draw(f); });
    h.button(0, true);
    h.frame([&] { plot.draw(f); });
    h.mouse(at.x - 2000, plotPoint(plot, 0, 0.5).y);
    h.frame([&] { plot.draw(f); });
    h.button(0, false);
    h.frame([&] { plot.draw(f); });
    CHECK(plot.view().x.max == Approx(99.5));
}

TEST_CASE("viz: widget: double-click fits x and y to the data again", "[viz][widget]") {
    Harness h;
    PlotWidget plot("p");
    const Figure f = chunkFigure(100);
    h.frame([&] { plot.draw(f); });
    const Point at = plotPoint(plot, 0.3, 0.5);
    h.mouse(at.x, at.y);
    h.wheel(5);
    h.shift(true);
    h.frame([&] { plot.draw(f); });
    h.shift(false);
    h.wheel(5);
    h.frame([&] { plot.draw(f); });
    REQUIRE(plot.view().x.span() < 50);
    REQUIRE_FALSE(plot.yFollowsData());
    for (bool down : {true, false, true, false}) {
        h.button(0, down);
        h.frame([&] { plot.draw(f); });
    }
    h.frame([&] { plot.draw(f); });
    CHECK(plot.view().x.min == Approx(-0.5));
    CHECK(plot.view().x.max == Approx(99.5));
    CHECK(plot.yFollowsData());
}

TEST_CASE("viz: widget: a double-click on the title asks to enlarge, one on the data fits",
          "[viz][widget]") {
    Harness h;
    PlotWidget plot("p");
    const Figure f = chunkFigure(100);
    h.frame([&] { plot.draw(f); });
    REQUIRE_FALSE(plot.layout().title.empty());
    const auto doubleClick = [&](Point at) {
        h.mouse(at.x, at.y);
        bool asked = false;
        for (bool down : {true, false, true, false}) {
            h.button(0, down);
            h.frame([&] { asked |= plot.draw(f).headerDoubleClicked; });
        }
        h.wait([&] { plot.draw(f); });
        return asked;
    };
    const auto& title = plot.layout().title.front();
    CHECK(doubleClick({std::floor(title.at.x + 4), std::floor(title.at.y + 4)}));
    CHECK_FALSE(doubleClick(plotPoint(plot, 0.5, 0.5)));
    // A legend entry toggles its series instead.
    const auto& entry = plot.layout().legend.front().box;
    CHECK_FALSE(doubleClick({std::floor(entry.x0 + 2), std::floor(entry.y0 + 2)}));
}

TEST_CASE("viz: widget: right-drag zooms to the box, then right-click opens the menu",
          "[viz][widget]") {
    Harness h;
    PlotWidget plot("p");
    const Figure f = chunkFigure(100);
    h.frame([&] { plot.draw(f); });
    const Transform t = plot.layout().transform(plot.view());
    const Point a = plotPoint(plot, 0.25, 0.25), b = plotPoint(plot, 0.75, 0.75);
    const Range expectX{t.pixelToX(a.x), t.pixelToX(b.x)};
    const Range expectY{t.pixelToY(b.y), t.pixelToY(a.y)};
    h.mouse(a.x, a.y);
    h.button(1, true);
    h.frame([&] { plot.draw(f); });
    h.mouse(b.x, b.y);
    h.frame([&] { plot.draw(f); });
    h.button(1, false);
    h.frame([&] { plot.draw(f); });
    CHECK(plot.view().x.min == Approx(expectX.min));
    CHECK(plot.view().x.max == Approx(expectX.max));
    CHECK(plot.view().y.min == Approx(expectY.min));
    CHECK(plot.view().y.max == Approx(expectY.max));
    CHECK_FALSE(plot.yFollowsData());

    // Right-click in place: the context menu opens; its last item copies the CSV.
    h.button(1, true);
    h.frame([&] { plot.draw(f); });
    h.button(1, false);
    h.frame([&] { plot.draw(f); });
    h.frame([&] { plot.draw(f); });
    REQUIRE(ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId));
    ImGuiWindow* menu = GImGui->OpenPopupStack.back().Window;
    REQUIRE(menu != nullptr);
    const ImGuiStyle& style = ImGui::GetStyle();
    const float lastItemY =
        menu->Pos.y + menu->Size.y - style.WindowPadding.y - 0.5f * ImGui::GetFontSize();
    h.mouse(menu->Pos.x + 0.5f * menu->Size.x, lastItemY);
    h.frame([&] { plot.draw(f); });
    PlotEvents events;
    h.button(0, true);
    h.frame([&] { events = plot.draw(f); });
    h.button(0, false);
    h.frame([&] { events = plot.draw(f); });
    CHECK(events.csvCopied);
    const std::string clipboard = ImGui::GetClipboardText();
    CHECK(clipboard.rfind("chunk,signal,threshold\n0,0,0.5\n", 0) == 0);
}

TEST_CASE("viz: widget: a legend click hides and shows a series", "[viz][widget]") {
    Harness h;
    PlotWidget plot("p");
    Figure f = chunkFigure(60);
    f.series[1].y.assign(60, 50.0);  // the threshold sets the y range while it is shown
    h.frame([&] { plot.draw(f); });
    REQUIRE(plot.layout().legend.size() == 2);
    CHECK(plot.view().y.max > 50);
    const Rect box = plot.layout().legend[1].box;
    const auto click = [&] {
        PlotEvents events;
        h.mouse(0.5 * (box.x0 + box.x1), 0.5 * (box.y0 + box.y1));
        h.button(0, true);
        h.frame([&] { events = plot.draw(f); });
        h.button(0, false);
        h.frame([&] { events = plot.draw(f); });
        return events;
    };
    auto events = click();
    REQUIRE(events.toggledSeries);
    CHECK(*events.toggledSeries == 1);
    CHECK(plot.isHidden("threshold"));
    CHECK_FALSE(events.clickedUnit);
    h.frame([&] { plot.draw(f); });
    CHECK(plot.view().y.max < 2);  // y refits to what is visible
    const Figure shown = plot.snapshot(f);
    CHECK_FALSE(shown.series[1].visible);
    CHECK(figureCsv(shown).rfind("chunk,signal\n", 0) == 0);
    click();
    CHECK_FALSE(plot.isHidden("threshold"));
}

TEST_CASE("viz: widget: clicking a scatter point reports its id", "[viz][widget]") {
    Harness h;
    PlotWidget plot("s");
    Figure f;
    Series s;
    s.kind = SeriesKind::Scatter;
    s.name = "units";
    s.x = {0.1, 0.5, 0.9};
    s.y = {1.0, 3.0, 2.0};
    s.ids = {7, 11, 13};
    f.series = {s};
    h.frame([&] { plot.draw(f); });
    const Point p = pixelOf(plot, 0.5, 3.0);
    h.mouse(p.x + 2, p.y - 1);
    PlotEvents events;
    h.button(0, true);
    h.frame([&] { plot.draw(f); });
    h.button(0, false);
    h.frame([&] { events = plot.draw(f); });
    REQUIRE(events.clickedUnit);
    CHECK(*events.clickedUnit == 11);
}

TEST_CASE("viz: widget: hovering near a scatter point shows a tooltip, away from every point none",
          "[viz][widget]") {
    Harness h;
    PlotWidget plot("s");
    Figure f;
    Series s;
    s.kind = SeriesKind::Scatter;
    s.name = "units";
    s.x = {0.1, 0.5, 0.9};
    s.y = {1.0, 3.0, 2.0};
    f.series = {s};
    h.frame([&] { plot.draw(f); });
    const auto tooltipShown = [] {
        ImGuiWindow* tooltip = ImGui::FindWindowByName("##Tooltip_00");
        return tooltip != nullptr && tooltip->Active;
    };
    const Point p = pixelOf(plot, 0.5, 3.0);
    h.mouse(p.x + 3, p.y + 4);  // 5 px off: inside the 12 px pick radius
    h.frame([&] { plot.draw(f); });
    CHECK(tooltipShown());
    h.mouse(p.x + 30, p.y + 40);  // 50 px from the nearest point
    h.frame([&] { plot.draw(f); });
    CHECK_FALSE(tooltipShown());
}

TEST_CASE("viz: widget: the DPI scale widens lines, padding and the default height",
          "[viz][widget]") {
    Harness h;
    PlotWidget one("one"), two("two");
    const Figure f = chunkFigure(10);
    h.frame([&] {
        PlotOptions a;
        a.size = ImVec2(400, 0);
        one.draw(f, a);
        PlotOptions b = a;
        b.dpiScale = 2.0f;
        two.draw(f, b);
    });
    CHECK(two.layout().outer.height() == Approx(2 * one.layout().outer.height()));
    CHECK(two.layout().plot.y0 - two.layout().outer.y0 >
          one.layout().plot.y0 - one.layout().outer.y0);
}

TEST_CASE("viz: widget: theme follows ImGui's style colours", "[viz][widget]") {
    Harness h;
    ImGui::StyleColorsDark();
    CHECK(themeFromImGui().dark);
    ImGui::StyleColorsLight();
    CHECK_FALSE(themeFromImGui().dark);
}

// What a frame of a huge series costs is bounded by decimation: the vertex count, not the
// points. (Its time is printed, not asserted: these VMs are too noisy for time budgets.)
TEST_CASE("viz: widget: a frame with 100,000 points draws a bounded number of vertices",
          "[viz][widget]") {
    Harness h;
    PlotWidget plot("big");
    const Figure f = chunkFigure(100000);
    h.frame([&] { plot.draw(f); });
    const Point at = plotPoint(plot, 0.5, 0.5);
    h.mouse(at.x, at.y);  // hovered: tooltip and crosshair too
    double best = 1e9;
    for (int i = 0; i < 5; ++i) {
        const auto start = std::chrono::steady_clock::now();
        h.frame([&] { plot.draw(f); });
        best = std::min(best, std::chrono::duration<double, std::milli>(
                                  std::chrono::steady_clock::now() - start)
                                  .count());
    }
    INFO("one frame with two 100k-point series: " << best << " ms (about 3 ms in a release build)");
    ImDrawData* data = ImGui::GetDrawData();
    REQUIRE(data != nullptr);
    CHECK(data->TotalVtxCount < 200000);
}

namespace {

// A scatter title with its correlations, as viz::runFigures builds it (negative r).
Figure longTitleFigure() {
    RunFigureData data;
    data.title = "_pydecimal.py";
    data.pearson = -0.2714;
    data.spearman = -0.25;
    data.correlationUnits = 120;
    for (int i = 0; i < 120; ++i) {
        data.signal.push_back(std::sin(0.3 * i));
        data.advantage.push_back(std::cos(0.2 * i));
        data.decisions.push_back(i % 3 == 0);
    }
    return scatterFigure(data);
}

}  // namespace

TEST_CASE("viz: widget: a long title wraps at a readable size instead of shrinking",
          "[viz][widget]") {
    Harness h;
    PlotWidget plot("scatter");
    const Figure f = longTitleFigure();
    REQUIRE(f.title.find("r = \u22120.271") != std::string::npos);  // a real minus sign
    PlotOptions options;
    options.size = ImVec2(300, 260);  // the scatter's half of the plots pane at 1280 x 800
    h.frame([&] { plot.draw(f, options); });
    const FigureLayout& layout = plot.layout();
    // Never below 11 px, nor below 0.85 of the font the rest of the plot uses.
    CHECK(layout.titlePx >= 11.0);
    CHECK(layout.titlePx >= 0.85 * ImGui::GetIO().Fonts->Fonts[0]->FontSize - 1e-9);
    REQUIRE(layout.title.size() >= 2);
    std::string joined;
    for (const auto& line : layout.title) {
        const ImVec2 size =
            ImGui::GetFont()->CalcTextSizeA(float(layout.titlePx), FLT_MAX, 0, line.text.data(),
                                            line.text.data() + line.text.size());
        CHECK(line.at.x >= layout.outer.x0);
        CHECK(line.at.x + size.x <= layout.outer.x1 + 0.5);
        joined += (joined.empty() ? "" : " ") + line.text;
    }
    CHECK(joined == f.title);  // wrapped whole: nothing (not the sign) dropped

    // Too narrow even for three lines: the last one ends in an ellipsis, still full size.
    PlotWidget narrow("narrow");
    options.size = ImVec2(120, 260);
    h.frame([&] { narrow.draw(f, options); });
    CHECK(narrow.layout().titlePx >= 11.0);
    REQUIRE(narrow.layout().title.size() == 3);
    const std::string& last = narrow.layout().title.back().text;
    CHECK(last.size() >= 3);
    CHECK(last.compare(last.size() - 3, 3, "\u2026") == 0);
}

TEST_CASE("viz: widget: a selected unit marks the scatter's point, never the sweep's nth rate",
          "[viz][widget]") {
    Harness h;
    RunFigureData data;
    for (int i = 0; i < 30; ++i) {
        data.signal.push_back(0.1 * i);
        data.advantage.push_back(std::sin(0.5 * i));
        data.decisions.push_back(i % 2);
    }
    for (int r = 0; r <= 20; ++r)
        data.sweep.push_back({0.05 * r, 2.0 - 0.01 * r, 2.0, 2.0, 1.9});
    const Figure sweep = sweepFigure(data), scatter = scatterFigure(data);
    const std::vector<bool> all(8, true);
    // The sweep's points are rates (no unit ids): unit 5 is none of them, though its 6th point
    // is at index 5 (rate 0.25).
    CHECK(pointsOfUnit(sweep, all, 5).empty());
    // The scatter's points are units: unit 5 is the point at (signal[5], advantage[5]).
    const auto points = pointsOfUnit(scatter, all, 5);
    REQUIRE(points.size() == 1);
    const Series& s = scatter.series[points[0].first];
    CHECK(s.xAt(points[0].second) == Approx(data.signal[5]));
    CHECK(s.y[points[0].second] == Approx(data.advantage[5]));

    // On screen: selecting unit 5 adds nothing to the sweep, and a ring to the scatter.
    const auto vertices = [&](const Figure& f, std::optional<std::int64_t> unit) {
        PlotWidget plot("p");
        PlotOptions options;
        options.size = ImVec2(400, 260);
        options.selectedUnit = unit;
        h.frame([&] { plot.draw(f, options); });
        return ImGui::GetDrawData()->TotalVtxCount;
    };
    h.mouse(-100, -100);
    CHECK(vertices(sweep, 5) == vertices(sweep, std::nullopt));
    CHECK(vertices(scatter, 5) > vertices(scatter, std::nullopt));
}
