// The one drawing routine for figures, on screen and in files: layout, grid, series, reference
// lines, axes, labels and legend.
#include "viz/figure_render.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace ponder::viz {

namespace {

constexpr double kTitleScale = 1.2;
constexpr std::size_t kTitleLines = 3;  // a title wraps onto at most this many lines
constexpr const char* kEllipsis = "\u2026";

// Bytes of the UTF-8 character starting at s[i] (1 for a stray continuation byte).
std::size_t utf8Length(const std::string& s, std::size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80           ? 1
                          : (c >> 5) == 0x6  ? 2
                          : (c >> 4) == 0xE  ? 3
                          : (c >> 3) == 0x1E ? 4
                                             : 1;
    return std::min(n, s.size() - i);
}

Ticks axisTicks(const Axis& axis, const Range& range, int budget) {
    return axis.integerTicks ? integerTicks(range, budget) : niceTicks(range, budget);
}

// Swatch width of a legend entry, in font heights.
constexpr double kSwatchEm = 1.8;

void drawPolylineRuns(Canvas& canvas, const std::vector<Point>& points, Rgba colour, double width) {
    std::size_t start = 0;
    for (std::size_t i = 0; i <= points.size(); ++i) {
        if (i == points.size() || std::isnan(points[i].x)) {
            const std::size_t count = i - start;
            if (count >= 2)
                canvas.polyline(points.data() + start, count, colour, width);
            else if (count == 1)
                canvas.fillCircle(points[start], width / 2, colour);  // an isolated point
            start = i + 1;
        }
    }
}

void strokeStyled(Canvas& canvas, const std::vector<Point>& points, Rgba colour, double widthPx,
                  LineStyle style, double scale, std::vector<Point>& dashed) {
    if (style == LineStyle::Solid) {
        drawPolylineRuns(canvas, points, colour, widthPx);
        return;
    }
    const double on = style == LineStyle::Dashed ? 5.0 * scale : 1.2 * scale;
    const double off = style == LineStyle::Dashed ? 3.0 * scale : 2.2 * scale;
    dashPolyline(points, std::max(on, widthPx), off + widthPx, dashed);
    drawPolylineRuns(canvas, dashed, colour, widthPx);
}

MarkerShape symbolOf(const Series& s) {
    if (s.marker != MarkerShape::None) return s.marker;
    return (s.kind == SeriesKind::Scatter || s.kind == SeriesKind::Markers) ? MarkerShape::Circle
                                                                            : MarkerShape::None;
}

Rgba greyed(Rgba c) {
    c.a *= 0.3f;
    return c;
}

// The legend swatch: a line, a block or the symbol, as the series draws.
void drawSwatch(Canvas& canvas, const Series& s, const Rect& box, Rgba colour,
                const RenderStyle& style, std::vector<Point>& dashed) {
    const double cy = 0.5 * (box.y0 + box.y1);
    const double h = box.height();
    switch (s.kind) {
        case SeriesKind::Bars:
            canvas.fillRect({box.x0 + 0.15 * box.width(), cy - 0.35 * h,
                             box.x1 - 0.15 * box.width(), cy + 0.35 * h},
                            colour);
            break;
        case SeriesKind::Line:
        case SeriesKind::Step: {
            const std::vector<Point> line = {{box.x0, cy}, {box.x1, cy}};
            strokeStyled(canvas, line, colour, style.px(s.lineWidth), s.lineStyle, style.scale,
                         dashed);
            if (s.marker != MarkerShape::None)
                drawMarker(canvas, s.marker, {0.5 * (box.x0 + box.x1), cy}, style.px(s.markerSize),
                           colour, style.px(1.0));
            break;
        }
        case SeriesKind::Scatter:
        case SeriesKind::Markers:
            drawMarker(canvas, symbolOf(s), {0.5 * (box.x0 + box.x1), cy},
                       std::min(style.px(s.markerSize) * 1.2, h), colour, style.px(1.0));
            break;
    }
}

// The units a line may break between: words at spaces, except that a lone symbol sticks to
// the word after it ("\u2014 file.py", "+ 2", "\u2212 x") and "=" to both sides ("r =
// \u22120.271"), so no line ends on a dash or starts with "= 0.5".
std::vector<std::string> wrapWords(const std::string& text) {
    std::vector<std::string> raw;
    for (std::size_t start = 0; start < text.size();) {
        const std::size_t space = text.find(' ', start);
        const std::size_t end = space == std::string::npos ? text.size() : space;
        if (end > start) raw.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    const auto symbol = [](const std::string& w) {
        return w == "=" || w == "+" || w == "\u2014" || w == "\u2013" || w == "\u2212" ||
               w == "\u2248" || w == "\u2264" || w == "\u2265" || w == "<" || w == ">";
    };
    std::vector<std::string> words;
    bool glueNext = false;
    for (const auto& w : raw) {
        if (words.empty() || (!glueNext && w != "="))
            words.push_back(w);
        else
            words.back() += " " + w;
        glueNext = symbol(w);
    }
    return words;
}

// A title wrapped as evenly as its line count allows (the narrowest width that still gives
// that many lines, nothing elided), so a second line is not one orphaned word.
std::vector<std::string> balancedWrap(Canvas& canvas, const std::string& text, double sizePx,
                                      double width, std::size_t maxLines) {
    auto best = wrapText(canvas, text, sizePx, width, maxLines);
    const auto whole = [&](const std::vector<std::string>& lines) {
        std::string joined;
        for (const auto& line : lines)
            joined += (joined.empty() ? "" : " ") + line;
        return joined == text;
    };
    if (best.size() < 2 || !whole(best)) return best;
    double lo = width / static_cast<double>(best.size()), hi = width;
    for (int i = 0; i < 12 && hi - lo > 1; ++i) {
        const double mid = 0.5 * (lo + hi);
        auto trial = wrapText(canvas, text, sizePx, mid, maxLines);
        if (trial.size() <= best.size() && whole(trial)) {
            hi = mid;
            best = std::move(trial);
        } else {
            lo = mid;
        }
    }
    return best;
}

}  // namespace

double minTextPx(const RenderStyle& style) {
    return style.px(std::max(style.minTextSize, 0.85 * style.fontSize));
}

std::string elideText(Canvas& canvas, const std::string& text, double sizePx, double width) {
    if (text.empty() || canvas.textSize(text, sizePx).x <= width) return text;
    // The longest prefix of whole characters that fits with the ellipsis (linear: titles and
    // labels are short, and this runs once per layout, not per glyph drawn).
    std::string best = kEllipsis;
    for (std::size_t end = utf8Length(text, 0); end < text.size(); end += utf8Length(text, end)) {
        std::string candidate = text.substr(0, end);
        while (!candidate.empty() && candidate.back() == ' ')
            candidate.pop_back();
        candidate += kEllipsis;
        if (canvas.textSize(candidate, sizePx).x > width) break;
        best = std::move(candidate);
    }
    return best;
}

std::vector<std::string> wrapText(Canvas& canvas, const std::string& text, double sizePx,
                                  double width, std::size_t maxLines) {
    const auto words = wrapWords(text);
    std::vector<std::string> lines;
    std::size_t next = 0;
    while (next < words.size() && lines.size() + 1 < std::max<std::size_t>(maxLines, 1)) {
        std::string line = words[next++];
        while (next < words.size() && canvas.textSize(line + " " + words[next], sizePx).x <= width)
            line += " " + words[next++];
        lines.push_back(elideText(canvas, line, sizePx, width));
    }
    if (next < words.size()) {  // the last line takes the rest, elided
        std::string rest = words[next++];
        while (next < words.size())
            rest += " " + words[next++];
        lines.push_back(elideText(canvas, rest, sizePx, width));
    }
    return lines;
}

View defaultView(const Figure& figure, const std::vector<bool>& visible) {
    View view;
    view.x = fitX(figure, visible);
    view.y = fitY(figure, visible, view.x);
    return view;
}

namespace {

// Sizes every part of the layout shares, in pixels.
struct Metrics {
    double pad = 0, font = 0, lineH = 0, tick = 0;
};

// Space between a reference line's label and the plot frame, in font heights.
constexpr double kLineLabelGapEm = 0.4;
// A gutter label is elided beyond this share of the figure's width: the plot keeps the rest.
constexpr double kMaxGutterShare = 0.3;

// The title, from `top`: a long one shrinks a little (down to the smallest readable size),
// then wraps; each line is centred, or starts at the left when it fills it. Returns the y
// below its last line (`top` when there is none).
double layoutTitle(Canvas& canvas, const Figure& figure, const RenderStyle& style, const Metrics& m,
                   double top, FigureLayout& layout) {
    if (figure.title.empty()) return top;
    const Rect& outer = layout.outer;
    const double room = outer.width() - 2 * m.pad;
    const double smallest = std::min(layout.titlePx, minTextPx(style));
    const double width = canvas.textSize(figure.title, layout.titlePx).x;
    if (width > room && width > 0)
        layout.titlePx = std::max(smallest, layout.titlePx * room / width);
    const double lineStep = canvas.textSize("Ag", layout.titlePx).y;
    for (auto& line : balancedWrap(canvas, figure.title, layout.titlePx, room, kTitleLines)) {
        const double w = canvas.textSize(line, layout.titlePx).x;
        const Point at{std::max(outer.x0 + m.pad, 0.5 * (outer.x0 + outer.x1) - 0.5 * w), top};
        layout.title.push_back({at, std::move(line)});
        top += lineStep;
    }
    return top;
}

struct LegendItem {
    std::size_t series;
    double width;
    std::string text;
};

// The series named in the legend, each elided to the figure's width.
std::vector<LegendItem> legendItems(Canvas& canvas, const Figure& figure, const Metrics& m,
                                    double room) {
    std::vector<LegendItem> items;
    if (figure.legend == LegendPosition::None) return items;
    const double swatchW = m.font * kSwatchEm;
    for (std::size_t i = 0; i < figure.series.size(); ++i) {
        const auto& s = figure.series[i];
        if (!s.inLegend || s.name.empty()) continue;
        // A name wider than the figure (a long compared run's title) is elided.
        std::string text = elideText(canvas, s.name, m.font, room - swatchW - 0.4 * m.font);
        const double w = swatchW + 0.4 * m.font + canvas.textSize(text, m.font).x;
        items.push_back({i, w, std::move(text)});
    }
    return items;
}

// Header rows from `top`: the y-axis title on the left (horizontal, above the axis: it reads on
// screen and paper alike, and ImGui cannot rotate text), an Above legend flowing after it
// (flush with the plot's right edge, `plotRight`) or on rows below. Returns the y below them
// (`top` when there are none).
double layoutHeader(Canvas& canvas, const Figure& figure, const std::vector<LegendItem>& items,
                    const Metrics& m, double top, double plotRight, FigureLayout& layout) {
    const Rect& outer = layout.outer;
    const double room = outer.width() - 2 * m.pad;
    const std::string yTitle = elideText(canvas, figure.y.title(), m.font, room);
    const double yTitleW = yTitle.empty() ? 0 : canvas.textSize(yTitle, m.font).x;
    layout.yTitle = {{outer.x0 + m.pad, top}, yTitle};
    double headerBottom = top + (yTitle.empty() ? 0 : m.lineH);
    if (!items.empty() && figure.legend == LegendPosition::Above) {
        const double entryGap = m.font * 1.0;
        double legendW = 0;
        for (const auto& item : items)
            legendW += (legendW > 0 ? entryGap : 0) + item.width;
        // Same row as the y title when it fits (right-aligned), else rows of their own.
        const double rowStartX = outer.x0 + m.pad;
        const bool sameRow = yTitleW + 2 * entryGap + legendW <= plotRight - rowStartX;
        double x = sameRow ? plotRight - legendW : rowStartX;
        double y = sameRow || yTitle.empty() ? top : top + m.lineH + 0.25 * m.pad;
        for (const auto& [index, w, text] : items) {
            if (!sameRow && x > rowStartX && x + w > outer.x1 - m.pad) {
                x = rowStartX;
                y += m.lineH + 0.25 * m.pad;
            }
            layout.legend.push_back({index, {x, y, x + w, y + m.lineH}, text});
            x += w + entryGap;
        }
        headerBottom = std::max(headerBottom, y + m.lineH);
    }
    return headerBottom;
}

// A legend inside a corner of the axes: stacked entries over the data.
void layoutCornerLegend(const Figure& figure, const std::vector<LegendItem>& items,
                        const Metrics& m, FigureLayout& layout) {
    if (items.empty() || figure.legend == LegendPosition::Above) return;
    double boxW = 0;
    for (const auto& item : items)
        boxW = std::max(boxW, item.width);
    const double inset = 0.6 * m.pad;
    const bool onRight =
        figure.legend == LegendPosition::TopRight || figure.legend == LegendPosition::BottomRight;
    const bool onTop =
        figure.legend == LegendPosition::TopLeft || figure.legend == LegendPosition::TopRight;
    const double blockH = static_cast<double>(items.size()) * m.lineH;
    const Rect& plot = layout.plot;
    const double x = onRight ? plot.x1 - inset - boxW : plot.x0 + inset;
    double y = onTop ? plot.y0 + inset : plot.y1 - inset - blockH;
    for (const auto& [index, w, text] : items) {
        layout.legend.push_back({index, {x, y, x + w, y + m.lineH}, text});
        y += m.lineH;
    }
}

// Indices of the figure's labelled lines of one orientation whose value is inside the view.
std::vector<std::size_t> labelledLines(const Figure& figure, const View& view, bool vertical) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < figure.lines.size(); ++i) {
        const RefLine& line = figure.lines[i];
        if (line.vertical != vertical || line.label.empty()) continue;
        if ((vertical ? view.x : view.y).contains(line.value)) out.push_back(i);
    }
    return out;
}

// Labels of `lines` laid out along one axis: each wants to be centred on its line's pixel
// (`centre`), all are spread apart inside [lo, hi] so none overlaps another. `across` places
// the box on the other axis (its left edge for a gutter, its top for a row).
void placeLineLabels(Canvas& canvas, const Figure& figure, const std::vector<std::size_t>& lines,
                     const std::vector<std::string>& texts,
                     const std::function<double(double)>& centre, bool vertical, double lo,
                     double hi, double across, const Metrics& m, FigureLayout& layout) {
    std::vector<double> wanted, sizes;
    std::vector<Point> extents;
    for (std::size_t k = 0; k < lines.size(); ++k) {
        extents.push_back(canvas.textSize(texts[k], m.font));
        const double size = vertical ? extents.back().x : extents.back().y;
        sizes.push_back(size);
        wanted.push_back(centre(figure.lines[lines[k]].value) - 0.5 * size);
    }
    const double gap = vertical ? 0.8 * m.font : 0.1 * m.font;
    const auto starts = spreadLabels(wanted, sizes, lo, hi, gap);
    for (std::size_t k = 0; k < lines.size(); ++k) {
        if (std::isnan(starts[k])) continue;  // no room left for it
        const Point e = extents[k];
        const Rect box = vertical ? Rect{starts[k], across, starts[k] + e.x, across + e.y}
                                  : Rect{across, starts[k], across + e.x, starts[k] + e.y};
        layout.lineLabels.push_back({lines[k], box, texts[k]});
    }
}

// Where one axis' labels may go.
struct LabelTrack {
    std::function<double(double)> position;  // value -> pixel along the axis, ascending
    double lo = 0, hi = 0;                   // same coordinates: a label must lie inside [lo, hi]
    double gap = 0;                          // the least space between two labels
    bool alongY = false;                     // labels are measured by their height
};

// Clears the labels that do not fit: those reaching outside the track (a y label into the
// header, an x label out of the figure), then as many of the rest as it takes for none to
// overlap another (pruneLabels, keeping `wanted` where it can). Returns how many are left.
std::size_t pruneToFit(Canvas& canvas, const std::vector<double>& values,
                       std::vector<std::string>& labels, long long firstIndex, std::size_t wanted,
                       const LabelTrack& track, double font) {
    const std::size_t n = std::min(values.size(), labels.size());
    std::vector<double> centres, extents;
    std::vector<bool> inside;
    for (std::size_t i = 0; i < n; ++i) {
        const Point size = canvas.textSize(labels[i], font);
        centres.push_back(track.position(values[i]));
        extents.push_back(track.alongY ? size.y : size.x);
        inside.push_back(centres[i] - 0.5 * extents[i] >= track.lo - 1e-9 &&
                         centres[i] + 0.5 * extents[i] <= track.hi + 1e-9);
    }
    // Positions ascend, so the labels outside the track are at the ends: prune the run between.
    std::size_t a = 0, b = n;
    while (a < b && !inside[a])
        ++a;
    while (b > a && !inside[b - 1])
        --b;
    const std::vector<double> runCentres(centres.begin() + a, centres.begin() + b);
    const std::vector<double> runExtents(extents.begin() + a, extents.begin() + b);
    const auto keep = pruneLabels(runCentres, runExtents, track.gap,
                                  firstIndex + static_cast<long long>(a), wanted);
    std::size_t kept = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const bool shown = i >= a && i < b && keep[i - a] && inside[i];
        if (shown)
            ++kept;
        else
            labels[i].clear();
    }
    return kept;
}

// One numeric axis' ticks and labels (empty: pruned).
struct AxisLabels {
    Ticks ticks;
    std::vector<std::string> labels;
    std::size_t kept = 0;
};

// A finer step's labelled ticks alone (every k-th): the unlabelled ones between would crowd
// the grid with lines nobody can name. The labels keep the finer step's decimals.
AxisLabels onlyLabelled(AxisLabels axis) {
    AxisLabels out;
    for (std::size_t i = 0; i < axis.labels.size(); ++i)
        if (!axis.labels[i].empty()) {
            out.ticks.values.push_back(axis.ticks.values[i]);
            out.labels.push_back(std::move(axis.labels[i]));
        }
    const auto& v = out.ticks.values;
    out.ticks.step = v.size() >= 2 ? v[1] - v[0] : axis.ticks.step;
    out.kept = out.labels.size();
    return out;
}

// Labels of `ticks` pruned to fit `track`, keeping `wanted` where they can.
AxisLabels labelTicks(Canvas& canvas, Ticks ticks, std::size_t wanted, const LabelTrack& track,
                      double font) {
    AxisLabels out{std::move(ticks), {}, 0};
    for (double v : out.ticks.values)
        out.labels.push_back(formatTick(v, out.ticks.step));
    const long long firstIndex =
        out.ticks.values.empty()
            ? 0
            : static_cast<long long>(std::llround(out.ticks.values[0] / out.ticks.step));
    out.kept = pruneToFit(canvas, out.ticks.values, out.labels, firstIndex, wanted, track, font);
    return out;
}

// Ticks from `budget`, labels pruned to fit the track. When that leaves fewer than three though
// three fit along the axis (`lengthPx`), finer 1-2-5 steps are tried, labelled every k-th tick,
// then all that again with half the gap between labels, until three fit: three numbers give
// an axis its scale, one or two do not.
AxisLabels labelAxis(Canvas& canvas, const Axis& axis, const Range& range, int budget,
                     double lengthPx, const LabelTrack& track, double font) {
    constexpr std::size_t kWanted = 3;
    const Ticks first = axisTicks(axis, range, budget);
    double widest = 0;
    for (double v : first.values) {
        const Point size = canvas.textSize(formatTick(v, first.step), font);
        widest = std::max(widest, track.alongY ? size.y : size.x);
    }
    // Three labels fit when the outer two may sit on the axis' ends, half hanging over.
    const bool threeFit = (kWanted - 1) * (widest + 0.5 * track.gap) <= lengthPx;
    AxisLabels best = labelTicks(canvas, first, threeFit ? kWanted : 1, track, font);
    if (!threeFit || best.kept >= kWanted) return best;
    LabelTrack tight = track;
    for (double gap : {track.gap, 0.5 * track.gap}) {
        tight.gap = gap;
        if (gap < track.gap) {
            AxisLabels closer = labelTicks(canvas, first, kWanted, tight, font);
            if (closer.kept >= kWanted) return closer;
            if (closer.kept > best.kept) best = std::move(closer);
        }
        // A few steps finer reach a tick spacing under a third of a label, enough for three;
        // the count cap keeps a degenerate range from formatting thousands of labels.
        Ticks ticks = first;
        for (int finer = 0; finer < 6 && ticks.values.size() < 200; ++finer) {
            const double step = niceStepBelow(ticks.step);
            if (axis.integerTicks && step < 1) break;
            ticks = ticksAtStep(range, step);
            AxisLabels candidate = labelTicks(canvas, ticks, kWanted, tight, font);
            if (candidate.kept >= kWanted) return onlyLabelled(std::move(candidate));
        }
    }
    return best;  // three never fit: the budget's ticks, as many labels as fit
}

// Distance from the plot's bottom edge to the top of the x labels, below the tick marks. A y
// label centred on a tick at the very bottom would reach lower: the y labels' track stops here,
// so that one is dropped rather than the corner's labels overlapping.
double xLabelOffset(const Metrics& m) {
    return m.tick + 0.15 * m.font;
}

// y ticks and labels of a plot from `top`, `plotH` high (a category axis' named rows), none
// reaching above `ceiling` (the header's bottom) or into the x labels; returns the widest.
double layoutYLabels(Canvas& canvas, const Figure& figure, const View& view, double top,
                     double plotH, double ceiling, const Metrics& m, FigureLayout& layout) {
    // Pixels up from the top of the figure, so positions ascend with the value.
    const Transform t(view.x, view.y, {0, top, 1, top + plotH});
    LabelTrack track;
    track.position = [&](double v) { return -(std::round(t.yToPixel(v)) + 0.5); };
    track.lo = -(top + plotH + xLabelOffset(m));
    track.hi = -ceiling;
    track.gap = 0.1 * m.font;  // text boxes include the font's leading: a hairline is enough
    track.alongY = true;
    if (!figure.y.categories.empty()) {
        for (const auto& category : figure.y.categories)
            if (view.y.contains(category.first)) {
                layout.yTicks.values.push_back(category.first);
                layout.yLabels.push_back(category.second);
            }
        pruneToFit(canvas, layout.yTicks.values, layout.yLabels, 0, 1, track, m.font);
    } else {
        AxisLabels axis = labelAxis(canvas, figure.y, view.y, tickBudget(plotH, m.lineH * 2.6),
                                    plotH, track, m.font);
        layout.yTicks = std::move(axis.ticks);
        layout.yLabels = std::move(axis.labels);
    }
    double widest = 0;
    for (const auto& label : layout.yLabels)
        if (!label.empty()) widest = std::max(widest, canvas.textSize(label, m.font).x);
    return widest;
}

// Boxes of the y labels, right-aligned against the ticks, centred on them.
void placeYLabels(Canvas& canvas, const View& view, const Metrics& m, FigureLayout& layout) {
    const Transform t = layout.transform(view);
    for (std::size_t i = 0; i < layout.yLabels.size(); ++i) {
        const std::string& label = layout.yLabels[i];
        if (label.empty()) {
            layout.yLabelBoxes.push_back({});
            continue;
        }
        const double y = std::round(t.yToPixel(layout.yTicks.values[i])) + 0.5;
        const Point size = canvas.textSize(label, m.font);
        const double x1 = layout.plot.x0 - m.tick - 0.3 * m.font;
        layout.yLabelBoxes.push_back({x1 - size.x, y - 0.5 * size.y, x1, y + 0.5 * size.y});
    }
}

// x ticks, as many as the width allows, labels pruned so none overlaps or leaves the figure,
// and their boxes.
void layoutXLabels(Canvas& canvas, const Figure& figure, const View& view, const Metrics& m,
                   FigureLayout& layout) {
    const Transform t = layout.transform(view);
    LabelTrack track;
    track.position = [&](double v) { return std::round(t.xToPixel(v)) + 0.5; };
    track.lo = layout.outer.x0;
    track.hi = layout.outer.x1;
    track.gap = 0.8 * m.font;
    AxisLabels axis =
        labelAxis(canvas, figure.x, view.x, tickBudget(layout.plot.width(), m.font * 4.5),
                  layout.plot.width(), track, m.font);
    layout.xTicks = std::move(axis.ticks);
    layout.xLabels = std::move(axis.labels);
    const double y0 = layout.plot.y1 + xLabelOffset(m);
    for (std::size_t i = 0; i < layout.xLabels.size(); ++i) {
        const std::string& label = layout.xLabels[i];
        if (label.empty()) {
            layout.xLabelBoxes.push_back({});
            continue;
        }
        const Point size = canvas.textSize(label, m.font);
        const double x = track.position(layout.xTicks.values[i]);
        layout.xLabelBoxes.push_back({x - 0.5 * size.x, y0, x + 0.5 * size.x, y0 + size.y});
    }
}

}  // namespace

FigureLayout layoutFigure(Canvas& canvas, const Figure& figure, const View& view, const Rect& outer,
                          const RenderStyle& style) {
    FigureLayout layout;
    layout.outer = outer;
    layout.fontPx = style.px(style.fontSize);
    layout.titlePx = layout.fontPx * kTitleScale;
    Metrics m;
    m.pad = style.px(style.padding);
    m.font = layout.fontPx;
    m.lineH = canvas.textSize("Ag", m.font).y;
    m.tick = style.px(style.tickLength);
    const double room = outer.width() - 2 * m.pad;

    // From the top down: title, header (y title and legend), the vertical lines' label row.
    // `ceiling` follows the bottom of the title and header, which the y labels stay below.
    double top = outer.y0 + m.pad;
    double ceiling = outer.y0;
    const double titleBottom = layoutTitle(canvas, figure, style, m, top, layout);
    if (titleBottom > top) {
        ceiling = titleBottom;
        top = titleBottom + 0.5 * m.pad;
    }

    // Labelled horizontal lines get a right gutter, as wide as their widest label (elided to a
    // share of the figure), so the labels sit beside the axes instead of over the data.
    const auto hLines = labelledLines(figure, view, false);
    std::vector<std::string> hTexts;
    double hLabelW = 0;
    for (std::size_t i : hLines) {
        hTexts.push_back(
            elideText(canvas, figure.lines[i].label, m.font, kMaxGutterShare * outer.width()));
        hLabelW = std::max(hLabelW, canvas.textSize(hTexts.back(), m.font).x);
    }
    const double labelGap = kLineLabelGapEm * m.font;
    layout.rightGutter = m.pad + (hLines.empty() ? 0.5 * m.font : labelGap + hLabelW);
    const double right = outer.x1 - std::max(layout.rightGutter, style.minRightGutter);

    const auto items = legendItems(canvas, figure, m, room);
    const double headerBottom = layoutHeader(canvas, figure, items, m, top, right, layout);
    if (headerBottom > top) {
        ceiling = headerBottom;
        top = headerBottom + 0.5 * m.pad;
    }
    // The vertical lines' label row. Its labels stay right of the plot's left edge, so the top
    // y label may reach up into the row (the ceiling stays the header's).
    const auto vLines = labelledLines(figure, view, true);
    const double labelRowTop = top;
    if (!vLines.empty()) top += m.lineH + 0.25 * m.pad;

    double bottom = outer.y1 - m.pad;
    const std::string xTitle = figure.x.title();
    if (!xTitle.empty()) {
        bottom -= m.lineH;
        layout.xTitle.at = {0, bottom};  // x centred below, once the plot's width is known
        bottom -= 0.25 * m.pad;
    }
    bottom -= m.lineH + m.tick + 0.25 * m.pad;  // x tick labels

    // y ticks, now that the height is known; their labels set the left gutter.
    const double plotH = std::max(1.0, bottom - top);
    const double labelW = layoutYLabels(canvas, figure, view, top, plotH, ceiling, m, layout);
    layout.leftGutter = m.pad + labelW + m.tick + 0.4 * m.font;
    const double left = outer.x0 + std::max(layout.leftGutter, style.minLeftGutter);
    layout.plot = {left, top, std::max(left + 1, right), std::max(top + 1, bottom)};
    placeYLabels(canvas, view, m, layout);
    if (!xTitle.empty()) {
        layout.xTitle.text = elideText(canvas, xTitle, m.font, room);
        const double w = canvas.textSize(layout.xTitle.text, m.font).x;
        layout.xTitle.at.x =
            std::max(outer.x0 + m.pad, 0.5 * (layout.plot.x0 + layout.plot.x1) - 0.5 * w);
    }
    layoutCornerLegend(figure, items, m, layout);
    layoutXLabels(canvas, figure, view, m, layout);

    const Transform t = layout.transform(view);
    const Rect& plot = layout.plot;
    placeLineLabels(
        canvas, figure, hLines, hTexts, [&](double v) { return t.yToPixel(v); }, false, plot.y0,
        plot.y1, plot.x1 + labelGap, m, layout);
    std::vector<std::string> vTexts;
    for (std::size_t i : vLines)
        vTexts.push_back(
            elideText(canvas, figure.lines[i].label, m.font, outer.x1 - m.pad - plot.x0));
    placeLineLabels(
        canvas, figure, vLines, vTexts, [&](double v) { return t.xToPixel(v); }, true, plot.x0,
        outer.x1 - m.pad, labelRowTop, m, layout);
    return layout;
}

void drawMarker(Canvas& canvas, MarkerShape shape, Point c, double size, Rgba colour,
                double lineWidth) {
    const double r = size / 2;
    switch (shape) {
        case MarkerShape::None:
            return;
        case MarkerShape::Circle:
            canvas.fillCircle(c, r, colour);
            return;
        case MarkerShape::Ring:
            canvas.strokeCircle(c, r - lineWidth / 2, colour, lineWidth);
            return;
        case MarkerShape::Square: {
            const double h = r * 0.85;
            canvas.fillRect({c.x - h, c.y - h, c.x + h, c.y + h}, colour);
            return;
        }
        case MarkerShape::Diamond: {
            const Point p[4] = {{c.x, c.y - r}, {c.x + r, c.y}, {c.x, c.y + r}, {c.x - r, c.y}};
            canvas.fillPolygon(p, 4, colour);
            return;
        }
        case MarkerShape::TriangleUp: {
            const Point p[3] = {
                {c.x, c.y - r}, {c.x + r, c.y + 0.75 * r}, {c.x - r, c.y + 0.75 * r}};
            canvas.fillPolygon(p, 3, colour);
            return;
        }
        case MarkerShape::TriangleDown: {
            const Point p[3] = {
                {c.x - r, c.y - 0.75 * r}, {c.x + r, c.y - 0.75 * r}, {c.x, c.y + r}};
            canvas.fillPolygon(p, 3, colour);
            return;
        }
        case MarkerShape::Cross: {
            const Point a[2] = {{c.x - r, c.y - r}, {c.x + r, c.y + r}};
            const Point b[2] = {{c.x - r, c.y + r}, {c.x + r, c.y - r}};
            canvas.polyline(a, 2, colour, lineWidth);
            canvas.polyline(b, 2, colour, lineWidth);
            return;
        }
    }
}

namespace {

// What every drawing step below needs: the target, the figure as laid out, and the pixel sizes.
struct FigurePass {
    Canvas& canvas;
    const Figure& figure;
    const FigureLayout& layout;
    const Theme& theme;
    const RenderStyle& style;
    RenderScratch& scratch;
    Transform t;
    double font, tick, thin;
};

// Shaded regions and the grid at the ticks, under everything else.
void drawBackdrop(const FigurePass& pass) {
    const Rect& plot = pass.layout.plot;
    for (const auto& region : pass.figure.regions) {
        const double a = std::clamp(pass.t.xToPixel(region.x0), plot.x0, plot.x1);
        const double b = std::clamp(pass.t.xToPixel(region.x1), plot.x0, plot.x1);
        if (b <= a) continue;
        pass.canvas.fillRect({a, plot.y0, b, plot.y1}, resolveColour(region.colour, pass.theme));
    }
    for (double v : pass.layout.yTicks.values) {
        const double y = std::round(pass.t.yToPixel(v)) + 0.5;
        const Point line[2] = {{plot.x0, y}, {plot.x1, y}};
        pass.canvas.polyline(line, 2, pass.theme.grid, pass.thin);
    }
    for (double v : pass.layout.xTicks.values) {
        const double x = std::round(pass.t.xToPixel(v)) + 0.5;
        const Point line[2] = {{x, plot.y0}, {x, plot.y1}};
        pass.canvas.polyline(line, 2, pass.theme.grid, pass.thin);
    }
}

void drawSeries(const FigurePass& pass, const Series& s) {
    auto& canvas = pass.canvas;
    auto& scratch = pass.scratch;
    const auto& style = pass.style;
    const Rgba colour = resolveColour(s.colour, pass.theme);
    const double width = style.px(s.lineWidth);
    const double markerPx = style.px(s.markerSize);
    switch (s.kind) {
        case SeriesKind::Line:
        case SeriesKind::Step:
            decimateLine(s.view(), pass.t, s.kind == SeriesKind::Step, scratch.points);
            strokeStyled(canvas, scratch.points, colour, width, s.lineStyle, style.scale,
                         scratch.dashed);
            if (s.marker != MarkerShape::None) {
                decimatePoints(s.view(), pass.t, markerPx * 1.2, true, scratch.points);
                for (const auto& p : scratch.points)
                    drawMarker(canvas, s.marker, p, markerPx, colour, style.px(1.0));
            }
            break;
        case SeriesKind::Scatter:
        case SeriesKind::Markers:
            // Overlapping symbols add nothing; one per ~third of a symbol keeps the look.
            decimatePoints(s.view(), pass.t, std::max(1.0, markerPx / 3), s.xAscending(),
                           scratch.points);
            for (const auto& p : scratch.points)
                drawMarker(canvas, symbolOf(s), p, markerPx, colour, style.px(1.0));
            break;
        case SeriesKind::Bars:
            decimateBars(s.view(), s.barBase, s.barWidth, pass.t, 2.0, scratch.rects,
                         s.barBases.size() == s.y.size() ? s.barBases.data() : nullptr);
            for (const auto& r : scratch.rects)
                canvas.fillRect(r, colour);
            break;
    }
}

// Reference lines across the plot, and the names of regions wide enough to carry them.
void drawLinesAndRegionNames(const FigurePass& pass) {
    const Rect& plot = pass.layout.plot;
    auto& points = pass.scratch.points;
    for (const auto& line : pass.figure.lines) {
        points.clear();
        if (line.vertical) {
            const double x = pass.t.xToPixel(line.value);
            if (x < plot.x0 - 1 || x > plot.x1 + 1) continue;
            points = {{x, plot.y1}, {x, plot.y0}};
        } else {
            const double y = pass.t.yToPixel(line.value);
            if (y < plot.y0 - 1 || y > plot.y1 + 1) continue;
            points = {{plot.x0, y}, {plot.x1, y}};
        }
        strokeStyled(pass.canvas, points, resolveColour(line.colour, pass.theme),
                     pass.style.px(line.width), line.style, pass.style.scale, pass.scratch.dashed);
    }
    for (const auto& region : pass.figure.regions) {
        if (region.label.empty()) continue;
        const double a = std::max(pass.t.xToPixel(region.x0), plot.x0);
        const double b = std::min(pass.t.xToPixel(region.x1), plot.x1);
        const Point size = pass.canvas.textSize(region.label, pass.font);
        if (b - a < size.x + 0.4 * pass.font) continue;  // too narrow to name
        pass.canvas.text({a + 0.3 * pass.font, plot.y1 - size.y - 0.3 * pass.font}, region.label,
                         pass.font, pass.theme.muted);
    }
}

// Left and bottom spines with outward ticks and their labels, then the titles.
void drawAxes(const FigurePass& pass) {
    const auto& layout = pass.layout;
    const Rect& plot = layout.plot;
    auto& canvas = pass.canvas;
    const auto& ink = pass.theme.foreground;
    const Point spine[3] = {{plot.x0, plot.y0}, {plot.x0, plot.y1}, {plot.x1, plot.y1}};
    canvas.polyline(spine, 3, ink, pass.thin);
    for (std::size_t i = 0; i < layout.yTicks.values.size(); ++i) {
        const double y = std::round(pass.t.yToPixel(layout.yTicks.values[i])) + 0.5;
        const Point mark[2] = {{plot.x0 - pass.tick, y}, {plot.x0, y}};
        canvas.polyline(mark, 2, ink, pass.thin);
        if (layout.yLabels[i].empty() || i >= layout.yLabelBoxes.size()) continue;
        const Rect& box = layout.yLabelBoxes[i];
        canvas.text({box.x0, box.y0}, layout.yLabels[i], pass.font, ink);
    }
    for (std::size_t i = 0; i < layout.xTicks.values.size(); ++i) {
        const double x = std::round(pass.t.xToPixel(layout.xTicks.values[i])) + 0.5;
        const Point mark[2] = {{x, plot.y1}, {x, plot.y1 + pass.tick}};
        canvas.polyline(mark, 2, ink, pass.thin);
        if (layout.xLabels[i].empty() || i >= layout.xLabelBoxes.size()) continue;
        const Rect& box = layout.xLabelBoxes[i];
        canvas.text({box.x0, box.y0}, layout.xLabels[i], pass.font, ink);
    }
    for (const auto& line : layout.title)
        canvas.text(line.at, line.text, layout.titlePx, ink);
    if (!layout.yTitle.text.empty())
        canvas.text(layout.yTitle.at, layout.yTitle.text, pass.font, pass.theme.muted);
    if (!layout.xTitle.text.empty())
        canvas.text(layout.xTitle.at, layout.xTitle.text, pass.font, pass.theme.muted);
}

// Each legend entry: a swatch and the series' name, greyed when the series is hidden.
void drawLegend(const FigurePass& pass, const std::vector<bool>& visible) {
    for (const auto& entry : pass.layout.legend) {
        const auto& s = pass.figure.series[entry.series];
        const bool shown = entry.series >= visible.size() || visible[entry.series];
        Rgba colour = resolveColour(s.colour, pass.theme);
        Rgba textColour = pass.theme.foreground;
        if (!shown) {
            colour = greyed(colour);
            textColour = greyed(textColour);
        }
        if (pass.figure.legend != LegendPosition::Above) {
            Rgba backing = pass.theme.plotBackground;
            backing.a = 0.8f;
            pass.canvas.fillRect(entry.box, backing);
        }
        const Rect swatch{entry.box.x0, entry.box.y0, entry.box.x0 + pass.font * kSwatchEm,
                          entry.box.y1};
        drawSwatch(pass.canvas, s, swatch, colour, pass.style, pass.scratch.dashed);
        pass.canvas.text({swatch.x1 + 0.4 * pass.font, entry.box.y0},
                         entry.text.empty() ? s.name : entry.text, pass.font, textColour);
    }
}

}  // namespace

void drawFigure(Canvas& canvas, const Figure& figure, const std::vector<bool>& visible,
                const View& view, const FigureLayout& layout, const Theme& theme,
                const RenderStyle& style, RenderScratch& scratch) {
    const FigurePass pass{canvas,
                          figure,
                          layout,
                          theme,
                          style,
                          scratch,
                          layout.transform(view),
                          layout.fontPx,
                          style.px(style.tickLength),
                          std::max(1.0, style.px(0.75))};
    canvas.pushClip(layout.outer);
    canvas.fillRect(layout.outer, theme.background);
    canvas.fillRect(layout.plot, theme.plotBackground);
    canvas.pushClip(layout.plot);
    drawBackdrop(pass);
    for (std::size_t i = 0; i < figure.series.size(); ++i)
        if (i >= visible.size() || visible[i]) drawSeries(pass, figure.series[i]);
    drawLinesAndRegionNames(pass);
    canvas.popClip();
    // Line labels sit outside the axes (right gutter, row above), where the layout put them.
    for (const auto& label : layout.lineLabels)
        if (label.line < figure.lines.size())
            canvas.text({label.box.x0, label.box.y0}, label.text, layout.fontPx,
                        resolveColour(figure.lines[label.line].colour, theme));
    drawAxes(pass);
    drawLegend(pass, visible);
    canvas.popClip();
}

}  // namespace ponder::viz
