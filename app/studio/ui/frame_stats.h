// Frame times of the UI thread while a run is live, against the 60 fps budget (16.7 ms) the
// studio promises (issue 7): p50, p95 and max over the frames recorded.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

namespace ponder::studio {

struct FrameSummary {
    std::size_t frames = 0;
    double p50 = 0, p95 = 0, max = 0;  // milliseconds
    std::size_t overBudget = 0;        // frames over 1000/60 ms
};

class FrameStats {
public:
    void add(double milliseconds) { m_ms.push_back(milliseconds); }
    void clear() { m_ms.clear(); }
    std::size_t size() const { return m_ms.size(); }

    // Nearest-rank percentiles: a reported value is always a frame that happened.
    FrameSummary summary() const {
        FrameSummary out;
        out.frames = m_ms.size();
        if (m_ms.empty()) return out;
        std::vector<double> sorted = m_ms;
        std::sort(sorted.begin(), sorted.end());
        const auto rank = [&](double p) {
            const auto k = std::size_t(std::ceil(p * double(sorted.size())));
            return sorted[std::min(sorted.size(), std::max<std::size_t>(k, 1)) - 1];
        };
        out.p50 = rank(0.50);
        out.p95 = rank(0.95);
        out.max = sorted.back();
        out.overBudget = std::size_t(sorted.end() -
                                     std::upper_bound(sorted.begin(), sorted.end(), 1000.0 / 60.0));
        return out;
    }

    std::string text() const {
        const auto s = summary();
        char line[160];
        std::snprintf(line, sizeof line,
                      "frame time during runs: %zu frames, p50 %.1f ms, p95 %.1f ms, max %.1f ms, "
                      "%zu over 16.7 ms",
                      s.frames, s.p50, s.p95, s.max, s.overBudget);
        return line;
    }

private:
    std::vector<double> m_ms;
};

}  // namespace ponder::studio
