// ImGui plot widget drawing a Figure with ImDrawList: x-linked stacked plots with a shared
// crosshair, hover tooltips, click-to-select, legend toggles, wheel/box zoom, pan, fit and a
// context menu (fit, export, copy CSV). Interaction state lives here; the figure stays plain.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <imgui.h>

#include "viz/figure.h"
#include "viz/figure_export.h"
#include "viz/figure_render.h"

namespace ponder::viz {

// One x range, crosshair and gutters shared by stacked plots (chunk axes): zooming or
// panning one moves all, hovering one shows the crosshair in all, and their axes line up.
// Until the user zooms or pans, the range follows the union of the plots' data, so a live run
// streaming in stays in view.
class LinkedXAxis {
public:
    // The range the plots show (what they showed last frame while following the data).
    Range range() const;
    // Fixes the range (clamped to the data when drawn) and stops following the data.
    void setRange(const Range& range);
    // Back to following the data, as after a double-click.
    void fit();
    bool followsData() const { return m_follow; }
    // Crosshair position in plot units, when some linked plot is hovered.
    std::optional<double> hoverX() const;
    // Union of the linked plots' data extents.
    Range limits() const;

private:
    friend class PlotWidget;
    void beginFrame(int frame);

    Range m_range{kNaN, kNaN};
    bool m_follow = true;
    int m_frame = -1;
    Range m_limits{kNaN, kNaN}, m_limitsNext = kEmptyRange;
    std::optional<double> m_hover, m_hoverNext;
    double m_gutter = 0, m_gutterNext = 0;            // left: the widest y labels
    double m_rightGutter = 0, m_rightGutterNext = 0;  // right: the widest line labels
};

struct PlotOptions {
    ImVec2 size{0, 0};           // 0: the available width / 260 px (times dpiScale) high
    float dpiScale = 1.0f;       // line widths, markers and padding (the monitor's content scale)
    std::optional<Theme> theme;  // default: follows ImGui's style colours (dark or light)
    std::optional<std::int64_t> selectedUnit;  // drawn as the selection
};

struct PlotEvents {
    std::optional<std::int64_t> clickedUnit;  // chunk (or clicked point's id) to jump to
    std::optional<std::int64_t> hoveredUnit;  // chunk under the mouse (chunk axes)
    std::optional<ImageFormat> exportRequested;
    bool csvCopied = false;
    std::optional<std::size_t> toggledSeries;
    bool viewChanged = false;
    // A double-click on the figure's header (title, axis title, legend row) above the plot:
    // the studio enlarges the plot (or brings it back).
    bool headerDoubleClicked = false;
};

class PlotWidget {
public:
    explicit PlotWidget(std::string id);

    // Draws at the cursor with an own x axis, or one shared with other plots.
    PlotEvents draw(const Figure& figure, const PlotOptions& options = {});
    PlotEvents draw(const Figure& figure, LinkedXAxis& xAxis, const PlotOptions& options = {});

    // Series hidden from the legend or menu, by name (kept while the figure is rebuilt).
    bool isHidden(const std::string& seriesName) const { return m_hidden.count(seriesName) > 0; }
    void setHidden(const std::string& seriesName, bool hidden);

    bool yFollowsData() const { return m_yAuto; }
    // What the last draw showed and where (for callers and tests).
    const View& view() const { return m_view; }
    const FigureLayout& layout() const { return m_layout; }
    std::optional<double> hoverX() const { return m_hoverX; }

    // The figure as shown: hidden series marked, axes fixed to the current view, so an export
    // from the context menu matches the screen.
    Figure snapshot(const Figure& figure) const;

private:
    struct Frame;  // what one draw() call's phases share; defined in plot_widget.cpp

    std::vector<bool> visibility(const Figure& figure) const;
    View resolveView(const Figure& figure, const std::vector<bool>& visible, LinkedXAxis& link);
    std::optional<std::size_t> legendEntryAt(Point p) const;

    // draw()'s phases, in the order it runs them. The input handlers return whether the view
    // or the visible series changed.
    void relayout(const Figure& figure, LinkedXAxis& link, Frame& frame);
    bool handleLeftButton(const Figure& figure, LinkedXAxis& link, const Frame& frame,
                          PlotEvents& events);
    bool clickAt(const Figure& figure, const Frame& frame, Point at, PlotEvents& events);
    bool handleWheel(LinkedXAxis& link, const Frame& frame);
    bool handleRightButton(LinkedXAxis& link, const Frame& frame);
    void updateHover(LinkedXAxis& link, const Frame& frame, PlotEvents& events);
    void drawOverlays(const Figure& figure, const LinkedXAxis& link, const PlotOptions& options,
                      const Frame& frame) const;
    void drawSelection(const Figure& figure, std::int64_t unit, const Frame& frame) const;
    void drawCrosshair(const Figure& figure, const LinkedXAxis& link, const Frame& frame) const;
    void drawBoxZoom(const Frame& frame) const;
    void showTooltip(const Figure& figure, const Frame& frame) const;
    void showContextMenu(const Figure& figure, LinkedXAxis& link, PlotEvents& events);

    std::string m_id;
    LinkedXAxis m_ownAxis;
    std::set<std::string> m_hidden;
    bool m_yAuto = true;
    Range m_y{kNaN, kNaN};
    View m_view;
    FigureLayout m_layout;
    RenderScratch m_scratch;
    std::optional<double> m_hoverX;
    std::optional<ImVec2> m_leftPress, m_rightPress;
    bool m_leftOnLegend = false;
};

// The theme matching ImGui's current style colours (dark when the window background is).
Theme themeFromImGui();

// The points a selection of `unit` rings on a figure that is not on a chunk axis: those of the
// visible series that carry unit ids (a scatter of units), as (series, index). A series without
// ids (a sweep over rates) has no units, so nothing on it is selected.
std::vector<std::pair<std::size_t, std::size_t>> pointsOfUnit(const Figure& figure,
                                                              const std::vector<bool>& visible,
                                                              std::int64_t unit);

// The code points the studio's fonts hold (Latin-1, Greek, general punctuation, arrows,
// mathematical operators: ρ τ α Δ − — … ≥ ...), ImGui's zero-terminated pairs. Both
// addPlotFont and addUiFont load these; tests check every string the studio draws against them.
const ImWchar* studioGlyphRanges();
bool inGlyphRanges(const ImWchar* ranges, unsigned codepoint);

// Adds the figure font (figureFontPath()) at `sizePx` with studioGlyphRanges() to the atlas;
// nullptr when no font file was found.
ImFont* addPlotFont(ImFontAtlas& atlas, float sizePx);

// Adds ImGui's default font (ProggyClean, which has Latin-1 only) with the figure font's glyphs
// for the rest of studioGlyphRanges() merged in, so UI text shows ρ, −, — instead of '?'. Just
// the default font when no figure font is found.
ImFont* addUiFont(ImFontAtlas& atlas, float sizePx = 13.0f);

}  // namespace ponder::viz
