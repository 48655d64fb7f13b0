// Figure files without a window: PNG, SVG and PDF drawn by Cairo from the figure model through
// the same drawing routine as the screen, with a real TrueType font embedded.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "viz/figure.h"
#include "viz/figure_render.h"
#include "viz/palette.h"

namespace ponder::viz {

enum class ImageFormat { Png, Svg, Pdf };

// "png", "svg", "pdf".
std::string extensionOf(ImageFormat format);
// Case-insensitive "png" | "svg" | "pdf"; nullopt otherwise.
std::optional<ImageFormat> parseImageFormat(std::string_view name);

struct ExportOptions {
    double widthPt = 504;  // figure size in points (1/72 in): 7 x 4 in by default
    double heightPt = 288;
    double dpi = 200;  // PNG pixels per inch; vector formats keep points
    Theme theme = lightTheme();
    RenderStyle style;         // fonts and padding in points; its scale is set by the exporter
    std::optional<View> view;  // empty: the figure's fixed ranges, else fitted to the data
};

class FigureExportError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The file's bytes. Throws FigureExportError when Cairo fails or the size is not positive.
std::string renderFigure(const Figure& figure, ImageFormat format,
                         const ExportOptions& options = {});
// Several figures as panels of one file, `columns` to a row, each options.widthPt x heightPt
// (options.view is ignored: each panel shows its own default view). PDF metadata takes the
// first panel's title.
std::string renderFigureGrid(const std::vector<const Figure*>& figures, int columns,
                             ImageFormat format, const ExportOptions& options = {});
// Renders and writes atomically (temp file, then rename); throws FigureExportError naming the
// path when it cannot write.
void exportFigure(const Figure& figure, ImageFormat format, const std::filesystem::path& path,
                  const ExportOptions& options = {});

// The TrueType file figures are set in: $PONDER_FIGURE_FONT, else DejaVu Sans (Debian's
// fonts-dejavu-core) or Liberation Sans where installed; empty when none was found and text
// falls back to fontconfig's "sans-serif".
std::string figureFontPath();

}  // namespace ponder::viz
