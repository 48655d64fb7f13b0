// Lays out and draws a Figure on an abstract Canvas. The ImGui widget (ImDrawList) and the
// exporter (Cairo) each implement Canvas, so screen and file share one drawing routine.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "viz/figure.h"
#include "viz/palette.h"
#include "viz/plot_math.h"

namespace ponder::viz {

// Drawing primitives in pixels (or points, for vector output), y down.
class Canvas {
public:
    virtual ~Canvas() = default;
    // An open polyline without NaN points.
    virtual void polyline(const Point* points, std::size_t count, Rgba colour, double width) = 0;
    virtual void fillRect(const Rect& rect, Rgba colour) = 0;
    // A convex polygon.
    virtual void fillPolygon(const Point* points, std::size_t count, Rgba colour) = 0;
    virtual void fillCircle(Point centre, double radius, Rgba colour) = 0;
    virtual void strokeCircle(Point centre, double radius, Rgba colour, double width) = 0;
    // Width and height of one line of UTF-8 text at `size` pixels.
    virtual Point textSize(const std::string& text, double size) = 0;
    virtual void text(Point topLeft, const std::string& text, double size, Rgba colour) = 0;
    virtual void pushClip(const Rect& rect) = 0;
    virtual void popClip() = 0;
};

struct RenderStyle {
    double scale = 1.0;       // pixels per point: DPI / 72 on paper, the monitor's scale on screen
    double fontSize = 9.0;    // points, tick labels and legend; the title is 1.2x
    double padding = 6.0;     // points
    double tickLength = 4.0;  // points
    // Text never shrinks below max(this, 0.85 x fontSize) (points): a title too long for its
    // figure wraps onto more lines, and what still does not fit ends in "\u2026", instead of
    // shrinking until a minus sign is a faint dot. The studio sets 11 (pixels at scale 1).
    double minTextSize = 0;
    double minLeftGutter = 0;   // pixels: stacked, x-linked plots pass the widest so axes align
    double minRightGutter = 0;  // pixels: the same for the right edge (line labels' gutter)

    double px(double points) const { return points * scale; }
};

// The current view: what part of plot space the axes show.
struct View {
    Range x, y;
};

struct LegendEntry {
    std::size_t series = 0;
    Rect box;          // swatch and name: the click target
    std::string text;  // the name as drawn (elided with "\u2026" when wider than the figure)
};

struct TextLine {
    Point at;  // top-left corner
    std::string text;
};

// A reference line's label, outside the axes so it never covers data: a horizontal line's in
// the right gutter at the line's height, a vertical line's in a row above the plot at its x.
struct LineLabel {
    std::size_t line = 0;  // index into Figure::lines
    Rect box;              // the text's extent; drawn from its top-left corner
    std::string text;      // as drawn (elided to the gutter's width)
};

struct FigureLayout {
    Rect outer, plot;
    Ticks xTicks, yTicks;
    std::vector<std::string> xLabels, yLabels;  // empty string: pruned
    // Where each tick label is drawn, parallel to xLabels / yLabels (an empty Rect{} where the
    // label is pruned): none overlaps another.
    std::vector<Rect> xLabelBoxes, yLabelBoxes;
    std::vector<LegendEntry> legend;
    std::vector<TextLine> title;        // wrapped onto as many lines as it needs (three at most)
    TextLine yTitle, xTitle;            // elided to the room they have
    std::vector<LineLabel> lineLabels;  // labelled reference lines inside the view
    double fontPx = 12, titlePx = 14;
    double leftGutter = 0;   // what this figure's y labels needed (before minLeftGutter)
    double rightGutter = 0;  // what this figure's line labels needed (before minRightGutter)

    Transform transform(const View& view) const { return {view.x, view.y, plot}; }
};

// Reused buffers, so redrawing a 100k-point figure every frame allocates nothing.
struct RenderScratch {
    std::vector<Point> points, dashed;
    std::vector<Rect> rects;
};

// Every legend entry is laid out, hidden series too (drawFigure greys them), so a legend click
// can bring a series back.
FigureLayout layoutFigure(Canvas& canvas, const Figure& figure, const View& view, const Rect& outer,
                          const RenderStyle& style);

// `visible` per series.

void drawFigure(Canvas& canvas, const Figure& figure, const std::vector<bool>& visible,
                const View& view, const FigureLayout& layout, const Theme& theme,
                const RenderStyle& style, RenderScratch& scratch);

// The smallest text size, in pixels, the layout draws (see RenderStyle::minTextSize).
double minTextPx(const RenderStyle& style);

// `text` cut at a UTF-8 character boundary and ended with "\u2026" so it fits `width` pixels at
// `sizePx`; unchanged when it fits. At least the ellipsis (one character when not even that
// fits).
std::string elideText(Canvas& canvas, const std::string& text, double sizePx, double width);

// Greedy word wrap at spaces into at most `maxLines` lines of `width` pixels; a word wider
// than a line, or text left over after the last line, is elided.
std::vector<std::string> wrapText(Canvas& canvas, const std::string& text, double sizePx,
                                  double width, std::size_t maxLines);

// One symbol of `sizePx` across, centred on `centre`.
void drawMarker(Canvas& canvas, MarkerShape shape, Point centre, double sizePx, Rgba colour,
                double lineWidthPx);

// The view a figure opens with: its fixed ranges, else fitted to the visible series.
View defaultView(const Figure& figure, const std::vector<bool>& visible);

}  // namespace ponder::viz
