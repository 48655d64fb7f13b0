// The one drawing routine for figures, on screen and in files: layout, grid, series, reference
// lines, axes, labels and legend.
#include "viz/figure_render.h"

#include <algorithm>
#include <cmath>

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

FigureLayout layoutFigure(Canvas& canvas, const Figure& figure, const View& view, const Rect& outer,
                          const RenderStyle& style) {
    FigureLayout layout;
    layout.outer = outer;
    layout.fontPx = style.px(style.fontSize);
    layout.titlePx = layout.fontPx * kTitleScale;
    const double pad = style.px(style.padding);
    const double font = layout.fontPx;
    const double lineH = canvas.textSize("Ag", font).y;
    const double tick = style.px(style.tickLength);

    double top = outer.y0 + pad;
    const double room = outer.width() - 2 * pad;
    if (!figure.title.empty()) {
        // A long title in a narrow figure shrinks a little (down to the smallest readable
        // size), then wraps; each line is centred, or starts at the left when it fills it.
        const double smallest = std::min(layout.titlePx, minTextPx(style));
        const double width = canvas.textSize(figure.title, layout.titlePx).x;
        if (width > room && width > 0)
            layout.titlePx = std::max(smallest, layout.titlePx * room / width);
        const double lineStep = canvas.textSize("Ag", layout.titlePx).y;
        for (auto& line : balancedWrap(canvas, figure.title, layout.titlePx, room, kTitleLines)) {
            const double w = canvas.textSize(line, layout.titlePx).x;
            const Point at{std::max(outer.x0 + pad, 0.5 * (outer.x0 + outer.x1) - 0.5 * w), top};
            layout.title.push_back({at, std::move(line)});
            top += lineStep;
        }
        top += 0.5 * pad;
    }

    // Header rows: the y-axis title on the left (horizontal, above the axis: it reads on screen
    // and paper alike, and ImGui cannot rotate text), the legend flowing after it or below.
    const std::string yTitle = elideText(canvas, figure.y.title(), font, room);
    const double yTitleW = yTitle.empty() ? 0 : canvas.textSize(yTitle, font).x;
    layout.yTitle = {{outer.x0 + pad, top}, yTitle};
    const double entryGap = font * 1.0;
    const double swatchW = font * kSwatchEm;
    struct Entry {
        std::size_t series;
        double width;
        std::string text;
    };
    std::vector<Entry> entries;
    double legendW = 0;
    if (figure.legend != LegendPosition::None) {
        for (std::size_t i = 0; i < figure.series.size(); ++i) {
            const auto& s = figure.series[i];
            if (!s.inLegend || s.name.empty()) continue;
            // A name wider than the figure (a long compared run's title) is elided.
            std::string text = elideText(canvas, s.name, font, room - swatchW - 0.4 * font);
            const double w = swatchW + 0.4 * font + canvas.textSize(text, font).x;
            entries.push_back({i, w, std::move(text)});
            legendW += (legendW > 0 ? entryGap : 0) + w;
        }
    }
    const double available = outer.width() - 2 * pad;
    double headerBottom = top + (yTitle.empty() ? 0 : lineH);
    if (!entries.empty()) {
        if (figure.legend == LegendPosition::Above) {
            // Same row as the y title when it fits (right-aligned), else rows of their own.
            double x = 0, y = top;
            const bool sameRow = yTitleW + 2 * entryGap + legendW <= available;
            double rowStartX = outer.x0 + pad;
            if (sameRow) {
                x = outer.x1 - pad - 0.5 * font - legendW;  // flush with the plot's right edge
            } else {
                y = yTitle.empty() ? top : top + lineH + 0.25 * pad;
                x = rowStartX;
            }
            for (const auto& [index, w, text] : entries) {
                if (!sameRow && x > rowStartX && x + w > outer.x1 - pad) {
                    x = rowStartX;
                    y += lineH + 0.25 * pad;
                }
                layout.legend.push_back({index, {x, y, x + w, y + lineH}, text});
                x += w + entryGap;
            }
            headerBottom = std::max(headerBottom, y + lineH);
        }
    }
    top = headerBottom + (headerBottom > top ? 0.5 * pad : 0);

    double bottom = outer.y1 - pad;
    const std::string xTitle = figure.x.title();
    if (!xTitle.empty()) {
        bottom -= lineH;
        layout.xTitle.at = {0, bottom};  // x centred below, once the plot's width is known
        bottom -= 0.25 * pad;
    }
    bottom -= lineH + tick + 0.25 * pad;  // x tick labels

    // y ticks, now that the height is known; their labels set the left gutter.
    const double plotH = std::max(1.0, bottom - top);
    layout.yTicks = axisTicks(figure.y, view.y, tickBudget(plotH, lineH * 2.6));
    if (!figure.y.categories.empty()) {
        layout.yTicks = {};
        for (const auto& category : figure.y.categories)
            if (view.y.contains(category.first)) {
                layout.yTicks.values.push_back(category.first);
                layout.yLabels.push_back(category.second);
            }
    }
    double labelW = 0;
    for (std::size_t i = 0; i < layout.yTicks.values.size(); ++i) {
        if (figure.y.categories.empty())
            layout.yLabels.push_back(formatTick(layout.yTicks.values[i], layout.yTicks.step));
        labelW = std::max(labelW, canvas.textSize(layout.yLabels[i], font).x);
    }
    layout.leftGutter = pad + labelW + tick + 0.4 * font;
    const double left = outer.x0 + std::max(layout.leftGutter, style.minLeftGutter);
    const double right = outer.x1 - pad - 0.5 * font;
    layout.plot = {left, top, std::max(left + 1, right), std::max(top + 1, bottom)};
    if (!xTitle.empty()) {
        layout.xTitle.text = elideText(canvas, xTitle, font, room);
        const double w = canvas.textSize(layout.xTitle.text, font).x;
        layout.xTitle.at.x =
            std::max(outer.x0 + pad, 0.5 * (layout.plot.x0 + layout.plot.x1) - 0.5 * w);
    }

    // Legend inside a corner: stacked entries over the axes.
    if (!entries.empty() && figure.legend != LegendPosition::Above) {
        double boxW = 0;
        for (const auto& e : entries)
            boxW = std::max(boxW, e.width);
        const double inset = 0.6 * pad;
        const bool onRight = figure.legend == LegendPosition::TopRight ||
                             figure.legend == LegendPosition::BottomRight;
        const bool onTop =
            figure.legend == LegendPosition::TopLeft || figure.legend == LegendPosition::TopRight;
        const double blockH = entries.size() * lineH;
        const double x = onRight ? layout.plot.x1 - inset - boxW : layout.plot.x0 + inset;
        double y = onTop ? layout.plot.y0 + inset : layout.plot.y1 - inset - blockH;
        for (const auto& [index, w, text] : entries) {
            layout.legend.push_back({index, {x, y, x + w, y + lineH}, text});
            y += lineH;
        }
    }

    // x ticks: as many as the width allows, then labels pruned so none overlap.
    layout.xTicks = axisTicks(figure.x, view.x, tickBudget(layout.plot.width(), font * 4.5));
    const Transform t = layout.transform(view);
    std::vector<double> centres, widths;
    for (double v : layout.xTicks.values) {
        layout.xLabels.push_back(formatTick(v, layout.xTicks.step));
        centres.push_back(t.xToPixel(v));
        widths.push_back(canvas.textSize(layout.xLabels.back(), font).x);
    }
    const long long firstIndex =
        layout.xTicks.values.empty()
            ? 0
            : static_cast<long long>(std::llround(layout.xTicks.values[0] / layout.xTicks.step));
    const auto keep = pruneLabels(centres, widths, font * 0.8, firstIndex);
    for (std::size_t i = 0; i < keep.size(); ++i)
        if (!keep[i]) layout.xLabels[i].clear();
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

void drawFigure(Canvas& canvas, const Figure& figure, const std::vector<bool>& visible,
                const View& view, const FigureLayout& layout, const Theme& theme,
                const RenderStyle& style, RenderScratch& scratch) {
    const Rect& plot = layout.plot;
    const Transform t = layout.transform(view);
    const double font = layout.fontPx;
    const double tick = style.px(style.tickLength);
    const double thin = std::max(1.0, style.px(0.75));

    canvas.pushClip(layout.outer);
    canvas.fillRect(layout.outer, theme.background);
    canvas.fillRect(plot, theme.plotBackground);

    canvas.pushClip(plot);
    for (const auto& region : figure.regions) {
        const double a = std::clamp(t.xToPixel(region.x0), plot.x0, plot.x1);
        const double b = std::clamp(t.xToPixel(region.x1), plot.x0, plot.x1);
        if (b <= a) continue;
        canvas.fillRect({a, plot.y0, b, plot.y1}, resolveColour(region.colour, theme));
    }
    // Grid at the ticks.
    for (double v : layout.yTicks.values) {
        const double y = std::round(t.yToPixel(v)) + 0.5;
        const Point line[2] = {{plot.x0, y}, {plot.x1, y}};
        canvas.polyline(line, 2, theme.grid, thin);
    }
    for (double v : layout.xTicks.values) {
        const double x = std::round(t.xToPixel(v)) + 0.5;
        const Point line[2] = {{x, plot.y0}, {x, plot.y1}};
        canvas.polyline(line, 2, theme.grid, thin);
    }

    for (std::size_t i = 0; i < figure.series.size(); ++i) {
        if (i < visible.size() && !visible[i]) continue;
        const auto& s = figure.series[i];
        const Rgba colour = resolveColour(s.colour, theme);
        const double width = style.px(s.lineWidth);
        const double markerPx = style.px(s.markerSize);
        switch (s.kind) {
            case SeriesKind::Line:
            case SeriesKind::Step:
                decimateLine(s.view(), t, s.kind == SeriesKind::Step, scratch.points);
                strokeStyled(canvas, scratch.points, colour, width, s.lineStyle, style.scale,
                             scratch.dashed);
                if (s.marker != MarkerShape::None) {
                    decimatePoints(s.view(), t, markerPx * 1.2, true, scratch.points);
                    for (const auto& p : scratch.points)
                        drawMarker(canvas, s.marker, p, markerPx, colour, style.px(1.0));
                }
                break;
            case SeriesKind::Scatter:
            case SeriesKind::Markers:
                // Overlapping symbols add nothing; one per ~third of a symbol keeps the look.
                decimatePoints(s.view(), t, std::max(1.0, markerPx / 3), s.xAscending(),
                               scratch.points);
                for (const auto& p : scratch.points)
                    drawMarker(canvas, symbolOf(s), p, markerPx, colour, style.px(1.0));
                break;
            case SeriesKind::Bars:
                decimateBars(s.view(), s.barBase, s.barWidth, t, 2.0, scratch.rects);
                for (const auto& r : scratch.rects)
                    canvas.fillRect(r, colour);
                break;
        }
    }

    // Labels over data get a backing so they stay legible.
    Rgba backing = theme.plotBackground;
    backing.a = 0.8f;
    const auto label = [&](Point at, const std::string& text, Point size, Rgba colour) {
        const double m = 0.15 * font;
        canvas.fillRect({at.x - m, at.y, at.x + size.x + m, at.y + size.y}, backing);
        canvas.text(at, text, font, colour);
    };
    for (const auto& line : figure.lines) {
        const Rgba colour = resolveColour(line.colour, theme);
        scratch.points.clear();
        if (line.vertical) {
            const double x = t.xToPixel(line.value);
            if (x < plot.x0 - 1 || x > plot.x1 + 1) continue;
            scratch.points = {{x, plot.y1}, {x, plot.y0}};
        } else {
            const double y = t.yToPixel(line.value);
            if (y < plot.y0 - 1 || y > plot.y1 + 1) continue;
            scratch.points = {{plot.x0, y}, {plot.x1, y}};
        }
        strokeStyled(canvas, scratch.points, colour, style.px(line.width), line.style, style.scale,
                     scratch.dashed);
        if (line.label.empty()) continue;
        const Point size = canvas.textSize(line.label, font);
        const double gap = 0.3 * font;
        if (line.vertical) {
            const double x = scratch.points[0].x;
            const double at = x + gap + size.x <= plot.x1 ? x + gap : x - gap - size.x;
            label({at, plot.y0 + gap}, line.label, size, colour);
        } else {
            const double y = scratch.points[0].y;
            const double at =
                y - size.y - 0.1 * font >= plot.y0 ? y - size.y - 0.1 * font : y + 0.1 * font;
            label({plot.x1 - gap - size.x, at}, line.label, size, colour);
        }
    }
    for (const auto& region : figure.regions) {
        if (region.label.empty()) continue;
        const double a = std::max(t.xToPixel(region.x0), plot.x0);
        const double b = std::min(t.xToPixel(region.x1), plot.x1);
        const Point size = canvas.textSize(region.label, font);
        if (b - a < size.x + 0.4 * font) continue;  // too narrow to name
        canvas.text({a + 0.3 * font, plot.y1 - size.y - 0.3 * font}, region.label, font,
                    theme.muted);
    }
    canvas.popClip();

    // Axes: left and bottom spines with outward ticks and labels.
    const Point spine[3] = {{plot.x0, plot.y0}, {plot.x0, plot.y1}, {plot.x1, plot.y1}};
    canvas.polyline(spine, 3, theme.foreground, thin);
    for (std::size_t i = 0; i < layout.yTicks.values.size(); ++i) {
        const double y = std::round(t.yToPixel(layout.yTicks.values[i])) + 0.5;
        const Point mark[2] = {{plot.x0 - tick, y}, {plot.x0, y}};
        canvas.polyline(mark, 2, theme.foreground, thin);
        const auto& label = layout.yLabels[i];
        const Point size = canvas.textSize(label, font);
        canvas.text({plot.x0 - tick - 0.3 * font - size.x, y - 0.5 * size.y}, label, font,
                    theme.foreground);
    }
    for (std::size_t i = 0; i < layout.xTicks.values.size(); ++i) {
        const double x = std::round(t.xToPixel(layout.xTicks.values[i])) + 0.5;
        const Point mark[2] = {{x, plot.y1}, {x, plot.y1 + tick}};
        canvas.polyline(mark, 2, theme.foreground, thin);
        const auto& label = layout.xLabels[i];
        if (label.empty()) continue;
        const Point size = canvas.textSize(label, font);
        canvas.text({x - 0.5 * size.x, plot.y1 + tick + 0.15 * font}, label, font,
                    theme.foreground);
    }

    for (const auto& line : layout.title)
        canvas.text(line.at, line.text, layout.titlePx, theme.foreground);
    if (!layout.yTitle.text.empty())
        canvas.text(layout.yTitle.at, layout.yTitle.text, font, theme.muted);
    if (!layout.xTitle.text.empty())
        canvas.text(layout.xTitle.at, layout.xTitle.text, font, theme.muted);

    for (const auto& entry : layout.legend) {
        const auto& s = figure.series[entry.series];
        const bool shown = entry.series >= visible.size() || visible[entry.series];
        Rgba colour = resolveColour(s.colour, theme);
        Rgba textColour = theme.foreground;
        if (!shown) {
            colour = greyed(colour);
            textColour = greyed(textColour);
        }
        if (figure.legend != LegendPosition::Above) {
            Rgba backing = theme.plotBackground;
            backing.a = 0.8f;
            canvas.fillRect(entry.box, backing);
        }
        const Rect swatch{entry.box.x0, entry.box.y0, entry.box.x0 + font * kSwatchEm,
                          entry.box.y1};
        drawSwatch(canvas, s, swatch, colour, style, scratch.dashed);
        canvas.text({swatch.x1 + 0.4 * font, entry.box.y0},
                    entry.text.empty() ? s.name : entry.text, font, textColour);
    }
    canvas.popClip();
}

}  // namespace ponder::viz
