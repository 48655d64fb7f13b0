// Figure model helpers: fitting the view to the data and the series as CSV.
#include "viz/figure.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iterator>

namespace ponder::viz {

namespace {

std::string csvField(const std::string& text) {
    if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
    std::string out = "\"";
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

// Shortest text that reads back as the same double; empty for NaN (a gap).
std::string csvNumber(double value) {
    if (std::isnan(value)) return "";
    if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
    char buffer[40];
    for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
        if (std::strtod(buffer, nullptr) == value) break;
    }
    return buffer;
}

bool sameX(const Series& a, const Series& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a.xAt(i) != b.xAt(i)) return false;
    return true;
}

}  // namespace

std::vector<bool> visibilityOf(const Figure& figure) {
    std::vector<bool> visible;
    for (const auto& s : figure.series)
        visible.push_back(s.visible);
    return visible;
}

const std::string& Axis::segmentAt(double value) const {
    static const std::string none;
    const auto after = std::upper_bound(
        segments.begin(), segments.end(), value,
        [](double v, const std::pair<double, std::string>& segment) { return v < segment.first; });
    return after == segments.begin() ? none : std::prev(after)->second;
}

Range fitX(const Figure& figure, const std::vector<bool>& visible) {
    if (figure.x.range && figure.x.range->valid()) return *figure.x.range;
    Range points = kEmptyRange, bars = kEmptyRange;
    for (std::size_t i = 0; i < figure.series.size(); ++i) {
        if (i < visible.size() && !visible[i]) continue;
        const auto& s = figure.series[i];
        const Range e = xExtent(s.view());
        if (!(e.max >= e.min)) continue;
        if (s.kind == SeriesKind::Bars) {
            extend(bars, e.min - s.barWidth / 2);
            extend(bars, e.max + s.barWidth / 2);
        } else {
            extend(points, e.min);
            extend(points, e.max);
        }
    }
    for (const auto& line : figure.lines)
        if (line.vertical) extend(points, line.value);
    if (figure.x.integerTicks && points.max >= points.min) {
        // Whole chunks at both ends: a chunk is drawn from i - 0.5 to i + 0.5.
        points = {points.min - 0.5, points.max + 0.5};
        const Range all = unite(points, bars);
        return all.valid() ? all : paddedRange(all, 0);
    }
    const Range padded = points.max >= points.min ? paddedRange(points, 0.03) : Range{kNaN, kNaN};
    const Range all = unite(padded, bars);
    return all.valid() ? all : paddedRange(all, 0.03);
}

Range fitY(const Figure& figure, const std::vector<bool>& visible, const Range& x) {
    if (figure.y.range && figure.y.range->valid()) return *figure.y.range;
    Range extent = kEmptyRange;
    for (std::size_t i = 0; i < figure.series.size(); ++i) {
        if (i < visible.size() && !visible[i]) continue;
        const auto& s = figure.series[i];
        Range window = x;
        if (s.kind == SeriesKind::Bars) window = {x.min - s.barWidth / 2, x.max + s.barWidth / 2};
        const Range e = yExtentWithin(s.view(), window, s.xAscending());
        if (!(e.max >= e.min)) continue;
        extend(extent, e.min);
        extend(extent, e.max);
        if (s.kind == SeriesKind::Bars && s.barBases.empty()) extend(extent, s.barBase);
        for (double base : s.barBases)  // a stacked part's bases (its tops are in e)
            if (std::isfinite(base)) extend(extent, base);
    }
    for (const auto& line : figure.lines)
        if (!line.vertical) extend(extent, line.value);
    if (figure.y.includeZero) extend(extent, 0.0);
    return paddedRange(extent, 0.05);
}

std::string figureCsv(const Figure& figure) {
    std::vector<const Series*> shown;
    for (const auto& s : figure.series)
        if (s.visible) shown.push_back(&s);
    std::string out;
    bool shared = !shown.empty();
    for (const auto* s : shown)
        shared = shared && sameX(*s, *shown.front());
    const std::string xTitle = figure.x.title().empty() ? "x" : figure.x.title();
    if (shared) {
        out += csvField(xTitle);
        for (const auto* s : shown)
            out += "," + csvField(s->name);
        out += "\n";
        for (std::size_t i = 0; i < shown.front()->size(); ++i) {
            out += csvNumber(shown.front()->xAt(i));
            for (const auto* s : shown)
                out += "," + csvNumber(s->valueAt(i));
            out += "\n";
        }
        return out;
    }
    out += "series," + csvField(xTitle) + "," +
           csvField(figure.y.title().empty() ? "y" : figure.y.title()) + "\n";
    for (const auto* s : shown)
        for (std::size_t i = 0; i < s->size(); ++i)
            out += csvField(s->name) + "," + csvNumber(s->xAt(i)) + "," + csvNumber(s->valueAt(i)) +
                   "\n";
    return out;
}

}  // namespace ponder::viz
