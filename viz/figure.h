// The figure model: a plain description of one plot (axes, series, reference lines, shaded
// regions, legend, title) that both the ImGui widget and the file exporter draw, so a saved
// figure looks like the one on screen.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "viz/palette.h"
#include "viz/plot_math.h"

namespace ponder::viz {

enum class SeriesKind {
    Line,     // points joined in x order; NaN breaks the line
    Step,     // each value held over its chunk (halfway to the neighbours)
    Scatter,  // a 2-D cloud, x in any order; hover finds the nearest point
    Bars,     // from barBase to y, barWidth wide
    Markers,  // symbols at ascending x (events such as decisions)
};

enum class MarkerShape { None, Circle, Ring, Square, Diamond, TriangleUp, TriangleDown, Cross };
enum class LineStyle { Solid, Dashed, Dotted };

struct Series {
    std::string name;
    SeriesKind kind = SeriesKind::Line;
    std::vector<double> x;  // empty: x_i = i, the chunk index
    std::vector<double> y;  // NaN: a gap
    // Optional id of each point (e.g. its unit when a scatter is split by decision), reported
    // when the point is clicked; empty: the point's index.
    std::vector<std::int64_t> ids;
    Colour colour = Colour::series(kBlue);
    float lineWidth = 1.5f;  // points (1/72 in); scaled by DPI when drawn
    LineStyle lineStyle = LineStyle::Solid;
    // Line and Step: also a symbol at each point when not None. Scatter and Markers: the symbol
    // (None there means Circle).
    MarkerShape marker = MarkerShape::None;
    float markerSize = 5.0f;  // points, across
    double barWidth = 0.8;    // plot units
    double barBase = 0.0;
    // Bars: each bar's own base (a stacked part drawn from the part below it); empty: barBase.
    std::vector<double> barBases;
    bool visible = true;  // the widget's legend toggles its own copy of this
    bool inLegend = true;

    std::size_t size() const { return y.size(); }
    // The point's own value: y, or for a stacked bar its height above its base (what the
    // tooltip and the CSV give).
    double valueAt(std::size_t i) const {
        return barBases.size() == y.size() ? y[i] - barBases[i] : y[i];
    }
    double xAt(std::size_t i) const { return x.empty() ? static_cast<double>(i) : x[i]; }
    std::int64_t idAt(std::size_t i) const {
        return i < ids.size() ? ids[i] : static_cast<std::int64_t>(i);
    }
    XYView view() const { return {x.empty() ? nullptr : x.data(), y.data(), y.size()}; }
    // Ordered x (everything but Scatter): binary searches and per-column decimation apply.
    bool xAscending() const { return kind != SeriesKind::Scatter; }
};

struct Axis {
    std::string label;
    std::string unit;            // shown as "label (unit)"
    bool integerTicks = false;   // chunk axes: ticks on whole numbers only, x is the unit index
    std::optional<Range> range;  // fixed; otherwise fitted to the data
    bool includeZero = false;    // the fit keeps 0 in view (bars, advantages)
    // Named rows instead of numeric ticks (a decision strip's "Ours" and "Oracle"): a tick and
    // its name at each value inside the view.
    std::vector<std::pair<double, std::string>> categories;
    // Named spans, each from its value to the next one's (a folder run's files on the chunk
    // axis, by first chunk, ascending): a hover names the span it is in.
    std::vector<std::pair<double, std::string>> segments;
    // The name of the span holding `value`, or "" when before the first or there are none.
    const std::string& segmentAt(double value) const;

    std::string title() const { return unit.empty() ? label : label + " (" + unit + ")"; }
};

struct RefLine {
    bool vertical = false;  // false: y = value across the axes; true: x = value
    double value = 0;
    std::string label;  // drawn beside the line
    Colour colour = Colour::muted();
    LineStyle style = LineStyle::Dashed;
    float width = 1.0f;
};

struct XRegion {
    double x0 = 0, x1 = 0;
    std::string label;  // drawn at the region's top
    Colour colour = Colour::muted(0.15f);
};

enum class LegendPosition { None, Above, TopLeft, TopRight, BottomLeft, BottomRight };

struct Figure {
    std::string title;
    Axis x, y;
    std::vector<Series> series;
    std::vector<RefLine> lines;
    std::vector<XRegion> regions;
    LegendPosition legend = LegendPosition::Above;
};

// x extent of the visible series (bars include their width; chunk axes get half a chunk each
// side so the first and last bars are whole), padded; the axis' fixed range when it has one.
Range fitX(const Figure& figure, const std::vector<bool>& visible);
// y extent of the visible series within `x`, with horizontal reference lines, bar bases and
// zero when asked, padded 5% each side; the axis' fixed range when it has one.
Range fitY(const Figure& figure, const std::vector<bool>& visible, const Range& x);
// Series::visible of each series.
std::vector<bool> visibilityOf(const Figure& figure);

// The visible series as CSV: one row per x with a column per series when every series shares
// the same x ("x-title,name1,name2"), else long form "series,x,y". NaN cells are empty.
std::string figureCsv(const Figure& figure);

}  // namespace ponder::viz
