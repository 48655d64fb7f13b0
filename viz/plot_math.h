// Plot maths shared by the ImGui widget and the file exporter: transforms, ticks, number
// formats, decimation, hit tests and view operations. Pure functions, no ImGui, no Cairo.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace ponder::viz {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A closed interval of plot values.
struct Range {
    double min = 0, max = 1;

    double span() const { return max - min; }
    double centre() const { return 0.5 * (min + max); }
    // Finite with max > min: something a transform can map.
    bool valid() const;
    bool contains(double v) const { return v >= min && v <= max; }
};

// The smallest range holding both (an invalid side is ignored; both invalid: {NaN, NaN}).
Range unite(const Range& a, const Range& b);
// An empty accumulator for unite()/extend().
constexpr Range kEmptyRange{std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::infinity()};
// kEmptyRange grown to hold v (NaN and infinities are ignored).
void extend(Range& range, double v);

struct Point {
    double x = 0, y = 0;
};

// Pixel rectangle, y down (screen and Cairo convention).
struct Rect {
    double x0 = 0, y0 = 0, x1 = 0, y1 = 0;

    double width() const { return x1 - x0; }
    double height() const { return y1 - y0; }
    bool contains(Point p) const { return p.x >= x0 && p.x <= x1 && p.y >= y0 && p.y <= y1; }
};

// Plot values <-> pixels for one axes rectangle; y grows upwards in plot space.
class Transform {
public:
    Transform() = default;
    Transform(Range x, Range y, Rect pixels);

    double xToPixel(double x) const { return m_px.x0 + (x - m_x.min) * m_sx; }
    double yToPixel(double y) const { return m_px.y1 - (y - m_y.min) * m_sy; }
    Point toPixel(double x, double y) const { return {xToPixel(x), yToPixel(y)}; }
    double pixelToX(double px) const { return m_x.min + (px - m_px.x0) / m_sx; }
    double pixelToY(double py) const { return m_y.min + (m_px.y1 - py) / m_sy; }

    const Range& x() const { return m_x; }
    const Range& y() const { return m_y; }
    const Rect& pixels() const { return m_px; }

private:
    Range m_x, m_y;
    Rect m_px{0, 0, 1, 1};
    double m_sx = 1, m_sy = 1;  // pixels per plot unit
};

// --- Ticks and labels -------------------------------------------------------------------

struct Ticks {
    std::vector<double> values;  // ascending, inside the range
    double step = 0;
};

// The 1, 2 or 5 x 10^k at or above `raw`.
double niceStep(double raw);
// The 1/2/5 step below a 1/2/5 `step` (5 -> 2 -> 1 -> 0.5).
double niceStepBelow(double step);
// Ticks at multiples of a 1/2/5 step, inside `range`: about `maxCount` (>= 2) at most, but never
// fewer than 3 for a valid range (the step goes down the 1-2-5 sequence until 3 fit, which may
// give a few more than `maxCount`: up to 7 when the budget is under 3).
Ticks niceTicks(const Range& range, int maxCount);
// The same with a step of at least 1, for chunk axes: ticks only on whole numbers; at least 3
// whenever the range holds 3 whole numbers.
Ticks integerTicks(const Range& range, int maxCount);
// Every multiple of `step` inside `range` (none for an invalid range or step).
Ticks ticksAtStep(const Range& range, double step);
// How many ticks fit along `lengthPx` with about `spacingPx` between them (at least 2).
int tickBudget(double lengthPx, double spacingPx);

// Tick label with just enough decimals for `step`; thousands and up shortened (12k, 1.5M),
// tiny steps in scientific form (2e-05); never "-0".
std::string formatTick(double value, double step);
// About `significant` significant digits, compact (tooltips, legends): 0.123, 1.23k, 1.2e-05.
std::string formatCompact(double value, int significant = 3);

// Which labels to draw so that none overlap: keeps the labels whose tick index (firstIndex + i,
// e.g. round(value / step)) is a multiple of s, the smallest stride that leaves at least `gap`
// pixels between neighbours. `centres` ascending, `widths` alike (extents along the axis: text
// widths on x, heights on y). When that keeps fewer than `minKept` labels, the smallest stride
// and offset that keep `minKept` without overlap wins instead (0.5, 1.5, 2.5 rather than 1, 2);
// when none does, the round choice stands.
std::vector<bool> pruneLabels(const std::vector<double>& centres, const std::vector<double>& widths,
                              double gap, long long firstIndex = 0, std::size_t minKept = 1);

// Starts of labels along one axis placed as near their wanted starts as they can be while none
// overlaps another (at least `gap` apart) and each stays inside [lo, hi]; labels are ordered by
// wanted start, ties by index. When they do not all fit, the later ones in index order are
// dropped (NaN start) until the rest do.
std::vector<double> spreadLabels(const std::vector<double>& wanted,
                                 const std::vector<double>& sizes, double lo, double hi,
                                 double gap);

// --- Data access ------------------------------------------------------------------------

// A read-only view of one series' points; x == nullptr means x_i = i (the chunk index).
struct XYView {
    const double* x = nullptr;
    const double* y = nullptr;
    std::size_t n = 0;

    double xAt(std::size_t i) const { return x ? x[i] : static_cast<double>(i); }
};

// --- Decimation (what gets drawn) -------------------------------------------------------

// Pixel polyline of a line series with x ascending, NaN points (the separators) marking gaps.
// Only points within the transform's x range (plus one neighbour each side) are visited; per
// pixel column at most first, min, max and last survive, so the shape (spikes included) is
// kept while 100,000 points become ~4 per column. `step`: each point's value holds over the
// interval halfway to its neighbours (centred steps, as chunk values are).
void decimateLine(const XYView& data, const Transform& t, bool step, std::vector<Point>& out);
// Scatter and markers: pixel positions inside the axes, one per `cellPx` cell (the first point
// in data order wins); `indices` (optional) receives the data index of each. `xAscending`
// (markers, not scatter clouds) lets it visit only the visible window.
void decimatePoints(const XYView& data, const Transform& t, double cellPx, bool xAscending,
                    std::vector<Point>& out, std::vector<std::size_t>* indices = nullptr);
// Bars of `width` plot units from `base`: one rectangle per visible bar, or, where bars are
// narrower than `minBarPx` pixels, one per pixel column spanning the column's bars. `bases`
// (optional, one per point, a stacked series' own bases) replaces `base` bar by bar.
void decimateBars(const XYView& data, double base, double width, const Transform& t,
                  double minBarPx, std::vector<Rect>& out, const double* bases = nullptr);

// Splits a polyline (NaN-separated like decimateLine's) into dashes of `on` and gaps of `off`
// pixels, NaN-separated. on <= 0 copies the input.
void dashPolyline(const std::vector<Point>& in, double on, double off, std::vector<Point>& out);

// --- Hit tests --------------------------------------------------------------------------

// Index whose x is nearest `x` (x ascending or implicit); -1 for no points. NaN y counts too:
// the caller decides whether a gap is worth reporting.
std::ptrdiff_t nearestIndexByX(const XYView& data, double x);
// Index of the finite point nearest `mouse` in pixels within `maxDistancePx`; -1 for none.
std::ptrdiff_t nearestPoint(const XYView& data, const Transform& t, Point mouse,
                            double maxDistancePx);

// A point of one of several series (a figure's, in figure order).
struct SeriesPoint {
    std::size_t series = 0;
    std::size_t index = 0;
};

// Index of the point giving the series' value at `x` on a chunk axis: the point nearest x by x
// (nearestIndexByX's tie rules) when it lies within half a unit of x (inclusive) and its y is
// finite; -1 otherwise (no points, x out of range, NaN x, a gap). A gap reads as no value
// rather than borrowing a neighbour's, and no line is interpolated: a chunk holds one value.
std::ptrdiff_t pointAtX(const XYView& data, double x);
// pointAtX over several series: one entry per series with a value at `x`, in series order.
// include[i] false skips series i (hidden, or not chunk-valued); series past include's end count.
std::vector<SeriesPoint> seriesPointsAtX(const std::vector<XYView>& series,
                                         const std::vector<bool>& include, double x);
// The finite point nearest `at` in pixels within `maxDistancePx` (inclusive) over several series,
// include[] as for seriesPointsAtX. Within a series the first of equally near points wins (as
// nearestPoint); across series an equally near point of a later series wins, since later series
// are drawn on top. nullopt for none.
std::optional<SeriesPoint> nearestSeriesPoint(const std::vector<XYView>& series,
                                              const std::vector<bool>& include, const Transform& t,
                                              Point at, double maxDistancePx);

// --- View operations --------------------------------------------------------------------

// Zoom by `factor` (< 1 zooms in) keeping `anchor` where it is on screen.
Range zoomAbout(const Range& range, double anchor, double factor);
Range panBy(const Range& range, double delta);
// Keeps `range` inside `limits` (shifting first, shrinking only if wider than the limits) and
// at least `minSpan` wide. An invalid `limits` clamps only the span.
Range clampRange(const Range& range, const Range& limits, double minSpan);
// Data extent padded by `fraction` of its span each side; a single value or a zero span gets a
// sensible width around it; an invalid extent becomes [0, 1].
Range paddedRange(const Range& extent, double fraction);
// x extent of finite points (x ascending or not).
Range xExtent(const XYView& data);
// y extent of the finite points whose x lies in `xRange` (binary search when x ascending).
Range yExtentWithin(const XYView& data, const Range& xRange, bool xAscending);

}  // namespace ponder::viz
