// The ImGui plot widget: an ImDrawList Canvas for the shared figure renderer, plus interaction
// (pan, zoom, box zoom, fit, hover, select, legend toggles, context menu) and linked x axes.
#include "viz/plot_widget.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

namespace ponder::viz {

namespace {

constexpr float kClickSlop = 3.0f;    // pixels a press may move and still be a click
constexpr float kBoxMinimum = 4.0f;   // pixels a box zoom must span on an axis to apply to it
constexpr double kWheelStep = 0.8;    // range factor per wheel notch
constexpr double kPickRadius = 12.0;  // pixels (at DPI scale 1) a click or hover finds a point in
constexpr double kMinTextPx = 11.0;   // pixels (at DPI scale 1): smaller text stops being read

ImU32 toU32(Rgba c) {
    return ImGui::ColorConvertFloat4ToU32(ImVec4(c.r, c.g, c.b, c.a));
}

ImVec2 toIm(Point p) {
    return {static_cast<float>(p.x), static_cast<float>(p.y)};
}

float distance(ImVec2 a, ImVec2 b) {
    return std::hypot(a.x - b.x, a.y - b.y);
}

class ImGuiCanvas final : public Canvas {
public:
    ImGuiCanvas(ImDrawList* list, ImFont* font) : m_list(list), m_font(font) {}

    void polyline(const Point* points, std::size_t count, Rgba colour, double width) override {
        if (count < 2) return;
        m_buffer.resize(count);
        for (std::size_t i = 0; i < count; ++i)
            m_buffer[i] = toIm(points[i]);
        m_list->AddPolyline(m_buffer.data(), static_cast<int>(count), toU32(colour),
                            ImDrawFlags_None, static_cast<float>(width));
    }

    void fillRect(const Rect& r, Rgba colour) override {
        m_list->AddRectFilled(toIm({r.x0, r.y0}), toIm({r.x1, r.y1}), toU32(colour));
    }

    void fillPolygon(const Point* points, std::size_t count, Rgba colour) override {
        if (count < 3) return;
        m_buffer.resize(count);
        for (std::size_t i = 0; i < count; ++i)
            m_buffer[i] = toIm(points[i]);
        m_list->AddConvexPolyFilled(m_buffer.data(), static_cast<int>(count), toU32(colour));
    }

    void fillCircle(Point centre, double radius, Rgba colour) override {
        m_list->AddCircleFilled(toIm(centre), static_cast<float>(radius), toU32(colour));
    }

    void strokeCircle(Point centre, double radius, Rgba colour, double width) override {
        m_list->AddCircle(toIm(centre), static_cast<float>(radius), toU32(colour), 0,
                          static_cast<float>(width));
    }

    Point textSize(const std::string& text, double size) override {
        const ImVec2 s = m_font->CalcTextSizeA(static_cast<float>(size), FLT_MAX, 0.0f, text.data(),
                                               text.data() + text.size());
        return {s.x, s.y};
    }

    void text(Point topLeft, const std::string& text, double size, Rgba colour) override {
        m_list->AddText(m_font, static_cast<float>(size), toIm(topLeft), toU32(colour), text.data(),
                        text.data() + text.size());
    }

    void pushClip(const Rect& r) override {
        m_list->PushClipRect(toIm({r.x0, r.y0}), toIm({r.x1, r.y1}), true);
    }

    void popClip() override { m_list->PopClipRect(); }

private:
    ImDrawList* m_list;
    ImFont* m_font;
    std::vector<ImVec2> m_buffer;
};

// The smallest x span zooming may reach: four chunks on a chunk axis, else a millionth of the
// data, so a wheel held down cannot zoom into floating-point noise.
double minimumSpan(const Figure& figure, const Range& limits) {
    if (figure.x.integerTicks) return limits.valid() ? std::min(4.0, limits.span()) : 4.0;
    return limits.valid() ? limits.span() * 1e-6 : 1e-12;
}

// Reserves the plot's rectangle at the cursor as an invisible button, so ImGui routes the mouse
// (both buttons) to it; returns the rectangle in screen pixels.
Rect placePlot(const PlotOptions& options, float scale) {
    ImVec2 size = options.size;
    if (size.x <= 0) size.x = std::max(ImGui::GetContentRegionAvail().x, 50.0f);
    if (size.y <= 0) size.y = 260.0f * scale;
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton("##plot", size,
                           ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
    return {origin.x, origin.y, origin.x + size.x, origin.y + size.y};
}

// The figure's series as plot_math views, index for index.
std::vector<XYView> seriesViews(const Figure& figure) {
    std::vector<XYView> views;
    views.reserve(figure.series.size());
    for (const auto& s : figure.series)
        views.push_back(s.view());
    return views;
}

// The series a chunk axis reads values from: the visible ones but scatter clouds, whose points
// are not chunks.
std::vector<bool> chunkValued(const Figure& figure, const std::vector<bool>& visible) {
    std::vector<bool> valued(figure.series.size());
    for (std::size_t i = 0; i < figure.series.size(); ++i)
        valued[i] = visible[i] && figure.series[i].kind != SeriesKind::Scatter;
    return valued;
}

struct TooltipRow {
    Rgba colour;
    std::string text;
};

struct Tooltip {
    std::string heading;  // empty: no tooltip
    std::vector<TooltipRow> rows;
};

// The hovered chunk and each chunk-valued series' value there (a heading even with no rows, so
// the chunk under the mouse is always named).
Tooltip chunkTooltip(const Figure& figure, const std::vector<bool>& visible, double x,
                     const Theme& theme) {
    Tooltip tooltip;
    tooltip.heading = figure.x.label.empty() ? "x" : figure.x.label;
    tooltip.heading += " " + formatCompact(x, 6);
    const std::string& segment = figure.x.segmentAt(x);  // a folder run's file
    if (!segment.empty()) tooltip.heading += "  \u00b7  " + segment;
    for (const auto& hit : seriesPointsAtX(seriesViews(figure), chunkValued(figure, visible), x)) {
        const auto& s = figure.series[hit.series];
        tooltip.rows.push_back({resolveColour(s.colour, theme),
                                s.name + ": " + formatCompact(s.valueAt(hit.index), 4)});
    }
    return tooltip;
}

// The point nearest `mouse` within `radius` pixels: its series (and unit) and both values. No
// heading, so no tooltip, when there is none or it belongs to an unnamed series without ids.
Tooltip pointTooltip(const Figure& figure, const std::vector<bool>& visible, const Transform& t,
                     Point mouse, double radius, const Theme& theme) {
    Tooltip tooltip;
    const auto hit = nearestSeriesPoint(seriesViews(figure), visible, t, mouse, radius);
    if (!hit) return tooltip;
    const auto& s = figure.series[hit->series];
    const std::size_t k = hit->index;
    const Rgba colour = resolveColour(s.colour, theme);
    tooltip.heading = s.name + (s.ids.empty() ? "" : ", unit " + std::to_string(s.idAt(k)));
    tooltip.rows = {{colour, (figure.x.label.empty() ? "x" : figure.x.label) + ": " +
                                 formatCompact(s.xAt(k), 4)},
                    {colour, (figure.y.label.empty() ? "y" : figure.y.label) + ": " +
                                 formatCompact(s.valueAt(k), 4)}};
    return tooltip;
}

void showTooltipWindow(const Tooltip& tooltip) {
    ImGui::BeginTooltip();
    ImGui::TextUnformatted(tooltip.heading.c_str());
    for (const auto& row : tooltip.rows) {
        const float h = ImGui::GetTextLineHeight() * 0.7f;
        ImGui::ColorButton("##swatch", ImVec4(row.colour.r, row.colour.g, row.colour.b, 1.0f),
                           ImGuiColorEditFlags_NoTooltip | ImGuiColorEditFlags_NoPicker |
                               ImGuiColorEditFlags_NoDragDrop,
                           ImVec2(h, h));
        ImGui::SameLine();
        ImGui::TextUnformatted(row.text.c_str());
    }
    ImGui::EndTooltip();
}

}  // namespace

Range LinkedXAxis::range() const {
    return m_range;
}

void LinkedXAxis::setRange(const Range& range) {
    m_range = range;
    m_follow = false;
}

void LinkedXAxis::fit() {
    m_follow = true;
}

std::optional<double> LinkedXAxis::hoverX() const {
    return m_hoverNext ? m_hoverNext : m_hover;
}

Range LinkedXAxis::limits() const {
    return unite(m_limits, m_limitsNext);
}

void LinkedXAxis::beginFrame(int frame) {
    if (frame == m_frame) return;
    // Plots report into the *Next fields during a frame; readers see last frame's values
    // united with what this frame has reported so far, so the plot drawn first is at most one
    // frame behind.
    if (m_frame >= 0) {
        if (m_limitsNext.max >= m_limitsNext.min) m_limits = m_limitsNext;
        m_hover = m_hoverNext;
        m_gutter = m_gutterNext;
        m_rightGutter = m_rightGutterNext;
    }
    m_limitsNext = kEmptyRange;
    m_hoverNext.reset();
    m_gutterNext = 0;
    m_rightGutterNext = 0;
    m_frame = frame;
}

PlotWidget::PlotWidget(std::string id) : m_id(std::move(id)) {}

void PlotWidget::setHidden(const std::string& seriesName, bool hidden) {
    if (hidden)
        m_hidden.insert(seriesName);
    else
        m_hidden.erase(seriesName);
}

std::vector<bool> PlotWidget::visibility(const Figure& figure) const {
    std::vector<bool> visible;
    for (const auto& s : figure.series)
        visible.push_back(s.visible && !isHidden(s.name));
    return visible;
}

View PlotWidget::resolveView(const Figure& figure, const std::vector<bool>& visible,
                             LinkedXAxis& link) {
    const Range data = fitX(figure, visible);
    extend(link.m_limitsNext, data.min);
    extend(link.m_limitsNext, data.max);
    const Range limits = link.limits();
    View view;
    if (link.m_follow || !link.m_range.valid())
        view.x = limits.valid() ? limits : data;
    else
        view.x = clampRange(link.m_range, limits, minimumSpan(figure, limits));
    link.m_range = view.x;
    view.y = (m_yAuto || !m_y.valid()) ? fitY(figure, visible, view.x) : m_y;
    return view;
}

Figure PlotWidget::snapshot(const Figure& figure) const {
    Figure out = figure;
    const auto visible = visibility(figure);
    for (std::size_t i = 0; i < out.series.size(); ++i)
        out.series[i].visible = visible[i];
    if (m_view.x.valid()) out.x.range = m_view.x;
    if (m_view.y.valid()) out.y.range = m_view.y;
    return out;
}

// What one draw() call's phases share. The mouse flags and the limits are taken once, against
// the layout from before input is handled; visibility and the transform follow relayout().
struct PlotWidget::Frame {
    explicit Frame(Canvas& target) : canvas(target) {}

    Canvas& canvas;
    RenderStyle style;
    Theme theme;
    Rect outer;
    float scale = 1.0f;
    bool chunkAxis = false;
    bool hovered = false;  // the plot's invisible button is hovered
    bool inPlot = false;   // ... and the mouse is inside the axes
    Point mouse;
    Range limits;  // the linked plots' data extent: zoom and pan stay inside it
    double minSpan = 0;
    std::vector<bool> visible;
    Transform t;
};

PlotEvents PlotWidget::draw(const Figure& figure, const PlotOptions& options) {
    return draw(figure, m_ownAxis, options);
}

PlotEvents PlotWidget::draw(const Figure& figure, LinkedXAxis& link, const PlotOptions& options) {
    PlotEvents events;
    link.beginFrame(ImGui::GetFrameCount());
    ImGui::PushID(m_id.c_str());

    const float scale = options.dpiScale > 0 ? options.dpiScale : 1.0f;
    const Rect outer = placePlot(options, scale);
    ImGuiCanvas canvas(ImGui::GetWindowDrawList(), ImGui::GetFont());
    Frame frame(canvas);
    frame.hovered = ImGui::IsItemHovered();
    frame.scale = scale;
    frame.outer = outer;
    frame.style.scale = scale;
    frame.style.fontSize = ImGui::GetFontSize() / scale;  // text at the UI font's own size: crisp
    frame.style.minTextSize = kMinTextPx;  // long titles wrap rather than shrink below this
    frame.style.minLeftGutter = std::max(link.m_gutter, link.m_gutterNext);
    frame.style.minRightGutter = std::max(link.m_rightGutter, link.m_rightGutterNext);
    frame.theme = options.theme ? *options.theme : themeFromImGui();
    frame.chunkAxis = figure.x.integerTicks;
    relayout(figure, link, frame);
    const ImGuiIO& io = ImGui::GetIO();
    frame.mouse = {io.MousePos.x, io.MousePos.y};
    frame.inPlot = frame.hovered && m_layout.plot.contains(frame.mouse);
    frame.limits = link.limits();
    frame.minSpan = minimumSpan(figure, frame.limits);

    // Input before drawing, so a zoom or a toggle shows in the frame it happened. Every handler
    // runs (no short-circuit): each also tracks its button's press.
    bool changed = handleLeftButton(figure, link, frame, events);
    changed |= handleWheel(link, frame);
    changed |= handleRightButton(link, frame);
    if (changed) {
        events.viewChanged = true;
        relayout(figure, link, frame);
    }
    updateHover(link, frame, events);
    if (frame.hovered && frame.mouse.y < m_layout.plot.y0 && ImGui::IsMouseDoubleClicked(0) &&
        !legendEntryAt(frame.mouse))
        events.headerDoubleClicked = true;
    drawFigure(canvas, figure, frame.visible, m_view, m_layout, frame.theme, frame.style,
               m_scratch);
    drawOverlays(figure, link, options, frame);
    showTooltip(figure, frame);
    showContextMenu(figure, link, events);

    ImGui::PopID();
    return events;
}

void PlotWidget::relayout(const Figure& figure, LinkedXAxis& link, Frame& frame) {
    frame.visible = visibility(figure);
    m_view = resolveView(figure, frame.visible, link);
    m_layout = layoutFigure(frame.canvas, figure, m_view, frame.outer, frame.style);
    frame.t = m_layout.transform(m_view);
}

std::optional<std::size_t> PlotWidget::legendEntryAt(Point p) const {
    for (const auto& entry : m_layout.legend)
        if (entry.box.contains(p)) return entry.series;
    return std::nullopt;
}

// A press that stays put is a click (legend toggle or selection); one that moves pans (x
// through the linked axis, y too when it is not following the data).
bool PlotWidget::handleLeftButton(const Figure& figure, LinkedXAxis& link, const Frame& frame,
                                  PlotEvents& events) {
    const ImGuiIO& io = ImGui::GetIO();
    const Rect& plot = m_layout.plot;
    bool changed = false;
    if (frame.hovered && ImGui::IsMouseClicked(0)) {
        m_leftPress = io.MousePos;
        m_leftOnLegend = legendEntryAt(frame.mouse).has_value();
    }
    if (m_leftPress && ImGui::IsMouseDown(0) && !m_leftOnLegend &&
        distance(io.MousePos, *m_leftPress) >= kClickSlop &&
        (io.MouseDelta.x != 0 || io.MouseDelta.y != 0)) {
        const double dx = io.MouseDelta.x * m_view.x.span() / std::max(1.0, plot.width());
        link.setRange(clampRange(panBy(m_view.x, -dx), frame.limits, frame.minSpan));
        if (!m_yAuto) {
            const double dy = io.MouseDelta.y * m_view.y.span() / std::max(1.0, plot.height());
            m_y = panBy(m_view.y, dy);
        }
        changed = true;
    }
    if (m_leftPress && ImGui::IsMouseReleased(0)) {
        const ImVec2 press = *m_leftPress;
        m_leftPress.reset();
        if (distance(io.MousePos, press) < kClickSlop)
            changed |= clickAt(figure, frame, {press.x, press.y}, events);
    }
    if (frame.inPlot && ImGui::IsMouseDoubleClicked(0)) {
        link.fit();
        m_yAuto = true;
        changed = true;
    }
    return changed;
}

// A click at `at` (where the press was): on the legend entry it was pressed on, toggles that
// series (returns true: what is visible changed); inside the axes, selects the chunk under it
// on a chunk axis (kept inside the data), else the nearest point's id.
bool PlotWidget::clickAt(const Figure& figure, const Frame& frame, Point at, PlotEvents& events) {
    if (const auto entry = legendEntryAt(at); entry && m_leftOnLegend) {
        const auto& name = figure.series[*entry].name;
        setHidden(name, !isHidden(name));
        events.toggledSeries = *entry;
        return true;
    }
    if (!m_layout.plot.contains(at)) return false;
    if (frame.chunkAxis) {
        double unit = std::round(frame.t.pixelToX(at.x));
        if (frame.limits.valid())
            unit = std::clamp(unit, std::ceil(frame.limits.min), std::floor(frame.limits.max));
        events.clickedUnit = static_cast<std::int64_t>(unit);
        return false;
    }
    const auto hit = nearestSeriesPoint(seriesViews(figure), frame.visible, frame.t, at,
                                        kPickRadius * frame.scale);
    if (hit) events.clickedUnit = figure.series[hit->series].idAt(hit->index);
    return false;
}

// Wheel zooms x about the cursor (shift: y).
bool PlotWidget::handleWheel(LinkedXAxis& link, const Frame& frame) {
    const ImGuiIO& io = ImGui::GetIO();
    if (!frame.inPlot || io.MouseWheel == 0) return false;
    const double factor = std::pow(kWheelStep, io.MouseWheel);
    if (io.KeyShift) {
        m_y = zoomAbout(m_view.y, frame.t.pixelToY(frame.mouse.y), factor);
        m_yAuto = false;
    } else {
        const Range zoomed = zoomAbout(m_view.x, frame.t.pixelToX(frame.mouse.x), factor);
        link.setRange(clampRange(zoomed, frame.limits, frame.minSpan));
    }
    return true;
}

// Right button: drag a box to zoom to it; click for the context menu.
bool PlotWidget::handleRightButton(LinkedXAxis& link, const Frame& frame) {
    const ImGuiIO& io = ImGui::GetIO();
    if (frame.hovered && ImGui::IsMouseClicked(1)) m_rightPress = io.MousePos;
    if (!m_rightPress || !ImGui::IsMouseReleased(1)) return false;
    const ImVec2 a = *m_rightPress, b = io.MousePos;
    m_rightPress.reset();
    const bool wide = std::abs(b.x - a.x) >= kBoxMinimum;
    const bool tall = std::abs(b.y - a.y) >= kBoxMinimum;
    if (!wide && !tall) {
        ImGui::OpenPopup("##context");
        return false;
    }
    // A box started outside the axes (on the legend, say) zooms nothing.
    if (!m_layout.plot.contains({a.x, a.y})) return false;
    const Transform& t = frame.t;
    if (wide) {
        const double x0 = t.pixelToX(std::min(a.x, b.x)), x1 = t.pixelToX(std::max(a.x, b.x));
        link.setRange(clampRange({x0, x1}, frame.limits, frame.minSpan));
    }
    if (tall) {
        m_y = {t.pixelToY(std::max(a.y, b.y)), t.pixelToY(std::min(a.y, b.y))};
        m_yAuto = false;
    }
    return true;
}

// Chunk axes share the crosshair through the link, snapped to whole chunks.
void PlotWidget::updateHover(LinkedXAxis& link, const Frame& frame, PlotEvents& events) {
    m_hoverX.reset();
    if (frame.inPlot && !m_rightPress) {
        double x = frame.t.pixelToX(frame.mouse.x);
        if (frame.chunkAxis) {
            x = std::round(x);
            link.m_hoverNext = x;
            events.hoveredUnit = static_cast<std::int64_t>(x);
        }
        m_hoverX = x;
    }
    link.m_gutterNext = std::max(link.m_gutterNext, m_layout.leftGutter);
    link.m_rightGutterNext = std::max(link.m_rightGutterNext, m_layout.rightGutter);
}

// Selection, crosshair and the box-zoom rectangle, clipped to the axes.
void PlotWidget::drawOverlays(const Figure& figure, const LinkedXAxis& link,
                              const PlotOptions& options, const Frame& frame) const {
    frame.canvas.pushClip(m_layout.plot);
    if (options.selectedUnit) drawSelection(figure, *options.selectedUnit, frame);
    drawCrosshair(figure, link, frame);
    drawBoxZoom(frame);
    frame.canvas.popClip();
}

// A chunk axis marks the selected chunk with a line; other axes ring the points of that unit.
void PlotWidget::drawSelection(const Figure& figure, std::int64_t unit, const Frame& frame) const {
    const Rect& area = m_layout.plot;
    const Rgba colour = resolveColour(Colour::foreground(0.55f), frame.theme);
    if (frame.chunkAxis) {
        const double x = frame.t.xToPixel(static_cast<double>(unit));
        const Point line[2] = {{x, area.y0}, {x, area.y1}};
        frame.canvas.polyline(line, 2, colour, 2.0 * frame.scale);
        return;
    }
    for (const auto& [series, k] : pointsOfUnit(figure, frame.visible, unit)) {
        const auto& s = figure.series[series];
        frame.canvas.strokeCircle(frame.t.toPixel(s.xAt(k), s.y[k]), 6.0 * frame.scale, colour,
                                  1.5 * frame.scale);
    }
}

// Chunk axes: the shared crosshair in every linked plot, hovered or not, with a dot on each
// series' value there. Other axes: a cross at the mouse while it is in the axes.
void PlotWidget::drawCrosshair(const Figure& figure, const LinkedXAxis& link,
                               const Frame& frame) const {
    const Rect& area = m_layout.plot;
    if (frame.chunkAxis) {
        const auto x = link.hoverX();
        if (!x) return;
        const double px = frame.t.xToPixel(*x);
        const Point line[2] = {{px, area.y0}, {px, area.y1}};
        frame.canvas.polyline(line, 2, resolveColour(Colour::muted(0.8f), frame.theme),
                              1.0 * frame.scale);
        const auto hits =
            seriesPointsAtX(seriesViews(figure), chunkValued(figure, frame.visible), *x);
        for (const auto& hit : hits) {
            const auto& s = figure.series[hit.series];
            frame.canvas.fillCircle(frame.t.toPixel(s.xAt(hit.index), s.y[hit.index]),
                                    3.0 * frame.scale, resolveColour(s.colour, frame.theme));
        }
    } else if (m_hoverX && frame.inPlot) {
        const Rgba colour = resolveColour(Colour::muted(0.6f), frame.theme);
        const Point v[2] = {{frame.mouse.x, area.y0}, {frame.mouse.x, area.y1}};
        const Point h[2] = {{area.x0, frame.mouse.y}, {area.x1, frame.mouse.y}};
        frame.canvas.polyline(v, 2, colour, 1.0 * frame.scale);
        frame.canvas.polyline(h, 2, colour, 1.0 * frame.scale);
    }
}

void PlotWidget::drawBoxZoom(const Frame& frame) const {
    if (!m_rightPress || !ImGui::IsMouseDown(1) ||
        !m_layout.plot.contains({m_rightPress->x, m_rightPress->y}))
        return;
    const Point& mouse = frame.mouse;
    const Rect box{
        std::min<double>(m_rightPress->x, mouse.x), std::min<double>(m_rightPress->y, mouse.y),
        std::max<double>(m_rightPress->x, mouse.x), std::max<double>(m_rightPress->y, mouse.y)};
    frame.canvas.fillRect(box, resolveColour(Colour::series(kSkyBlue, 0.18f), frame.theme));
    const Point edge[5] = {
        {box.x0, box.y0}, {box.x1, box.y0}, {box.x1, box.y1}, {box.x0, box.y1}, {box.x0, box.y0}};
    frame.canvas.polyline(edge, 5, resolveColour(Colour::series(kSkyBlue), frame.theme),
                          1.0 * frame.scale);
}

// Every visible series' value at the hovered chunk, or the nearest point; not while a button
// is down (a drag is under way) or the menu is open.
void PlotWidget::showTooltip(const Figure& figure, const Frame& frame) const {
    const bool buttonsUp = !ImGui::IsMouseDown(0) && !ImGui::IsMouseDown(1);
    if (!frame.inPlot || !buttonsUp || !m_hoverX || ImGui::IsPopupOpen("##context")) return;
    const Tooltip tooltip = frame.chunkAxis
                                ? chunkTooltip(figure, frame.visible, *m_hoverX, frame.theme)
                                : pointTooltip(figure, frame.visible, frame.t, frame.mouse,
                                               kPickRadius * frame.scale, frame.theme);
    if (!tooltip.heading.empty()) showTooltipWindow(tooltip);
}

void PlotWidget::showContextMenu(const Figure& figure, LinkedXAxis& link, PlotEvents& events) {
    if (!ImGui::BeginPopup("##context")) return;
    if (ImGui::MenuItem("Fit", "double-click")) {
        link.fit();
        m_yAuto = true;
        events.viewChanged = true;
    }
    if (ImGui::MenuItem("Fit y to visible x", nullptr, m_yAuto)) {
        if (m_yAuto) m_y = m_view.y;  // keep what is shown, then let the user move it
        m_yAuto = !m_yAuto;
        events.viewChanged = true;
    }
    if (ImGui::BeginMenu("Series")) {
        for (std::size_t i = 0; i < figure.series.size(); ++i) {
            const auto& s = figure.series[i];
            if (s.name.empty()) continue;
            if (ImGui::MenuItem(s.name.c_str(), nullptr, !isHidden(s.name))) {
                setHidden(s.name, !isHidden(s.name));
                events.toggledSeries = i;
            }
        }
        ImGui::EndMenu();
    }
    ImGui::Separator();
    if (ImGui::MenuItem("Export PNG...")) events.exportRequested = ImageFormat::Png;
    if (ImGui::MenuItem("Export SVG...")) events.exportRequested = ImageFormat::Svg;
    if (ImGui::MenuItem("Export PDF...")) events.exportRequested = ImageFormat::Pdf;
    ImGui::Separator();
    if (ImGui::MenuItem("Copy CSV")) {
        ImGui::SetClipboardText(figureCsv(snapshot(figure)).c_str());
        events.csvCopied = true;
    }
    ImGui::EndPopup();
}

Theme themeFromImGui() {
    const ImGuiStyle& style = ImGui::GetStyle();
    const ImVec4 bg = style.Colors[ImGuiCol_WindowBg];
    const float luminance = 0.2126f * bg.x + 0.7152f * bg.y + 0.0722f * bg.z;
    Theme theme = luminance < 0.5f ? darkTheme() : lightTheme();
    const auto opaque = [](ImVec4 v) { return Rgba{v.x, v.y, v.z, 1.0f}; };
    theme.background = opaque(bg);
    // The axes a shade apart from the window, towards black on dark and white on light.
    const float k = theme.dark ? 0.75f : 0.0f;
    theme.plotBackground =
        theme.dark ? Rgba{bg.x * k, bg.y * k, bg.z * k, 1.0f} : Rgba{1.0f, 1.0f, 1.0f, 1.0f};
    theme.foreground = opaque(style.Colors[ImGuiCol_Text]);
    theme.muted = opaque(style.Colors[ImGuiCol_TextDisabled]);
    return theme;
}

std::vector<std::pair<std::size_t, std::size_t>> pointsOfUnit(const Figure& figure,
                                                              const std::vector<bool>& visible,
                                                              std::int64_t unit) {
    std::vector<std::pair<std::size_t, std::size_t>> points;
    for (std::size_t i = 0; i < figure.series.size(); ++i) {
        const auto& s = figure.series[i];
        // Without ids a point's "unit" would be its index: the sweep's 5th rate, not chunk 5.
        if ((i < visible.size() && !visible[i]) || s.ids.empty()) continue;
        for (std::size_t k = 0; k < s.size() && k < s.ids.size(); ++k)
            if (s.ids[k] == unit && std::isfinite(s.xAt(k)) && std::isfinite(s.y[k]))
                points.emplace_back(i, k);
    }
    return points;
}

const ImWchar* studioGlyphRanges() {
    // Latin-1; Greek (ρ τ α Δ); general punctuation (– — ‘ ’ “ ” • … ‰ ′); arrows; the
    // mathematical operators (− ≈ ≠ ≤ ≥ ∞ √ ±...). Pairs of first and last, zero-terminated.
    static const ImWchar kRanges[] = {0x0020, 0x00FF, 0x0370, 0x03FF, 0x2010, 0x205E,
                                      0x2190, 0x21FF, 0x2200, 0x22FF, 0};
    return kRanges;
}

bool inGlyphRanges(const ImWchar* ranges, unsigned codepoint) {
    for (; ranges[0] != 0; ranges += 2)
        if (codepoint >= ranges[0] && codepoint <= ranges[1]) return true;
    return false;
}

ImFont* addPlotFont(ImFontAtlas& atlas, float sizePx) {
    const std::string path = figureFontPath();
    if (path.empty()) return nullptr;
    return atlas.AddFontFromFileTTF(path.c_str(), sizePx, nullptr, studioGlyphRanges());
}

ImFont* addUiFont(ImFontAtlas& atlas, float sizePx) {
    ImFontConfig base;
    base.SizePixels = sizePx;
    ImFont* font = atlas.AddFontDefault(&base);
    const std::string path = figureFontPath();
    if (path.empty()) return font;
    // ProggyClean has Latin-1 only: the rest of the ranges come from the figure font, merged
    // into the same ImFont (Latin-1 stays ProggyClean's: the first font's glyphs win).
    ImFontConfig merge;
    merge.MergeMode = true;
    merge.PixelSnapH = true;
    atlas.AddFontFromFileTTF(path.c_str(), sizePx, &merge, studioGlyphRanges());
    return font;
}

}  // namespace ponder::viz
