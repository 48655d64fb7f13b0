// Cairo implementation of Canvas and the PNG/SVG/PDF writers; text through FreeType so the
// font file is known and subsets of it are embedded in PDF (glyph outlines in SVG).
#include "viz/figure_export.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <system_error>

#include <unistd.h>

#include <cairo-ft.h>
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <ft2build.h>
#include FT_FREETYPE_H

namespace ponder::viz {

namespace fs = std::filesystem;

namespace {

// One FreeType face for the process; Cairo's font face keeps a reference and locks the face
// around its own use, so it is shared by every export.
struct FigureFont {
    std::string path;
    cairo_font_face_t* face = nullptr;  // null: the toy API's "sans-serif"
};

const FigureFont& figureFont() {
    static const FigureFont font = [] {
        FigureFont out;
        std::vector<std::string> candidates;
        if (const char* env = std::getenv("PONDER_FIGURE_FONT"); env && *env)
            candidates.push_back(env);
        for (const char* path :
             {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
              "/usr/share/fonts/TTF/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans.ttf",
              "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"})
            candidates.push_back(path);
        static FT_Library library = nullptr;
        if (FT_Init_FreeType(&library) != 0) return out;
        for (const auto& path : candidates) {
            std::error_code error;
            if (!fs::is_regular_file(path, error)) continue;
            FT_Face face = nullptr;
            if (FT_New_Face(library, path.c_str(), 0, &face) != 0) continue;
            out.face = cairo_ft_font_face_create_for_ft_face(face, 0);
            if (cairo_font_face_status(out.face) != CAIRO_STATUS_SUCCESS) {
                cairo_font_face_destroy(out.face);
                out.face = nullptr;
                FT_Done_Face(face);
                continue;
            }
            out.path = path;
            break;
        }
        return out;
    }();
    return font;
}

class CairoCanvas final : public Canvas {
public:
    CairoCanvas(cairo_t* cr, bool raster) : m_cr(cr) {
        const auto& font = figureFont();
        if (font.face)
            cairo_set_font_face(cr, font.face);
        else
            cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                                   CAIRO_FONT_WEIGHT_NORMAL);
        // Unhinted metrics: text measures the same in PNG, SVG and PDF, so layouts match.
        cairo_font_options_t* options = cairo_font_options_create();
        cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
        cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
        cairo_font_options_set_antialias(options,
                                         raster ? CAIRO_ANTIALIAS_GRAY : CAIRO_ANTIALIAS_DEFAULT);
        cairo_set_font_options(cr, options);
        cairo_font_options_destroy(options);
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    }

    void polyline(const Point* points, std::size_t count, Rgba colour, double width) override {
        if (count < 2) return;
        cairo_new_path(m_cr);
        cairo_move_to(m_cr, points[0].x, points[0].y);
        for (std::size_t i = 1; i < count; ++i)
            cairo_line_to(m_cr, points[i].x, points[i].y);
        setColour(colour);
        cairo_set_line_width(m_cr, width);
        cairo_stroke(m_cr);
    }

    void fillRect(const Rect& r, Rgba colour) override {
        cairo_new_path(m_cr);
        cairo_rectangle(m_cr, r.x0, r.y0, r.width(), r.height());
        setColour(colour);
        cairo_fill(m_cr);
    }

    void fillPolygon(const Point* points, std::size_t count, Rgba colour) override {
        if (count < 3) return;
        cairo_new_path(m_cr);
        cairo_move_to(m_cr, points[0].x, points[0].y);
        for (std::size_t i = 1; i < count; ++i)
            cairo_line_to(m_cr, points[i].x, points[i].y);
        cairo_close_path(m_cr);
        setColour(colour);
        cairo_fill(m_cr);
    }

    void fillCircle(Point centre, double radius, Rgba colour) override {
        cairo_new_path(m_cr);
        cairo_arc(m_cr, centre.x, centre.y, radius, 0, 2 * M_PI);
        setColour(colour);
        cairo_fill(m_cr);
    }

    void strokeCircle(Point centre, double radius, Rgba colour, double width) override {
        cairo_new_path(m_cr);
        cairo_arc(m_cr, centre.x, centre.y, radius, 0, 2 * M_PI);
        setColour(colour);
        cairo_set_line_width(m_cr, width);
        cairo_stroke(m_cr);
    }

    Point textSize(const std::string& text, double size) override {
        cairo_set_font_size(m_cr, size);
        cairo_text_extents_t extents;
        cairo_text_extents(m_cr, text.c_str(), &extents);
        cairo_font_extents_t font;
        cairo_font_extents(m_cr, &font);
        return {extents.x_advance, font.ascent + font.descent};
    }

    void text(Point topLeft, const std::string& text, double size, Rgba colour) override {
        if (text.empty()) return;
        cairo_set_font_size(m_cr, size);
        cairo_font_extents_t font;
        cairo_font_extents(m_cr, &font);
        cairo_new_path(m_cr);
        cairo_move_to(m_cr, topLeft.x, topLeft.y + font.ascent);
        setColour(colour);
        cairo_show_text(m_cr, text.c_str());
    }

    void pushClip(const Rect& r) override {
        cairo_save(m_cr);
        cairo_new_path(m_cr);
        cairo_rectangle(m_cr, r.x0, r.y0, r.width(), r.height());
        cairo_clip(m_cr);
    }

    void popClip() override { cairo_restore(m_cr); }

private:
    void setColour(Rgba c) { cairo_set_source_rgba(m_cr, c.r, c.g, c.b, c.a); }

    cairo_t* m_cr;
};

cairo_status_t appendToString(void* closure, const unsigned char* data, unsigned int length) {
    static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
    return CAIRO_STATUS_SUCCESS;
}

// Panels in rows of `columns`, each widthPt x heightPt; a single figure may use options.view.
void draw(cairo_surface_t* surface, const std::vector<const Figure*>& figures, int columns,
          const ExportOptions& options, double pixelScale, bool raster) {
    cairo_t* cr = cairo_create(surface);
    if (pixelScale != 1.0) cairo_scale(cr, pixelScale, pixelScale);
    {
        CairoCanvas canvas(cr, raster);
        RenderStyle style = options.style;
        style.scale = 1.0;  // the exporter works in points; the PNG's DPI is a Cairo scale
        RenderScratch scratch;
        for (std::size_t i = 0; i < figures.size(); ++i) {
            const Figure& figure = *figures[i];
            const auto visible = visibilityOf(figure);
            const View view = (options.view && figures.size() == 1) ? *options.view
                                                                    : defaultView(figure, visible);
            const double x = static_cast<double>(i % columns) * options.widthPt;
            const double y = static_cast<double>(i / columns) * options.heightPt;
            const Rect outer{x, y, x + options.widthPt, y + options.heightPt};
            const auto layout = layoutFigure(canvas, figure, view, outer, style);
            drawFigure(canvas, figure, visible, view, layout, options.theme, style, scratch);
        }
    }
    const cairo_status_t status = cairo_status(cr);
    cairo_destroy(cr);
    if (status != CAIRO_STATUS_SUCCESS)
        throw FigureExportError(std::string("Cairo could not draw the figure: ") +
                                cairo_status_to_string(status));
}

void finish(cairo_surface_t* surface) {
    cairo_surface_finish(surface);
    const cairo_status_t status = cairo_surface_status(surface);
    cairo_surface_destroy(surface);
    if (status != CAIRO_STATUS_SUCCESS)
        throw FigureExportError(std::string("Cairo could not write the figure: ") +
                                cairo_status_to_string(status));
}

}  // namespace

std::string extensionOf(ImageFormat format) {
    switch (format) {
        case ImageFormat::Png:
            return "png";
        case ImageFormat::Svg:
            return "svg";
        case ImageFormat::Pdf:
            return "pdf";
    }
    return "png";
}

std::optional<ImageFormat> parseImageFormat(std::string_view name) {
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "png") return ImageFormat::Png;
    if (lower == "svg") return ImageFormat::Svg;
    if (lower == "pdf") return ImageFormat::Pdf;
    return std::nullopt;
}

std::string figureFontPath() {
    return figureFont().path;
}

std::string renderFigure(const Figure& figure, ImageFormat format, const ExportOptions& options) {
    return renderFigureGrid({&figure}, 1, format, options);
}

std::string renderFigureGrid(const std::vector<const Figure*>& figures, int columns,
                             ImageFormat format, const ExportOptions& options) {
    if (figures.empty() || std::find(figures.begin(), figures.end(), nullptr) != figures.end())
        throw FigureExportError("no figure to export");
    columns = std::clamp(columns, 1, static_cast<int>(figures.size()));
    const int rows = static_cast<int>((figures.size() + columns - 1) / columns);
    if (!(options.widthPt > 0) || !(options.heightPt > 0) || !(options.dpi > 0) ||
        options.widthPt > 1e5 || options.heightPt > 1e5)
        throw FigureExportError(
            "figure size must be positive (got " + std::to_string(options.widthPt) + " x " +
            std::to_string(options.heightPt) + " pt at " + std::to_string(options.dpi) + " dpi)");
    const double widthPt = options.widthPt * columns, heightPt = options.heightPt * rows;
    std::string bytes;
    switch (format) {
        case ImageFormat::Png: {
            const double scale = options.dpi / 72.0;
            const int w = static_cast<int>(std::ceil(widthPt * scale));
            const int h = static_cast<int>(std::ceil(heightPt * scale));
            if (w > 32767 || h > 32767)
                throw FigureExportError("PNG of " + std::to_string(w) + " x " + std::to_string(h) +
                                        " pixels is too large; lower the DPI or the size");
            cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
            try {
                draw(surface, figures, columns, options, scale, true);
            } catch (...) {
                cairo_surface_destroy(surface);
                throw;
            }
            const auto status = cairo_surface_write_to_png_stream(surface, appendToString, &bytes);
            cairo_surface_destroy(surface);
            if (status != CAIRO_STATUS_SUCCESS)
                throw FigureExportError(std::string("Cairo could not encode the PNG: ") +
                                        cairo_status_to_string(status));
            return bytes;
        }
        case ImageFormat::Svg: {
            cairo_surface_t* surface =
                cairo_svg_surface_create_for_stream(appendToString, &bytes, widthPt, heightPt);
            try {
                draw(surface, figures, columns, options, 1.0, false);
            } catch (...) {
                cairo_surface_destroy(surface);
                throw;
            }
            finish(surface);
            return bytes;
        }
        case ImageFormat::Pdf: {
            cairo_surface_t* surface =
                cairo_pdf_surface_create_for_stream(appendToString, &bytes, widthPt, heightPt);
            if (!figures.front()->title.empty())
                cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE,
                                               figures.front()->title.c_str());
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "PonderTTT Studio");
            try {
                draw(surface, figures, columns, options, 1.0, false);
            } catch (...) {
                cairo_surface_destroy(surface);
                throw;
            }
            finish(surface);
            return bytes;
        }
    }
    return bytes;
}

void exportFigure(const Figure& figure, ImageFormat format, const fs::path& path,
                  const ExportOptions& options) {
    const std::string bytes = renderFigure(figure, format, options);
    fs::path temp = path;
    temp += ".tmp." + std::to_string(::getpid());
    {
        std::ofstream out(temp, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.flush();
        if (!out) {
            std::error_code ignored;
            fs::remove(temp, ignored);
            throw FigureExportError("cannot write the figure '" + path.string() +
                                    "': choose a writable folder");
        }
    }
    std::error_code error;
    fs::rename(temp, path, error);
    if (error) {
        std::error_code ignored;
        fs::remove(temp, ignored);
        throw FigureExportError("cannot write the figure '" + path.string() +
                                "': " + error.message());
    }
}

}  // namespace ponder::viz
