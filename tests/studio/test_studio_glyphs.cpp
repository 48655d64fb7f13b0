// Every string the studio draws, checked against the glyphs its fonts load: the run figures'
// titles, labels and legends (viz::runFigures, with a negative r and a compared run) and every
// string literal in the studio's UI and state sources and in viz/. A code point outside
// viz::studioGlyphRanges() would draw as '?' (or, tiny, as a faint dot).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <imgui.h>

#include "viz/figure_export.h"
#include "viz/plot_widget.h"
#include "viz/run_figures.h"

using namespace ponder::viz;
namespace fs = std::filesystem;

namespace {

void appendUtf8(unsigned cp, std::string& out) {
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3F));
    } else {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    }
}

std::vector<unsigned> codePoints(const std::string& s) {
    std::vector<unsigned> out;
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        unsigned cp = n == 1 ? c : c & (0x7F >> n);
        for (std::size_t k = 1; k < n && i + k < s.size(); ++k)
            cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        out.push_back(cp);
        i += n;
    }
    return out;
}

// The string literals of a C++ source, escapes decoded (\n, \", \uXXXX), comments skipped.
std::vector<std::string> stringLiterals(const std::string& src) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < src.size(); ++i) {
        if (src.compare(i, 2, "//") == 0) {
            i = src.find('\n', i);
            if (i == std::string::npos) break;
        } else if (src.compare(i, 2, "/*") == 0) {
            i = src.find("*/", i);
            if (i == std::string::npos) break;
            ++i;
        } else if (src[i] == '\'') {  // a character literal: '"' must not open a string
            i = src.find('\'', i + (src[i + 1] == '\\' ? 3 : 2));
        } else if (src[i] == '"') {
            std::string literal;
            for (++i; i < src.size() && src[i] != '"'; ++i) {
                if (src[i] != '\\') {
                    literal += src[i];
                } else if (src[i + 1] == 'u') {
                    appendUtf8(std::stoul(src.substr(i + 2, 4), nullptr, 16), literal);
                    i += 5;
                } else {
                    literal += src[++i] == 'n' ? '\n' : src[i];
                }
            }
            out.push_back(literal);
        }
    }
    return out;
}

// Every string a figure draws: title, axis titles, series names, line and region labels, rows.
void figureStrings(const Figure& f, std::vector<std::string>& out) {
    out.push_back(f.title);
    out.push_back(f.x.title());
    out.push_back(f.y.title());
    for (const auto& s : f.series)
        out.push_back(s.name);
    for (const auto& l : f.lines)
        out.push_back(l.label);
    for (const auto& r : f.regions)
        out.push_back(r.label);
    for (const auto& c : f.y.categories)
        out.push_back(c.second);
}

RunFigureData sampleRun() {
    RunFigureData d;
    d.title = "_pydecimal.py + 2 more";
    d.pearson = -0.2714;
    d.spearman = -0.25;
    d.correlationUnits = 40;
    d.calibrationUnits = 4;
    d.currentRate = 0.5;
    d.lossSkip = 2.1;
    d.lossUpdate = 1.9;
    for (int i = 0; i < 40; ++i) {
        d.signal.push_back(0.01 * i);
        d.threshold.push_back(0.2);
        d.advantage.push_back(i % 5 - 2.0);
        d.decisions.push_back(i % 2);
        d.oracleDecisions.push_back(i % 3 == 0);
    }
    for (int r = 0; r <= 4; ++r)
        d.sweep.push_back({0.25 * r, 2.0, 2.0, 2.0, 1.9});
    d.compareName = "run 3: decoder.py";
    d.compareSignal = d.signal;
    d.compareThreshold = d.threshold;
    d.compareSweep = d.sweep;
    return d;
}

struct Drawn {
    std::string where, text;
};

std::vector<Drawn> everythingDrawn() {
    std::vector<Drawn> drawn;
    for (const auto& named : runFigures(sampleRun())) {
        std::vector<std::string> strings;
        figureStrings(named.figure, strings);
        for (auto& s : strings)
            drawn.push_back({named.stem, std::move(s)});
    }
    const fs::path root = PONDER_SOURCE_DIR;
    for (const char* dir : {"app/studio/ui", "app/studio/state", "viz"})
        for (const auto& entry : fs::directory_iterator(root / dir)) {
            if (entry.path().extension() != ".cpp") continue;
            std::ifstream in(entry.path());
            std::stringstream text;
            text << in.rdbuf();
            for (auto& s : stringLiterals(text.str()))
                drawn.push_back({entry.path().filename().string(), std::move(s)});
        }
    return drawn;
}

}  // namespace

TEST_CASE("studio: every character the studio draws is in the glyph ranges its fonts load",
          "[studio][glyphs]") {
    const auto drawn = everythingDrawn();
    REQUIRE(drawn.size() > 200);
    std::set<unsigned> beyondAscii;
    for (const auto& d : drawn)
        for (unsigned cp : codePoints(d.text)) {
            if (cp < 0x20 && cp != '\n') continue;  // format strings' control characters
            if (cp == '\n') continue;
            INFO(d.where << ": \"" << d.text << "\" has U+" << std::hex << cp);
            CHECK(inGlyphRanges(studioGlyphRanges(), cp));
            if (cp >= 0x80) beyondAscii.insert(cp);
        }
    // What the figures need beyond ASCII is there to be checked: − — ρ τ (and the source's ρ).
    for (unsigned cp : {0x2212u, 0x2014u, 0x03C1u, 0x03C4u})
        CHECK(beyondAscii.count(cp) == 1);
}

TEST_CASE("studio: the scatter title shows a negative r with a real minus sign",
          "[studio][glyphs]") {
    const auto figures = runFigures(sampleRun());
    const auto& scatter = figures.at(3);
    REQUIRE(scatter.stem == "fig_scatter");
    CHECK(scatter.figure.title.find("Pearson r = \u22120.271") != std::string::npos);
    CHECK(scatter.figure.title.find("\u03c1 = \u22120.250") != std::string::npos);
}

TEST_CASE("studio: the fonts hold a glyph for each of those characters", "[studio][glyphs]") {
    if (figureFontPath().empty()) {
        WARN("no figure font (DejaVu Sans) on this machine: only the default font is checked");
        return;
    }
    ImFontAtlas atlas;
    ImFont* proggyOnly = atlas.AddFontDefault();  // what ImGui's default font alone holds
    ImFont* ui = addUiFont(atlas);
    ImFont* plot = addPlotFont(atlas, 15.0f);
    REQUIRE(plot != nullptr);
    REQUIRE(atlas.Build());
    std::set<unsigned> checked;
    for (const auto& d : everythingDrawn())
        for (unsigned cp : codePoints(d.text)) {
            if (cp < 0x20 || !checked.insert(cp).second) continue;
            INFO(d.where << ": U+" << std::hex << cp);
            CHECK(ui->FindGlyphNoFallback(ImWchar(cp)) != nullptr);
            CHECK(plot->FindGlyphNoFallback(ImWchar(cp)) != nullptr);
        }
    // Why the UI font merges: ProggyClean alone has Latin-1 and none of − — ρ … ≥.
    for (unsigned cp : {0x2212u, 0x2014u, 0x03C1u, 0x2026u, 0x2265u})
        CHECK(proggyOnly->FindGlyphNoFallback(ImWchar(cp)) == nullptr);
}
