// viz figure export: PNG, SVG and PDF are valid files whose pixels and paths show the data
// (read back with Cairo's PNG loader), fonts are embedded, and errors name the path.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <cairo.h>
#include <zlib.h>

#include "viz/figure_export.h"

using namespace ponder::viz;
namespace fs = std::filesystem;

namespace {

struct Image {
    int width = 0, height = 0;
    std::vector<std::uint32_t> pixels;  // ARGB32, premultiplied (opaque here)

    int r(int x, int y) const { return (pixels[y * width + x] >> 16) & 0xff; }
    int g(int x, int y) const { return (pixels[y * width + x] >> 8) & 0xff; }
    int b(int x, int y) const { return pixels[y * width + x] & 0xff; }
    bool near(int x, int y, Rgb c, int tolerance = 40) const {
        return std::abs(r(x, y) - c.r) + std::abs(g(x, y) - c.g) + std::abs(b(x, y) - c.b) <=
               tolerance;
    }
};

struct PngReader {
    const std::string* bytes;
    std::size_t offset = 0;
};

cairo_status_t readPng(void* closure, unsigned char* data, unsigned int length) {
    auto* reader = static_cast<PngReader*>(closure);
    if (reader->offset + length > reader->bytes->size()) return CAIRO_STATUS_READ_ERROR;
    std::copy_n(reader->bytes->data() + reader->offset, length, data);
    reader->offset += length;
    return CAIRO_STATUS_SUCCESS;
}

// The PDF with each compressed stream's inflated bytes appended: from Cairo 1.17.6 on, the
// document information (the title) sits in a compressed object stream.
std::string pdfWithStreamsInflated(const std::string& pdf) {
    std::string text = pdf;
    for (std::size_t at = pdf.find("stream\n"); at != std::string::npos;
         at = pdf.find("stream\n", at)) {
        const std::size_t begin = at + 7, end = pdf.find("endstream", begin);
        if (end == std::string::npos) break;
        z_stream z{};
        if (inflateInit(&z) == Z_OK) {
            z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(pdf.data() + begin));
            z.avail_in = static_cast<uInt>(end - begin);
            char out[16384];
            int status = Z_OK;
            while (status == Z_OK) {  // an uncompressed stream stops at the first call
                z.next_out = reinterpret_cast<Bytef*>(out);
                z.avail_out = sizeof out;
                status = inflate(&z, Z_NO_FLUSH);
                text.append(out, sizeof out - z.avail_out);
            }
            inflateEnd(&z);
        }
        at = end + 9;
    }
    return text;
}

Image decodePng(const std::string& bytes) {
    PngReader reader{&bytes};
    cairo_surface_t* surface = cairo_image_surface_create_from_png_stream(readPng, &reader);
    Image image;
    if (cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS) {
        cairo_surface_flush(surface);
        image.width = cairo_image_surface_get_width(surface);
        image.height = cairo_image_surface_get_height(surface);
        const int stride = cairo_image_surface_get_stride(surface);
        const unsigned char* data = cairo_image_surface_get_data(surface);
        image.pixels.resize(static_cast<std::size_t>(image.width) * image.height);
        for (int y = 0; y < image.height; ++y)
            std::copy_n(reinterpret_cast<const std::uint32_t*>(data + y * stride), image.width,
                        image.pixels.data() + static_cast<std::size_t>(y) * image.width);
    }
    cairo_surface_destroy(surface);
    return image;
}

// A blue line at y = 0.5 over x in [0, 10] with a gap at x = 4..6, and one vermillion bar at
// x = 9 up to y = 0.9; fixed ranges, so where the ink lands is known.
Figure knownFigure() {
    Figure f;
    f.title = "Known figure \u03c1";
    f.x.label = "chunk";
    f.x.range = Range{0, 10};
    f.y.label = "value";
    f.y.range = Range{0, 1};
    Series line;
    line.name = "line";
    line.lineWidth = 3.0f;
    for (int i = 0; i <= 100; ++i) {
        const double x = i / 10.0;
        line.x.push_back(x);
        line.y.push_back(x > 4.0 && x < 6.0 ? std::nan("") : 0.5);
    }
    Series bar;
    bar.name = "bar";
    bar.kind = SeriesKind::Bars;
    bar.colour = Colour::series(kVermillion);
    bar.x = {9.0};
    bar.y = {0.9};
    bar.barWidth = 0.6;
    f.series = {line, bar};
    return f;
}

fs::path scratchDir(const std::string& name) {
    const fs::path dir = fs::temp_directory_path() / ("ponder_test_viz_" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

}  // namespace

TEST_CASE("viz: export: PNG has the chosen size and ink where the data is", "[viz][export]") {
    ExportOptions options;
    options.widthPt = 360;
    options.heightPt = 216;
    options.dpi = 144;  // 2 pixels per point
    const std::string bytes = renderFigure(knownFigure(), ImageFormat::Png, options);
    REQUIRE(bytes.size() > 8);
    CHECK(bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
    const Image image = decodePng(bytes);
    REQUIRE(image.width == 720);
    REQUIRE(image.height == 432);
    CHECK(image.near(2, 2, {255, 255, 255}, 0));  // white background

    // Blue ink: one thin horizontal band spanning most of the width, broken in the middle.
    const Rgb blue = seriesColour(kBlue);
    int minX = image.width, maxX = -1, minY = image.height, maxY = -1;
    std::vector<int> columns(image.width, 0);
    for (int y = 0; y < image.height; ++y)
        for (int x = 0; x < image.width; ++x)
            if (image.near(x, y, blue)) {
                minX = std::min(minX, x);
                maxX = std::max(maxX, x);
                minY = std::min(minY, y);
                maxY = std::max(maxY, y);
                ++columns[x];
            }
    REQUIRE(maxX > 0);
    // The band is the line (3 pt = 6 px), ignoring the legend swatch above the plot.
    int bandTop = image.height, bandBottom = -1;
    for (int y = image.height / 3; y < image.height; ++y)
        for (int x = image.width / 4; x < image.width * 3 / 4; ++x)
            if (image.near(x, y, blue)) {
                bandTop = std::min(bandTop, y);
                bandBottom = std::max(bandBottom, y);
            }
    CHECK(bandBottom - bandTop <= 8);
    CHECK(bandTop > image.height / 3);
    CHECK(bandBottom < image.height * 3 / 4);
    // The line spans from near the left axis to near the right edge...
    CHECK(maxX - minX > image.width * 0.7);
    // ...with no blue in the NaN gap (x in (4, 6) is the middle fifth of the plot).
    int gapInk = 0, flankInk = 0;
    for (int y = bandTop; y <= bandBottom; ++y) {
        const int centre = (minX + maxX) / 2;
        gapInk += image.near(centre, y, blue) ? 1 : 0;
        flankInk += image.near(minX + (maxX - minX) / 8, y, blue) ? 1 : 0;
    }
    CHECK(gapInk == 0);
    CHECK(flankInk > 0);

    // Vermillion bar: right of the line's middle, from the bottom of the plot upwards.
    const Rgb vermillion = seriesColour(kVermillion);
    int barMinX = image.width, barMinY = image.height, barMaxY = -1;
    for (int y = image.height / 6; y < image.height; ++y)
        for (int x = image.width / 2; x < image.width; ++x)
            if (image.near(x, y, vermillion, 10)) {
                barMinX = std::min(barMinX, x);
                barMinY = std::min(barMinY, y);
                barMaxY = std::max(barMaxY, y);
            }
    REQUIRE(barMaxY > 0);
    CHECK(barMinX > minX + (maxX - minX) * 0.8);
    CHECK(barMinY < bandTop);     // 0.9 is above the line at 0.5
    CHECK(barMaxY > bandBottom);  // and it stands on y = 0, below the line
}

TEST_CASE("viz: export: the dark theme paints a dark background", "[viz][export]") {
    ExportOptions options;
    options.widthPt = 200;
    options.heightPt = 120;
    options.dpi = 72;
    options.theme = darkTheme();
    const Image image = decodePng(renderFigure(knownFigure(), ImageFormat::Png, options));
    REQUIRE(image.width == 200);
    CHECK(image.r(1, 1) < 60);
    CHECK(image.g(1, 1) < 60);
}

TEST_CASE("viz: export: SVG is an SVG document with paths and glyphs", "[viz][export]") {
    const std::string svg = renderFigure(knownFigure(), ImageFormat::Svg);
    CHECK(svg.rfind("<?xml", 0) == 0);
    CHECK(svg.find("<svg") != std::string::npos);
    // 504 points wide: Cairo 1.16 writes the unit, 1.18 user units (points) without it.
    CHECK((svg.find("width=\"504pt\"") != std::string::npos ||
           svg.find("width=\"504\"") != std::string::npos));
    CHECK(svg.find("<path") != std::string::npos);
    // Cairo embeds text as glyph outlines (id="glyph...") that <use> places.
    CHECK(svg.find("id=\"glyph") != std::string::npos);
    CHECK(svg.find("<use") != std::string::npos);
    CHECK(svg.find("</svg>") != std::string::npos);
}

TEST_CASE("viz: export: PDF is a PDF with the TrueType font embedded", "[viz][export]") {
    const std::string pdf = renderFigure(knownFigure(), ImageFormat::Pdf);
    CHECK(pdf.rfind("%PDF-", 0) == 0);
    CHECK(pdf.find("%%EOF") != std::string::npos);
    const bool embedded = pdf.find("/FontFile2") != std::string::npos ||
                          pdf.find("/FontFile3") != std::string::npos ||
                          pdf.find("/FontFile ") != std::string::npos;
    CHECK(embedded);
    const std::string font = figureFontPath();
    INFO("figure font: " << (font.empty() ? "(fontconfig sans-serif)" : font));
    if (font.find("DejaVuSans") != std::string::npos)
        CHECK(pdf.find("DejaVuSans") != std::string::npos);
    // The figure title as metadata.
    CHECK(pdfWithStreamsInflated(pdf).find("/Title") != std::string::npos);
}

TEST_CASE("viz: export: files are written whole and a bad folder is an error naming it",
          "[viz][export]") {
    const fs::path dir = scratchDir("files");
    for (auto format : {ImageFormat::Png, ImageFormat::Svg, ImageFormat::Pdf}) {
        const fs::path path = dir / ("fig." + extensionOf(format));
        exportFigure(knownFigure(), format, path);
        CHECK(fs::file_size(path) > 500);
    }
    CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}) == 3);  // no temps
    try {
        exportFigure(knownFigure(), ImageFormat::Png, dir / "missing" / "fig.png");
        FAIL("expected FigureExportError");
    } catch (const FigureExportError& error) {
        CHECK(std::string(error.what()).find("missing/fig.png") != std::string::npos);
    }
    ExportOptions bad;
    bad.widthPt = 0;
    CHECK_THROWS_AS(renderFigure(knownFigure(), ImageFormat::Svg, bad), FigureExportError);
    fs::remove_all(dir);
}

TEST_CASE("viz: export: a grid puts each figure in its own panel", "[viz][export]") {
    ExportOptions options;
    options.widthPt = 200;
    options.heightPt = 100;
    options.dpi = 72;
    Figure left = knownFigure(), right = knownFigure();
    left.series.pop_back();                    // the left panel has no bar
    right.series.erase(right.series.begin());  // the right one only the bar
    const Image image = decodePng(renderFigureGrid({&left, &right}, 2, ImageFormat::Png, options));
    REQUIRE(image.width == 400);
    REQUIRE(image.height == 100);
    int blueLeft = 0, blueRight = 0, barLeft = 0, barRight = 0;
    for (int y = 0; y < image.height; ++y)
        for (int x = 0; x < image.width; ++x) {
            if (image.near(x, y, seriesColour(kBlue))) (x < 200 ? blueLeft : blueRight)++;
            if (image.near(x, y, seriesColour(kVermillion), 10)) (x < 200 ? barLeft : barRight)++;
        }
    CHECK(blueLeft > 50);
    CHECK(blueRight == 0);
    CHECK(barLeft == 0);
    CHECK(barRight > 20);
    CHECK_THROWS_AS(renderFigureGrid({}, 2, ImageFormat::Png, options), FigureExportError);
}

TEST_CASE("viz: export: format names parse case-insensitively", "[viz][export]") {
    CHECK(parseImageFormat("PNG") == ImageFormat::Png);
    CHECK(parseImageFormat("svg") == ImageFormat::Svg);
    CHECK(parseImageFormat("Pdf") == ImageFormat::Pdf);
    CHECK_FALSE(parseImageFormat("jpeg"));
    CHECK(extensionOf(ImageFormat::Pdf) == "pdf");
}

TEST_CASE("viz: export: the view option exports what the screen shows", "[viz][export]") {
    // Zoomed to x in [0, 3]: the bar at x = 9 is out of view, so no vermillion ink.
    ExportOptions options;
    options.widthPt = 300;
    options.heightPt = 200;
    options.dpi = 72;
    Figure f = knownFigure();
    f.legend = LegendPosition::None;
    options.view = View{{0, 3}, {0, 1}};
    const Image image = decodePng(renderFigure(f, ImageFormat::Png, options));
    int vermillion = 0;
    for (int y = 0; y < image.height; ++y)
        for (int x = 0; x < image.width; ++x)
            vermillion += image.near(x, y, seriesColour(kVermillion), 10) ? 1 : 0;
    CHECK(vermillion == 0);
}
