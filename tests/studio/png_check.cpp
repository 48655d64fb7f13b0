// Checks a studio screenshot: expected size, not uniform, and the decision colours (Okabe-Ito
// bluish green and vermillion) present in the plot area (the right half of the window).
#include <cstdio>
#include <cstdlib>
#include <set>

#include <stb_image.h>

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: png_check FILE WIDTH HEIGHT\n");
        return 2;
    }
    int w = 0, h = 0, channels = 0;
    unsigned char* pixels = stbi_load(argv[1], &w, &h, &channels, 3);
    if (!pixels) {
        std::printf("FAIL cannot read %s as PNG\n", argv[1]);
        return 1;
    }
    int failures = 0;
    if (w != std::atoi(argv[2]) || h != std::atoi(argv[3])) {
        std::printf("FAIL size %dx%d, expected %sx%s\n", w, h, argv[2], argv[3]);
        ++failures;
    }
    std::set<unsigned> colours;
    long green = 0, vermillion = 0;
    const auto near = [](const unsigned char* p, int r, int g, int b) {
        return std::abs(p[0] - r) + std::abs(p[1] - g) + std::abs(p[2] - b) < 24;
    };
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const unsigned char* p = pixels + (std::size_t(y) * w + x) * 3;
            colours.insert(unsigned(p[0]) << 16 | unsigned(p[1]) << 8 | p[2]);
            if (x < w / 2) continue;
            green += near(p, 0, 158, 115);
            vermillion += near(p, 213, 94, 0);
        }
    std::printf("%dx%d, %zu distinct colours, plot area: %ld bluish-green and %ld vermillion px\n",
                w, h, colours.size(), green, vermillion);
    if (colours.size() < 50) {
        std::printf("FAIL the image is (nearly) uniform\n");
        ++failures;
    }
    if (green + vermillion < 200) {
        std::printf("FAIL no decision colours in the plot area\n");
        ++failures;
    }
    stbi_image_free(pixels);
    return failures ? 1 : 0;
}
