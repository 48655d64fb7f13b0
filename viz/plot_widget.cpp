// The ImGui plot widget: an ImDrawList Canvas for the shared figure renderer, plus interaction
// (pan, zoom, box zoom, fit, hover, select, legend toggles, context menu) and linked x axes.
#include "viz/plot_widget.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

namespace ponder::viz {

namespace {

constexpr float kClickSlop = 3.0f;   // pixels a press may move and still be a click
constexpr float kBoxMinimum = 4.0f;  // pixels a box zoom must span on an axis to apply to it
constexpr double kWheelStep = 0.8;   // range factor per wheel notch

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
    }
    m_limitsNext = kEmptyRange;
    m_hoverNext.reset();
    m_gutterNext = 0;
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

PlotEvents PlotWidget::draw(const Figure& figure, const PlotOptions& options) {
    return draw(figure, m_ownAxis, options);
}

PlotEvents PlotWidget::draw(const Figure& figure, LinkedXAxis& link, const PlotOptions& options) {
    PlotEvents events;
    ImGuiIO& io = ImGui::GetIO();
    link.beginFrame(ImGui::GetFrameCount());
    ImGui::PushID(m_id.c_str());

    const float scale = options.dpiScale > 0 ? options.dpiScale : 1.0f;
    ImVec2 size = options.size;
    if (size.x <= 0) size.x = std::max(ImGui::GetContentRegionAvail().x, 50.0f);
    if (size.y <= 0) size.y = 260.0f * scale;
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton("##plot", size,
                           ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
    const bool hovered = ImGui::IsItemHovered();

    ImDrawList* list = ImGui::GetWindowDrawList();
    ImGuiCanvas canvas(list, ImGui::GetFont());
    RenderStyle style;
    style.scale = scale;
    style.fontSize = ImGui::GetFontSize() / scale;  // text at the UI font's own size: crisp
    style.minLeftGutter = std::max(link.m_gutter, link.m_gutterNext);
    const Theme theme = options.theme ? *options.theme : themeFromImGui();
    const Rect outer{origin.x, origin.y, origin.x + size.x, origin.y + size.y};
    const bool chunkAxis = figure.x.integerTicks;

    const auto visible = visibility(figure);
    m_view = resolveView(figure, visible, link);
    m_layout = layoutFigure(canvas, figure, m_view, outer, style);
    Transform t = m_layout.transform(m_view);
    const Rect& plot = m_layout.plot;
    const Point mouse{io.MousePos.x, io.MousePos.y};
    const bool inPlot = hovered && plot.contains(mouse);
    const Range limits = link.limits();
    const double minSpan = minimumSpan(figure, limits);
    const auto legendAt = [&](Point p) -> std::optional<std::size_t> {
        for (const auto& entry : m_layout.legend)
            if (entry.box.contains(p)) return entry.series;
        return std::nullopt;
    };
    bool changed = false;

    // Left button: a press that stays put is a click (legend toggle or chunk selection); one
    // that moves pans (x through the linked axis, y too when it is not following the data).
    if (hovered && ImGui::IsMouseClicked(0)) {
        m_leftPress = io.MousePos;
        m_leftOnLegend = legendAt(mouse).has_value();
    }
    if (m_leftPress && ImGui::IsMouseDown(0) && !m_leftOnLegend &&
        distance(io.MousePos, *m_leftPress) >= kClickSlop &&
        (io.MouseDelta.x != 0 || io.MouseDelta.y != 0)) {
        const double dx = io.MouseDelta.x * m_view.x.span() / std::max(1.0, plot.width());
        link.setRange(clampRange(panBy(m_view.x, -dx), limits, minSpan));
        if (!m_yAuto) {
            const double dy = io.MouseDelta.y * m_view.y.span() / std::max(1.0, plot.height());
            m_y = panBy(m_view.y, dy);
        }
        changed = true;
    }
    if (m_leftPress && ImGui::IsMouseReleased(0)) {
        const ImVec2 press = *m_leftPress;
        m_leftPress.reset();
        if (distance(io.MousePos, press) < kClickSlop) {
            const Point at{press.x, press.y};
            if (const auto entry = legendAt(at); entry && m_leftOnLegend) {
                const auto& name = figure.series[*entry].name;
                setHidden(name, !isHidden(name));
                events.toggledSeries = *entry;
                changed = true;
            } else if (plot.contains(at)) {
                if (chunkAxis) {
                    double unit = std::round(t.pixelToX(at.x));
                    if (limits.valid())
                        unit = std::clamp(unit, std::ceil(limits.min), std::floor(limits.max));
                    events.clickedUnit = static_cast<std::int64_t>(unit);
                } else {
                    double best = 12.0 * scale;
                    for (std::size_t i = 0; i < figure.series.size(); ++i) {
                        if (!visible[i]) continue;
                        const auto& s = figure.series[i];
                        const auto hit = nearestPoint(s.view(), t, at, best);
                        if (hit < 0) continue;
                        const Point p = t.toPixel(s.xAt(hit), s.y[hit]);
                        best = std::hypot(p.x - at.x, p.y - at.y);
                        events.clickedUnit = s.idAt(static_cast<std::size_t>(hit));
                    }
                }
            }
        }
    }
    if (inPlot && ImGui::IsMouseDoubleClicked(0)) {
        link.fit();
        m_yAuto = true;
        changed = true;
    }

    // Wheel zooms x about the cursor (shift: y).
    if (inPlot && io.MouseWheel != 0) {
        const double factor = std::pow(kWheelStep, io.MouseWheel);
        if (io.KeyShift) {
            m_y = zoomAbout(m_view.y, t.pixelToY(mouse.y), factor);
            m_yAuto = false;
        } else {
            link.setRange(
                clampRange(zoomAbout(m_view.x, t.pixelToX(mouse.x), factor), limits, minSpan));
        }
        changed = true;
    }

    // Right button: drag a box to zoom to it; click for the context menu.
    if (hovered && ImGui::IsMouseClicked(1)) m_rightPress = io.MousePos;
    if (m_rightPress && ImGui::IsMouseReleased(1)) {
        const ImVec2 a = *m_rightPress, b = io.MousePos;
        m_rightPress.reset();
        const bool wide = std::abs(b.x - a.x) >= kBoxMinimum;
        const bool tall = std::abs(b.y - a.y) >= kBoxMinimum;
        if ((wide || tall) && plot.contains({a.x, a.y})) {
            if (wide) {
                const double x0 = t.pixelToX(std::min(a.x, b.x)),
                             x1 = t.pixelToX(std::max(a.x, b.x));
                link.setRange(clampRange({x0, x1}, limits, minSpan));
            }
            if (tall) {
                m_y = {t.pixelToY(std::max(a.y, b.y)), t.pixelToY(std::min(a.y, b.y))};
                m_yAuto = false;
            }
            changed = true;
        } else if (!wide && !tall) {
            ImGui::OpenPopup("##context");
        }
    }

    if (changed) {
        events.viewChanged = true;
        const auto nowVisible = visibility(figure);
        m_view = resolveView(figure, nowVisible, link);
        m_layout = layoutFigure(canvas, figure, m_view, outer, style);
        t = m_layout.transform(m_view);
    }
    const auto shown = visibility(figure);

    // Hover: chunk axes share the crosshair through the link, snapped to whole chunks.
    const bool buttonsUp = !ImGui::IsMouseDown(0) && !ImGui::IsMouseDown(1);
    m_hoverX.reset();
    if (inPlot && !m_rightPress) {
        double x = t.pixelToX(mouse.x);
        if (chunkAxis) {
            x = std::round(x);
            link.m_hoverNext = x;
            events.hoveredUnit = static_cast<std::int64_t>(x);
        }
        m_hoverX = x;
    }
    link.m_gutterNext = std::max(link.m_gutterNext, m_layout.leftGutter);

    drawFigure(canvas, figure, shown, m_view, m_layout, theme, style, m_scratch);

    // Overlays: selection, crosshair with the hovered values, box-zoom rectangle.
    canvas.pushClip(m_layout.plot);
    const Rect& area = m_layout.plot;
    if (options.selectedUnit) {
        const Rgba colour = resolveColour(Colour::foreground(0.55f), theme);
        if (chunkAxis) {
            const double x = t.xToPixel(static_cast<double>(*options.selectedUnit));
            const Point line[2] = {{x, area.y0}, {x, area.y1}};
            canvas.polyline(line, 2, colour, 2.0 * scale);
        } else {
            for (std::size_t i = 0; i < figure.series.size(); ++i) {
                if (!shown[i]) continue;
                const auto& s = figure.series[i];
                for (std::size_t k = 0; k < s.size(); ++k)
                    if (s.idAt(k) == *options.selectedUnit && std::isfinite(s.y[k]))
                        canvas.strokeCircle(t.toPixel(s.xAt(k), s.y[k]), 6.0 * scale, colour,
                                            1.5 * scale);
            }
        }
    }
    const auto crosshair = chunkAxis ? link.hoverX() : m_hoverX;
    if (crosshair && chunkAxis) {
        const double x = t.xToPixel(*crosshair);
        const Point line[2] = {{x, area.y0}, {x, area.y1}};
        canvas.polyline(line, 2, resolveColour(Colour::muted(0.8f), theme), 1.0 * scale);
        for (std::size_t i = 0; i < figure.series.size(); ++i) {
            const auto& s = figure.series[i];
            if (!shown[i] || s.kind == SeriesKind::Scatter) continue;
            const auto k = nearestIndexByX(s.view(), *crosshair);
            if (k < 0 || std::abs(s.xAt(k) - *crosshair) > 0.5 || !std::isfinite(s.y[k])) continue;
            canvas.fillCircle(t.toPixel(s.xAt(k), s.y[k]), 3.0 * scale,
                              resolveColour(s.colour, theme));
        }
    } else if (crosshair && inPlot) {
        const Rgba colour = resolveColour(Colour::muted(0.6f), theme);
        const Point v[2] = {{mouse.x, area.y0}, {mouse.x, area.y1}};
        const Point h[2] = {{area.x0, mouse.y}, {area.x1, mouse.y}};
        canvas.polyline(v, 2, colour, 1.0 * scale);
        canvas.polyline(h, 2, colour, 1.0 * scale);
    }
    if (m_rightPress && ImGui::IsMouseDown(1) &&
        area.contains({m_rightPress->x, m_rightPress->y})) {
        const Rect box{
            std::min<double>(m_rightPress->x, mouse.x), std::min<double>(m_rightPress->y, mouse.y),
            std::max<double>(m_rightPress->x, mouse.x), std::max<double>(m_rightPress->y, mouse.y)};
        canvas.fillRect(box, resolveColour(Colour::series(kSkyBlue, 0.18f), theme));
        const Point edge[5] = {{box.x0, box.y0},
                               {box.x1, box.y0},
                               {box.x1, box.y1},
                               {box.x0, box.y1},
                               {box.x0, box.y0}};
        canvas.polyline(edge, 5, resolveColour(Colour::series(kSkyBlue), theme), 1.0 * scale);
    }
    canvas.popClip();

    // Tooltip: every visible series' value at the hovered chunk, or the nearest scatter point.
    if (inPlot && buttonsUp && m_hoverX && !ImGui::IsPopupOpen("##context")) {
        struct Row {
            Rgba colour;
            std::string text;
        };
        std::vector<Row> rows;
        std::string heading;
        if (chunkAxis) {
            heading = figure.x.label.empty() ? "x" : figure.x.label;
            heading += " " + formatCompact(*m_hoverX, 6);
            for (std::size_t i = 0; i < figure.series.size(); ++i) {
                const auto& s = figure.series[i];
                if (!shown[i] || s.kind == SeriesKind::Scatter) continue;
                const auto k = nearestIndexByX(s.view(), *m_hoverX);
                if (k < 0 || std::abs(s.xAt(k) - *m_hoverX) > 0.5 || !std::isfinite(s.y[k]))
                    continue;
                rows.push_back(
                    {resolveColour(s.colour, theme), s.name + ": " + formatCompact(s.y[k], 4)});
            }
        } else {
            double best = 12.0 * scale;
            for (std::size_t i = 0; i < figure.series.size(); ++i) {
                if (!shown[i]) continue;
                const auto& s = figure.series[i];
                const auto hit = nearestPoint(s.view(), t, mouse, best);
                if (hit < 0) continue;
                const Point p = t.toPixel(s.xAt(hit), s.y[hit]);
                best = std::hypot(p.x - mouse.x, p.y - mouse.y);
                const auto k = static_cast<std::size_t>(hit);
                heading = s.name + (s.ids.empty() ? "" : ", unit " + std::to_string(s.idAt(k)));
                rows = {{resolveColour(s.colour, theme),
                         (figure.x.label.empty() ? "x" : figure.x.label) + ": " +
                             formatCompact(s.xAt(k), 4)},
                        {resolveColour(s.colour, theme),
                         (figure.y.label.empty() ? "y" : figure.y.label) + ": " +
                             formatCompact(s.y[k], 4)}};
            }
        }
        if (!heading.empty()) {
            ImGui::BeginTooltip();
            ImGui::TextUnformatted(heading.c_str());
            for (const auto& row : rows) {
                const float h = ImGui::GetTextLineHeight() * 0.7f;
                ImGui::ColorButton("##swatch",
                                   ImVec4(row.colour.r, row.colour.g, row.colour.b, 1.0f),
                                   ImGuiColorEditFlags_NoTooltip | ImGuiColorEditFlags_NoPicker |
                                       ImGuiColorEditFlags_NoDragDrop,
                                   ImVec2(h, h));
                ImGui::SameLine();
                ImGui::TextUnformatted(row.text.c_str());
            }
            ImGui::EndTooltip();
        }
    }

    if (ImGui::BeginPopup("##context")) {
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

    ImGui::PopID();
    return events;
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

ImFont* addPlotFont(ImFontAtlas& atlas, float sizePx) {
    const std::string path = figureFontPath();
    if (path.empty()) return nullptr;
    // Latin-1, Greek (ρ, τ), dashes and quotes, minus, arrows, ≈ ≠ ≤ ≥: what figures print.
    static const ImWchar kRanges[] = {0x0020, 0x00FF, 0x0370, 0x03FF, 0x2010,
                                      0x2027, 0x2190, 0x21FF, 0x2212, 0x2212,
                                      0x2248, 0x2248, 0x2260, 0x2265, 0};
    return atlas.AddFontFromFileTTF(path.c_str(), sizePx, nullptr, kRanges);
}

}  // namespace ponder::viz
