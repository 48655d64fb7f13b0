// Builds the one-chunk figure: two CE lines and their difference as bars on one nats axis.
#include "viz/token_figure.h"

#include <algorithm>

namespace ponder::viz {

Figure tokenLossFigure(const TokenLossData& data) {
    Figure f;
    f.title = data.title.empty() ? "Per-token loss" : data.title;
    f.x.label = "position in chunk";
    f.x.integerTicks = true;
    f.y.label = "next-token CE";
    f.y.unit = "nats";
    f.y.includeZero = true;
    const std::size_t n = std::min(data.skip.size(), data.update.size());

    Series difference;
    difference.name = "SKIP \u2212 UPDATE";
    difference.kind = SeriesKind::Bars;
    difference.colour = Colour::series(kSkyBlue);
    difference.barWidth = 0.8;
    Series skip;
    skip.name = "CE SKIP";
    skip.colour = Colour::muted();
    skip.lineWidth = 1.2f;
    Series update;
    update.name = "CE UPDATE";
    update.colour = Colour::series(kBluishGreen);
    update.lineWidth = 1.2f;
    for (std::size_t i = 0; i < n; ++i) {
        skip.y.push_back(data.skip[i]);
        update.y.push_back(data.update[i]);
        difference.y.push_back(double(data.skip[i]) - double(data.update[i]));
    }
    // Bars first, so the two lines stay on top of them.
    f.series.push_back(std::move(difference));
    f.series.push_back(std::move(skip));
    f.series.push_back(std::move(update));
    f.lines.push_back({false, 0.0, "", Colour::foreground(0.6f), LineStyle::Solid, 0.8f});
    return f;
}

}  // namespace ponder::viz
