// Plot maths: ticks, number formats, min-max decimation, hit tests (nearest point, value at a
// chunk) and view operations.
#include "viz/plot_math.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ponder::viz {

namespace {

bool finite(double v) {
    return std::isfinite(v);
}

// Series past the end of the mask count as included, as in drawFigure's `visible`.
bool included(const std::vector<bool>& include, std::size_t i) {
    return i >= include.size() || include[i];
}

// First index with x >= value over an ascending or implicit x.
std::size_t lowerIndex(const XYView& d, double value) {
    if (!d.x) {
        if (!(value > 0)) return 0;
        return std::min(d.n, static_cast<std::size_t>(std::ceil(value)));
    }
    return static_cast<std::size_t>(std::lower_bound(d.x, d.x + d.n, value) - d.x);
}

// First index with x > value.
std::size_t upperIndex(const XYView& d, double value) {
    if (!d.x) {
        if (value < 0) return 0;
        if (value >= static_cast<double>(d.n)) return d.n;
        return std::min(d.n, static_cast<std::size_t>(std::floor(value)) + 1);
    }
    return static_cast<std::size_t>(std::upper_bound(d.x, d.x + d.n, value) - d.x);
}

// Visible index window [lo, hi) of an x-ascending series, one neighbour beyond each side so a
// line entering the view from outside is drawn up to the edge.
void visibleWindow(const XYView& d, const Range& x, std::size_t& lo, std::size_t& hi) {
    lo = lowerIndex(d, x.min);
    hi = upperIndex(d, x.max);
    lo = lo > 0 ? lo - 1 : 0;
    hi = std::min(d.n, hi + 1);
    if (hi < lo) hi = lo;
}

// Keeps first, min, max and last of each pixel column, in data order.
class ColumnBucket {
public:
    explicit ColumnBucket(std::vector<Point>& out) : m_out(out) {}

    void add(Point p) {
        if (!finite(p.x) || !finite(p.y)) {
            gap();
            return;
        }
        const double column = std::floor(p.x);
        if (m_count > 0 && column != m_column) flush();
        if (m_count == 0) {
            m_column = column;
            m_first = m_last = m_min = m_max = {p, m_seq};
        } else {
            m_last = {p, m_seq};
            if (p.y < m_min.p.y) m_min = {p, m_seq};
            if (p.y > m_max.p.y) m_max = {p, m_seq};
        }
        ++m_count;
        ++m_seq;
    }

    void gap() {
        flush();
        if (!m_out.empty() && !std::isnan(m_out.back().x)) m_out.push_back({kNaN, kNaN});
    }

    void flush() {
        if (m_count == 0) return;
        const Entry* lowFirst = m_min.seq <= m_max.seq ? &m_min : &m_max;
        const Entry* highFirst = m_min.seq <= m_max.seq ? &m_max : &m_min;
        long long last = -1;
        const Entry* order[4] = {&m_first, lowFirst, highFirst, &m_last};
        for (const Entry* e : order) {
            if (e->seq == last) continue;
            m_out.push_back(e->p);
            last = e->seq;
        }
        m_count = 0;
    }

private:
    struct Entry {
        Point p;
        long long seq = -1;
    };
    std::vector<Point>& m_out;
    double m_column = 0;
    std::size_t m_count = 0;
    long long m_seq = 0;
    Entry m_first, m_last, m_min, m_max;
};

// Liang-Barsky: clips segment a-b to `r`; false when it lies wholly outside.
bool clipSegment(Point& a, Point& b, const Rect& r) {
    double t0 = 0, t1 = 1;
    const double dx = b.x - a.x, dy = b.y - a.y;
    const double p[4] = {-dx, dx, -dy, dy};
    const double q[4] = {a.x - r.x0, r.x1 - a.x, a.y - r.y0, r.y1 - a.y};
    for (int i = 0; i < 4; ++i) {
        if (p[i] == 0) {
            if (q[i] < 0) return false;
            continue;
        }
        const double t = q[i] / p[i];
        if (p[i] < 0) {
            if (t > t1) return false;
            t0 = std::max(t0, t);
        } else {
            if (t < t0) return false;
            t1 = std::min(t1, t);
        }
    }
    const Point start = a;
    a = {start.x + t0 * dx, start.y + t0 * dy};
    b = {start.x + t1 * dx, start.y + t1 * dy};
    return true;
}

// Clips a NaN-separated polyline to a guard band around the axes, so far-off points (a huge
// value, a neighbour far outside a deep zoom) never reach a renderer's fixed-point limits.
// Breaks only happen outside the band, where nothing is visible anyway.
void clipPolyline(std::vector<Point>& points, const Rect& guard) {
    std::vector<Point> out;
    out.reserve(points.size());
    auto breakLine = [&] {
        if (!out.empty() && !std::isnan(out.back().x)) out.push_back({kNaN, kNaN});
    };
    for (std::size_t i = 0; i < points.size(); ++i) {
        const Point p = points[i];
        if (std::isnan(p.x)) {
            breakLine();
            continue;
        }
        const bool hasNext = i + 1 < points.size() && !std::isnan(points[i + 1].x);
        const bool startsRun = i == 0 || std::isnan(points[i - 1].x);
        if (!hasNext) {
            // A lone point (or a run's end, already emitted by its segment).
            if (startsRun && guard.contains(p)) {
                out.push_back(p);
                breakLine();
            }
            continue;
        }
        Point a = p, b = points[i + 1];
        if (!clipSegment(a, b, guard)) {
            breakLine();
            continue;
        }
        const bool continues =
            !out.empty() && !std::isnan(out.back().x) && out.back().x == a.x && out.back().y == a.y;
        if (!continues) {
            breakLine();
            out.push_back(a);
        }
        out.push_back(b);
        // A clipped end means the next segment starts elsewhere.
        if (b.x != points[i + 1].x || b.y != points[i + 1].y) breakLine();
    }
    points.swap(out);
}

Rect guardBand(const Rect& r) {
    const double w = std::max(1.0, r.width()), h = std::max(1.0, r.height());
    return {r.x0 - w, r.y0 - h, r.x1 + w, r.y1 + h};
}

std::string trimMinusZero(std::string text) {
    if (!text.empty() && text[0] == '-' && text.find_first_not_of("0.", 1) == std::string::npos)
        text.erase(0, 1);
    return text;
}

}  // namespace

bool Range::valid() const {
    return finite(min) && finite(max) && max > min;
}

Range unite(const Range& a, const Range& b) {
    const bool aOk = finite(a.min) && finite(a.max) && a.max >= a.min;
    const bool bOk = finite(b.min) && finite(b.max) && b.max >= b.min;
    if (aOk && bOk) return {std::min(a.min, b.min), std::max(a.max, b.max)};
    if (aOk) return a;
    if (bOk) return b;
    return {kNaN, kNaN};
}

void extend(Range& range, double v) {
    if (!finite(v)) return;
    range.min = std::min(range.min, v);
    range.max = std::max(range.max, v);
}

Transform::Transform(Range x, Range y, Rect pixels) : m_x(x), m_y(y), m_px(pixels) {
    m_sx = x.valid() ? pixels.width() / x.span() : 1.0;
    m_sy = y.valid() ? pixels.height() / y.span() : 1.0;
}

double niceStep(double raw) {
    if (!(raw > 0) || !finite(raw)) return 1.0;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double fraction = raw / magnitude;
    // A little slack so 0.2 / 0.1 = 2.0000000000000004 still counts as 2.
    constexpr double kSlack = 1e-9;
    double nice = 10;
    if (fraction <= 1 + kSlack)
        nice = 1;
    else if (fraction <= 2 + kSlack)
        nice = 2;
    else if (fraction <= 5 + kSlack)
        nice = 5;
    return nice * magnitude;
}

namespace {

// Fewer ticks than this leave an axis unreadable: one tick names a value but not a scale.
constexpr std::size_t kMinTicks = 3;

Ticks ticksWithStep(const Range& range, double step) {
    Ticks ticks;
    ticks.step = step;
    const double first = std::ceil(range.min / step - 1e-9);
    const double last = std::floor(range.max / step + 1e-9);
    for (double k = first; k <= last && ticks.values.size() < 1000; ++k) {
        double v = k * step;
        if (std::abs(v) < step * 1e-9) v = 0;  // exact zero, never 1e-17
        // 6 x 0.1 is 0.6000000000000001: an end tick within the slack lands on the end.
        ticks.values.push_back(std::clamp(v, range.min, range.max));
    }
    return ticks;
}

// Ticks at `step`, stepped down the 1-2-5 sequence (not below `minStep`) until at least
// kMinTicks fall inside the range. A small budget rounds its step up past the span (a short
// advantage axis showed a lone "0"); the finer step may exceed the budget by a few ticks, which
// the layout's label pruning absorbs.
Ticks atLeastThreeTicks(const Range& range, double step, double minStep) {
    Ticks ticks = ticksWithStep(range, std::max(step, minStep));
    // Each step down is a third of a decade; the cap only stops a degenerate range looping.
    for (int i = 0; i < 200 && ticks.values.size() < kMinTicks && ticks.step > minStep; ++i)
        ticks = ticksWithStep(range, std::max(niceStepBelow(ticks.step), minStep));
    return ticks;
}

}  // namespace

double niceStepBelow(double step) {
    if (!(step > 0) || !finite(step)) return 1.0;
    const double magnitude = std::pow(10.0, std::floor(std::log10(step) + 1e-9));
    const double fraction = step / magnitude;  // about 1, 2 or 5
    if (fraction < 1.5) return 0.5 * magnitude;
    if (fraction < 3.5) return magnitude;
    return 2 * magnitude;
}

Ticks ticksAtStep(const Range& range, double step) {
    if (!range.valid() || !(step > 0) || !finite(step)) return {};
    return ticksWithStep(range, step);
}

Ticks niceTicks(const Range& range, int maxCount) {
    if (!range.valid()) return {};
    maxCount = std::max(2, maxCount);
    return atLeastThreeTicks(range, niceStep(range.span() / (maxCount - 1)), 0.0);
}

Ticks integerTicks(const Range& range, int maxCount) {
    if (!range.valid()) return {};
    maxCount = std::max(2, maxCount);
    return atLeastThreeTicks(range, niceStep(range.span() / (maxCount - 1)), 1.0);
}

int tickBudget(double lengthPx, double spacingPx) {
    if (!(spacingPx > 0) || !(lengthPx > 0)) return 2;
    return std::max(2, static_cast<int>(lengthPx / spacingPx) + 1);
}

std::string formatTick(double value, double step) {
    if (!finite(value)) return std::isnan(value) ? "nan" : (value > 0 ? "inf" : "-inf");
    if (!(step > 0) || !finite(step)) step = std::abs(value) > 0 ? std::abs(value) : 1;
    if (std::abs(value) < step * 1e-9) value = 0;
    char buffer[64];
    const int stepExponent = static_cast<int>(std::floor(std::log10(step) + 1e-9));
    if (step >= 1000) {
        // Thousands and up: a suffix, the largest unit within a decade of the step (so a
        // 500k step reads 0.5M, 1.0M, 1.5M), with decimals enough for the step in that unit.
        static const struct {
            double scale;
            const char* suffix;
        } kUnits[] = {{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}};
        for (const auto& unit : kUnits) {
            if (step * 10 >= unit.scale || unit.scale == 1e3) {
                const int decimals =
                    std::max(0, static_cast<int>(std::log10(unit.scale)) - stepExponent);
                if (value == 0) return "0";
                std::snprintf(buffer, sizeof buffer, "%.*f%s", decimals, value / unit.scale,
                              unit.suffix);
                return trimMinusZero(buffer);
            }
        }
    }
    if (stepExponent < -4) {
        if (value == 0) return "0";
        const int valueExponent = static_cast<int>(std::floor(std::log10(std::abs(value))));
        const int digits = std::max(0, valueExponent - stepExponent);
        std::snprintf(buffer, sizeof buffer, "%.*e", digits, value);
        return trimMinusZero(buffer);
    }
    const int decimals = std::max(0, -stepExponent);
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
    return trimMinusZero(buffer);
}

std::string formatCompact(double value, int significant) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
    significant = std::max(1, significant);
    if (value == 0) return "0";
    char buffer[64];
    const double magnitude = std::abs(value);
    if (magnitude >= 1e4) {
        static const struct {
            double scale;
            const char* suffix;
        } kUnits[] = {{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}};
        for (const auto& unit : kUnits) {
            if (magnitude >= unit.scale) {
                std::snprintf(buffer, sizeof buffer, "%.*g%s", significant, value / unit.scale,
                              unit.suffix);
                return buffer;
            }
        }
    }
    if (magnitude >= 1e3) {
        std::snprintf(buffer, sizeof buffer, "%.0f", value);
        return buffer;
    }
    if (magnitude < 1e-3) {
        std::snprintf(buffer, sizeof buffer, "%.*e", significant - 1, value);
        return buffer;
    }
    std::snprintf(buffer, sizeof buffer, "%.*g", significant, value);
    return buffer;
}

namespace {

// How many labels every `stride`-th from `start` keeps, or 0 when two of them would be less
// than `gap` apart.
std::size_t keptWithoutOverlap(const std::vector<double>& centres,
                               const std::vector<double>& widths, std::size_t n, double gap,
                               std::size_t stride, std::size_t start) {
    std::size_t kept = 0;
    for (std::size_t i = start; i < n; i += stride) {
        if (kept > 0) {
            const std::size_t p = i - stride;
            if ((centres[i] - widths[i] / 2) - (centres[p] + widths[p] / 2) < gap) return 0;
        }
        ++kept;
    }
    return kept;
}

}  // namespace

std::vector<bool> pruneLabels(const std::vector<double>& centres, const std::vector<double>& widths,
                              double gap, long long firstIndex, std::size_t minKept) {
    const std::size_t n = std::min(centres.size(), widths.size());
    std::vector<bool> keep(n, false);
    if (n == 0) return keep;
    // The offset keeping the ticks whose index is a multiple of the stride, so 0, 10, 20
    // survive rather than 5, 15, 25.
    const auto roundStart = [&](std::size_t stride) {
        const auto s = static_cast<long long>(stride);
        return static_cast<std::size_t>(((-firstIndex) % s + s) % s);
    };
    const auto keepEvery = [&](std::size_t stride, std::size_t start) {
        for (std::size_t i = start; i < n; i += stride)
            keep[i] = true;
        return keep;
    };
    std::size_t roundStride = 0, roundKept = 0;
    for (std::size_t stride = 1; stride <= n && roundStride == 0; ++stride) {
        roundKept = keptWithoutOverlap(centres, widths, n, gap, stride, roundStart(stride));
        if (roundKept > 0) roundStride = stride;
    }
    const std::size_t wanted = std::min(std::max<std::size_t>(minKept, 1), n);
    if (roundStride > 0 && roundKept >= wanted)
        return keepEvery(roundStride, roundStart(roundStride));
    // Too few: a label off the round multiples beats an axis with one or two numbers, so try
    // every offset, the smallest stride first and the round offset first within it.
    for (std::size_t stride = 1; stride <= n; ++stride)
        for (std::size_t k = 0; k < stride; ++k) {
            const std::size_t start = (roundStart(stride) + k) % stride;
            if (keptWithoutOverlap(centres, widths, n, gap, stride, start) >= wanted)
                return keepEvery(stride, start);
        }
    if (roundStride > 0) return keepEvery(roundStride, roundStart(roundStride));
    keep[0] = true;
    return keep;
}

std::vector<double> spreadLabels(const std::vector<double>& wanted,
                                 const std::vector<double>& sizes, double lo, double hi,
                                 double gap) {
    const std::size_t n = std::min(wanted.size(), sizes.size());
    std::vector<double> starts(n, kNaN);
    std::vector<std::size_t> placed(n);
    for (std::size_t i = 0; i < n; ++i)
        placed[i] = i;
    // Drop labels from the back (the later lines in the figure) until the rest fit.
    const auto needed = [&] {
        double total = 0;
        for (std::size_t i : placed)
            total += std::max(0.0, sizes[i]);
        return total + gap * static_cast<double>(placed.empty() ? 0 : placed.size() - 1);
    };
    while (!placed.empty() && needed() > hi - lo)
        placed.pop_back();
    const auto wish = [&](std::size_t i) { return finite(wanted[i]) ? wanted[i] : lo; };
    std::stable_sort(placed.begin(), placed.end(),
                     [&](std::size_t a, std::size_t b) { return wish(a) < wish(b); });
    // Down the axis: each at its wish, or pushed past the one before it.
    double next = lo;
    for (std::size_t i : placed) {
        starts[i] = std::max(wish(i), next);
        next = starts[i] + std::max(0.0, sizes[i]) + gap;
    }
    // Back up: each pulled inside `hi` and before the one after it. Everything fits, so this
    // never pushes a label below `lo`.
    double limit = hi;
    for (auto it = placed.rbegin(); it != placed.rend(); ++it) {
        const double size = std::max(0.0, sizes[*it]);
        starts[*it] = std::min(starts[*it], limit - size);
        limit = starts[*it] - gap;
    }
    return starts;
}

void decimateLine(const XYView& d, const Transform& t, bool step, std::vector<Point>& out) {
    out.clear();
    if (d.n == 0 || !d.y) return;
    std::size_t lo = 0, hi = 0;
    visibleWindow(d, t.x(), lo, hi);
    // Step edges look one neighbour further out than the points themselves.
    if (step) {
        lo = lo > 0 ? lo - 1 : 0;
        hi = std::min(d.n, hi + 1);
    }
    ColumnBucket bucket(out);
    const double lastGap = d.n > 1 ? d.xAt(d.n - 1) - d.xAt(d.n - 2) : 1.0;
    const double firstGap = d.n > 1 ? d.xAt(1) - d.xAt(0) : 1.0;
    for (std::size_t i = lo; i < hi; ++i) {
        const double y = d.y[i];
        const double x = d.xAt(i);
        if (!finite(y) || !finite(x)) {
            bucket.gap();
            continue;
        }
        const double py = t.yToPixel(y);
        if (step) {
            const double left = i > 0 ? 0.5 * (d.xAt(i - 1) + x) : x - 0.5 * firstGap;
            const double right = i + 1 < d.n ? 0.5 * (x + d.xAt(i + 1)) : x + 0.5 * lastGap;
            bucket.add({t.xToPixel(left), py});
            bucket.add({t.xToPixel(right), py});
        } else {
            bucket.add({t.xToPixel(x), py});
        }
    }
    bucket.flush();
    if (!out.empty() && std::isnan(out.back().x)) out.pop_back();
    clipPolyline(out, guardBand(t.pixels()));
    if (!out.empty() && std::isnan(out.back().x)) out.pop_back();
}

void decimatePoints(const XYView& d, const Transform& t, double cellPx, bool xAscending,
                    std::vector<Point>& out, std::vector<std::size_t>* indices) {
    out.clear();
    if (indices) indices->clear();
    if (d.n == 0 || !d.y) return;
    const Rect& r = t.pixels();
    cellPx = std::max(0.25, cellPx);
    const auto columns = static_cast<std::size_t>(std::ceil(std::max(1.0, r.width()) / cellPx)) + 1;
    const auto rows = static_cast<std::size_t>(std::ceil(std::max(1.0, r.height()) / cellPx)) + 1;
    std::vector<std::uint8_t> taken(columns * rows, 0);
    // Scatter clouds have no x order, so they are scanned whole.
    std::size_t lo = 0, hi = d.n;
    if (xAscending || !d.x) visibleWindow(d, t.x(), lo, hi);
    for (std::size_t i = lo; i < hi; ++i) {
        const double x = d.xAt(i), y = d.y[i];
        if (!finite(x) || !finite(y)) continue;
        const Point p = t.toPixel(x, y);
        if (!r.contains(p)) continue;
        const auto cx = static_cast<std::size_t>((p.x - r.x0) / cellPx);
        const auto cy = static_cast<std::size_t>((p.y - r.y0) / cellPx);
        auto& cell = taken[std::min(cy, rows - 1) * columns + std::min(cx, columns - 1)];
        if (cell) continue;
        cell = 1;
        out.push_back(p);
        if (indices) indices->push_back(i);
    }
}

void decimateBars(const XYView& d, double base, double width, const Transform& t, double minBarPx,
                  std::vector<Rect>& out, const double* bases) {
    out.clear();
    if (d.n == 0 || !d.y) return;
    const Rect guard = guardBand(t.pixels());
    const auto clampY = [&](double py) { return std::clamp(py, guard.y0, guard.y1); };
    const auto clampX = [&](double px) { return std::clamp(px, guard.x0, guard.x1); };
    std::size_t lo = 0, hi = 0;
    visibleWindow(d, t.x(), lo, hi);
    const double barPx = std::abs(t.xToPixel(width) - t.xToPixel(0));
    const double commonBasePx = clampY(t.yToPixel(base));
    const auto basePxAt = [&](std::size_t i) {
        return bases ? clampY(t.yToPixel(bases[i])) : commonBasePx;
    };
    if (barPx >= minBarPx) {
        for (std::size_t i = lo; i < hi; ++i) {
            const double x = d.xAt(i), y = d.y[i];
            if (!finite(x) || !finite(y) || (bases && !finite(bases[i]))) continue;
            const double a = clampX(t.xToPixel(x - width / 2)),
                         b = clampX(t.xToPixel(x + width / 2));
            const double py = clampY(t.yToPixel(y)), basePx = basePxAt(i);
            out.push_back(
                {std::min(a, b), std::min(py, basePx), std::max(a, b), std::max(py, basePx)});
        }
        return;
    }
    bool open = false;
    double column = 0, top = 0, bottom = 0;
    const auto close = [&] {
        if (open) out.push_back({column, top, column + 1, bottom});
        open = false;
    };
    for (std::size_t i = lo; i < hi; ++i) {
        const double x = d.xAt(i), y = d.y[i];
        if (!finite(x) || !finite(y) || (bases && !finite(bases[i]))) continue;
        const double c = std::floor(clampX(t.xToPixel(x)));
        const double py = clampY(t.yToPixel(y)), basePx = basePxAt(i);
        if (open && c != column) close();
        if (!open) {
            open = true;
            column = c;
            top = bottom = basePx;
        }
        top = std::min({top, py, basePx});
        bottom = std::max({bottom, py, basePx});
    }
    close();
}

void dashPolyline(const std::vector<Point>& in, double on, double off, std::vector<Point>& out) {
    out.clear();
    if (on <= 0 || off <= 0) {
        out = in;
        return;
    }
    const double period = on + off;
    double phase = 0;  // distance into the current period
    bool drawing = false;
    const auto endDash = [&] {
        if (drawing) out.push_back({kNaN, kNaN});
        drawing = false;
    };
    for (std::size_t i = 0; i + 1 < in.size(); ++i) {
        const Point a = in[i], b = in[i + 1];
        if (std::isnan(a.x) || std::isnan(b.x)) {
            endDash();
            phase = 0;
            continue;
        }
        const double length = std::hypot(b.x - a.x, b.y - a.y);
        double travelled = 0;
        while (travelled < length) {
            const bool inDash = phase < on;
            const double toBoundary = (inDash ? on : period) - phase;
            const double advance = std::min(toBoundary, length - travelled);
            const double f0 = travelled / length, f1 = (travelled + advance) / length;
            if (inDash) {
                if (!drawing) {
                    out.push_back({a.x + f0 * (b.x - a.x), a.y + f0 * (b.y - a.y)});
                    drawing = true;
                }
                out.push_back({a.x + f1 * (b.x - a.x), a.y + f1 * (b.y - a.y)});
            }
            travelled += advance;
            phase += advance;
            if (phase >= period - 1e-12) phase = 0;
            if (phase >= on && inDash) endDash();
        }
    }
    endDash();
    if (!out.empty() && std::isnan(out.back().x)) out.pop_back();
}

std::ptrdiff_t nearestIndexByX(const XYView& d, double x) {
    if (d.n == 0 || std::isnan(x)) return -1;
    if (!d.x) {
        const double r = std::round(x);
        if (r <= 0) return 0;
        return static_cast<std::ptrdiff_t>(std::min<double>(r, static_cast<double>(d.n - 1)));
    }
    const std::size_t i = lowerIndex(d, x);
    if (i == 0) return 0;
    if (i >= d.n) return static_cast<std::ptrdiff_t>(d.n - 1);
    return static_cast<std::ptrdiff_t>(x - d.x[i - 1] <= d.x[i] - x ? i - 1 : i);
}

std::ptrdiff_t nearestPoint(const XYView& d, const Transform& t, Point mouse,
                            double maxDistancePx) {
    std::ptrdiff_t best = -1;
    double bestDistance = maxDistancePx * maxDistancePx;
    for (std::size_t i = 0; i < d.n; ++i) {
        const double x = d.xAt(i), y = d.y[i];
        if (!finite(x) || !finite(y)) continue;
        const Point p = t.toPixel(x, y);
        const double distance =
            (p.x - mouse.x) * (p.x - mouse.x) + (p.y - mouse.y) * (p.y - mouse.y);
        if (distance <= bestDistance) {
            if (distance == bestDistance && best >= 0) continue;  // first wins ties
            bestDistance = distance;
            best = static_cast<std::ptrdiff_t>(i);
        }
    }
    return best;
}

std::ptrdiff_t pointAtX(const XYView& d, double x) {
    const std::ptrdiff_t k = nearestIndexByX(d, x);
    if (k < 0) return -1;
    const auto i = static_cast<std::size_t>(k);
    if (std::abs(d.xAt(i) - x) > 0.5 || !finite(d.y[i])) return -1;
    return k;
}

std::vector<SeriesPoint> seriesPointsAtX(const std::vector<XYView>& series,
                                         const std::vector<bool>& include, double x) {
    std::vector<SeriesPoint> out;
    for (std::size_t i = 0; i < series.size(); ++i) {
        if (!included(include, i)) continue;
        const std::ptrdiff_t k = pointAtX(series[i], x);
        if (k >= 0) out.push_back({i, static_cast<std::size_t>(k)});
    }
    return out;
}

std::optional<SeriesPoint> nearestSeriesPoint(const std::vector<XYView>& series,
                                              const std::vector<bool>& include, const Transform& t,
                                              Point at, double maxDistancePx) {
    std::optional<SeriesPoint> best;
    double radius = maxDistancePx;
    for (std::size_t i = 0; i < series.size(); ++i) {
        if (!included(include, i)) continue;
        const XYView& d = series[i];
        const std::ptrdiff_t hit = nearestPoint(d, t, at, radius);
        if (hit < 0) continue;
        const auto k = static_cast<std::size_t>(hit);
        const Point p = t.toPixel(d.xAt(k), d.y[k]);
        // Later series must come at least this near; nearestPoint's `<=` hands them a tie.
        radius = std::hypot(p.x - at.x, p.y - at.y);
        best = SeriesPoint{i, k};
    }
    return best;
}

Range zoomAbout(const Range& range, double anchor, double factor) {
    if (!finite(anchor)) anchor = range.centre();
    return {anchor - (anchor - range.min) * factor, anchor + (range.max - anchor) * factor};
}

Range panBy(const Range& range, double delta) {
    return {range.min + delta, range.max + delta};
}

Range clampRange(const Range& range, const Range& limits, double minSpan) {
    Range r = range;
    if (!finite(r.min) || !finite(r.max) || r.max < r.min) return limits.valid() ? limits : r;
    if (r.span() < minSpan) {
        const double c = r.centre();
        r = {c - minSpan / 2, c + minSpan / 2};
    }
    if (!limits.valid()) return r;
    if (r.span() >= limits.span()) return limits;
    if (r.min < limits.min) r = panBy(r, limits.min - r.min);
    if (r.max > limits.max) r = panBy(r, limits.max - r.max);
    return r;
}

Range paddedRange(const Range& extent, double fraction) {
    if (!finite(extent.min) || !finite(extent.max) || extent.max < extent.min) return {0, 1};
    if (extent.max == extent.min) {
        const double v = extent.min;
        const double half = v != 0 ? std::abs(v) * 0.05 : 0.5;
        return {v - half, v + half};
    }
    const double pad = extent.span() * fraction;
    return {extent.min - pad, extent.max + pad};
}

Range xExtent(const XYView& d) {
    Range r = kEmptyRange;
    for (std::size_t i = 0; i < d.n; ++i)
        if (finite(d.y[i])) extend(r, d.xAt(i));
    return r;
}

Range yExtentWithin(const XYView& d, const Range& xRange, bool xAscending) {
    Range r = kEmptyRange;
    if (d.n == 0) return r;
    std::size_t lo = 0, hi = d.n;
    if (xAscending || !d.x) {
        lo = lowerIndex(d, xRange.min);
        hi = upperIndex(d, xRange.max);
    }
    for (std::size_t i = lo; i < hi; ++i) {
        const double x = d.xAt(i);
        if (x < xRange.min || x > xRange.max) continue;
        extend(r, d.y[i]);
    }
    return r;
}

}  // namespace ponder::viz
