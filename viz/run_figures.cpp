// Builders of a run's figures. Colours keep one meaning across them: the policy's UPDATEs
// vermillion, the oracle bluish green, the signal blue, the threshold orange, Random black.
#include "viz/run_figures.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ponder::viz {

namespace {

std::string withRun(const std::string& what, const RunFigureData& data) {
    return data.title.empty() ? what : what + " \u2014 " + data.title;
}

// A typographic minus (U+2212), as wide as a digit: a hyphen's short dash in "r = -0.271" is
// easily missed, and the sign is the point of a correlation.
std::string fixed(double value, int decimals) {
    if (!std::isfinite(value)) return "n/a";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
    const std::string text = buffer;
    if (text[0] != '-') return text;
    const bool zero = text.find_first_not_of("-0.") == std::string::npos;  // "-0.000"
    return zero ? text.substr(1) : "\u2212" + text.substr(1);
}

bool at(const std::vector<std::uint8_t>& v, std::size_t i) {
    return i < v.size() && v[i] != 0;
}

Axis chunkAxis() {
    Axis axis;
    axis.label = "chunk";
    axis.integerTicks = true;
    return axis;
}

// The chunk axis of a run's per-unit figures: a folder run's files named for the hover, with a
// thin boundary before each file after the first.
void placeOnChunkAxis(Figure& f, const RunFigureData& data) {
    f.x = chunkAxis();
    f.x.segments = data.fileStarts;
    for (std::size_t i = 1; i < data.fileStarts.size(); ++i)
        f.lines.push_back({true, data.fileStarts[i].first - 0.5, "", Colour::muted(0.5f),
                           LineStyle::Solid, 0.8f});
}

// A row name for the decision strip: the strip's names set the left gutter every x-linked
// chunk plot shares, so a long policy name is cut (the legend keeps it whole).
std::string rowName(const std::string& name) {
    constexpr std::size_t kLongest = 12;  // characters: "recon-ema-i…"
    std::size_t characters = 0, cut = name.size();
    for (std::size_t i = 0; i < name.size(); ++i) {
        if ((static_cast<unsigned char>(name[i]) & 0xC0) == 0x80) continue;  // UTF-8 tail
        if (++characters == kLongest) cut = i;
    }
    return characters <= kLongest ? name : name.substr(0, cut) + "\u2026";
}

// Unit i's place on the chunk axis: its own number in a slice, else i.
double unitX(const RunFigureData& data, std::size_t i) {
    return i < data.unitX.size() ? data.unitX[i] : static_cast<double>(i);
}

// The policies beside Ours take the palette's colours Ours, the Oracle, the signal and the
// threshold leave free, in turn.
Colour besideColour(std::size_t k) {
    static const PaletteIndex kColours[] = {kReddishPurple, kSkyBlue, kYellow, kBlue, kOrange};
    return Colour::series(kColours[k % (sizeof kColours / sizeof kColours[0])]);
}

}  // namespace

Figure signalFigure(const RunFigureData& data) {
    Figure f;
    f.title = withRun("Gating signal, threshold and decisions", data);
    placeOnChunkAxis(f, data);
    f.y.label = data.signalName;
    const std::size_t n = data.signal.size();
    if (data.calibrationUnits > 0)
        f.regions.push_back({-0.5, static_cast<double>(std::min(data.calibrationUnits, n)) - 0.5,
                             "calibration", Colour::muted(0.14f)});

    Series signal;
    signal.name = data.signalName;
    signal.x = data.unitX;
    signal.y = data.signal;
    signal.colour = Colour::series(kBlue);
    signal.lineWidth = 1.4f;
    f.series.push_back(std::move(signal));

    Series threshold;
    threshold.name = "threshold \u03c4";
    threshold.kind = SeriesKind::Step;
    threshold.x = data.unitX;
    threshold.y = data.threshold;
    threshold.y.resize(n, kNaN);
    threshold.colour = Colour::series(kOrange);
    threshold.lineWidth = 1.4f;
    f.series.push_back(std::move(threshold));

    // Decisions sit on the signal: a triangle inside a ring is a unit both chose to update.
    Series oracle;
    oracle.name = "Oracle UPDATE";
    oracle.kind = SeriesKind::Markers;
    oracle.marker = MarkerShape::Ring;
    oracle.markerSize = 8.0f;
    oracle.colour = Colour::series(kBluishGreen);
    Series ours;
    ours.name = data.policyName + " UPDATE";
    ours.kind = SeriesKind::Markers;
    ours.marker = MarkerShape::TriangleUp;
    ours.markerSize = 5.0f;
    ours.colour = Colour::series(kVermillion);
    for (std::size_t i = 0; i < n; ++i) {
        if (at(data.oracleDecisions, i)) {
            oracle.x.push_back(unitX(data, i));
            oracle.y.push_back(data.signal[i]);
        }
        if (at(data.decisions, i)) {
            ours.x.push_back(unitX(data, i));
            ours.y.push_back(data.signal[i]);
        }
    }
    if (data.oracleComputed) f.series.push_back(std::move(oracle));
    f.series.push_back(std::move(ours));
    if (!data.compareSignal.empty()) {
        Series other;
        other.name = data.signalName + " \u2014 " + data.compareName;
        other.x = data.unitX;
        other.y = data.compareSignal;
        other.colour = Colour::series(kSkyBlue, 0.75f);
        other.lineStyle = LineStyle::Dashed;
        other.lineWidth = 1.2f;
        f.series.push_back(std::move(other));
        Series threshold;
        threshold.name = "\u03c4 \u2014 " + data.compareName;
        threshold.kind = SeriesKind::Step;
        threshold.x = data.unitX;
        threshold.y = data.compareThreshold;
        threshold.y.resize(data.compareSignal.size(), kNaN);
        threshold.colour = Colour::series(kOrange, 0.55f);
        threshold.lineStyle = LineStyle::Dashed;
        threshold.lineWidth = 1.2f;
        f.series.push_back(std::move(threshold));
    }
    return f;
}

Figure advantageFigure(const RunFigureData& data) {
    Figure f;
    const std::size_t n = data.advantage.size();
    std::size_t agree = 0;
    Series same, differ;
    same.name = "agrees with Oracle";
    same.kind = SeriesKind::Bars;
    same.colour = Colour::series(kBluishGreen);
    differ.name = "disagrees";
    differ.kind = SeriesKind::Bars;
    differ.colour = Colour::series(kVermillion);
    same.x = differ.x = data.unitX;
    double cutoff = kNaN;  // the smallest advantage the oracle still updates
    for (std::size_t i = 0; i < n; ++i) {
        const bool agrees = at(data.decisions, i) == at(data.oracleDecisions, i);
        agree += agrees ? 1 : 0;
        same.y.push_back(agrees ? data.advantage[i] : kNaN);
        differ.y.push_back(agrees ? kNaN : data.advantage[i]);
        if (at(data.oracleDecisions, i) && std::isfinite(data.advantage[i]))
            cutoff = std::isnan(cutoff) ? data.advantage[i] : std::min(cutoff, data.advantage[i]);
    }
    const std::string agreement =
        n > 0 ? fixed(100.0 * static_cast<double>(agree) / static_cast<double>(n), 0) + "%" : "n/a";
    if (data.oracleComputed) {
        f.title = withRun(
            "Oracle advantage by chunk (" + data.policyName + " agrees on " + agreement + ")",
            data);
    } else {
        // Bars only where the gate updated: every computed unit "agrees" with itself.
        same.name = data.policyName + " UPDATE";
        same.colour = Colour::series(kVermillion);
        differ.inLegend = false;
        f.title = withRun(
            "Advantage where " + data.policyName + " updated (gated fast path: no Oracle)", data);
    }
    placeOnChunkAxis(f, data);
    f.y.label = "advantage = loss SKIP \u2212 loss UPDATE";
    f.y.unit = "nats";
    f.y.includeZero = true;
    if (data.advStatic.size() == n && data.advInner.size() == n && n > 0) {
        // The split (algorithm.md §4.1): each bar stacked from its static part and its inner
        // loop, positive parts upward from 0 and negative ones downward, so a part of the
        // other sign than the static part starts at 0 instead of on top of it.
        Series staticPart, innerPart;
        staticPart.name = "static part (trained weights)";
        innerPart.name = "inner loop (learning from the chunk)";
        staticPart.kind = innerPart.kind = SeriesKind::Bars;
        staticPart.colour = Colour::series(kSkyBlue);
        innerPart.colour = Colour::series(kOrange);
        staticPart.x = innerPart.x = data.unitX;
        for (std::size_t i = 0; i < n; ++i) {
            const double a = data.advStatic[i], b = data.advInner[i];
            staticPart.y.push_back(a);
            const double base = (a >= 0) == (b >= 0) ? a : 0.0;
            innerPart.barBases.push_back(base);
            innerPart.y.push_back(base + b);
        }
        f.title = withRun("Advantage by chunk = static part + inner loop (" + data.policyName +
                              " agrees with the Oracle on " + agreement + ")",
                          data);
        f.series.push_back(std::move(staticPart));
        f.series.push_back(std::move(innerPart));
    } else {
        f.series.push_back(std::move(same));
        f.series.push_back(std::move(differ));
    }
    f.lines.push_back({false, 0.0, "", Colour::foreground(0.6f), LineStyle::Solid, 0.8f});
    if (std::isfinite(cutoff))
        f.lines.push_back({false, cutoff, "Oracle cutoff", Colour::series(kBluishGreen),
                           LineStyle::Dashed, 1.0f});
    return f;
}

Figure decisionStripFigure(const RunFigureData& data) {
    Figure f;
    const std::size_t n = std::max(data.decisions.size(), data.oracleDecisions.size());
    const std::size_t beside = data.policies.size();
    // Cells are bars one chunk wide on fixed rows, so the strip zooms and pans with the
    // x-linked chunk plots and a click selects the chunk like anywhere else. Rows from the top:
    // Ours, each policy beside it, the Oracle at 0.
    const auto row = [&](const std::string& name, double centre, Colour colour, bool legend) {
        Series s;
        s.name = name;
        s.kind = SeriesKind::Bars;
        s.colour = colour;
        s.barWidth = 1.0;
        s.barBase = centre - 0.4;
        s.inLegend = legend;
        s.x = data.unitX;
        s.y.assign(n, kNaN);
        return s;
    };
    // One row of cells: `update` coloured, SKIP muted (in the legend once, with Ours' row).
    const auto addRow = [&](const std::string& name, const std::vector<std::uint8_t>& decisions,
                            double centre, Colour colour, bool skipInLegend, bool computed) {
        Series update = row(name + " UPDATE", centre, colour, true);
        Series skip =
            row(skipInLegend ? "SKIP" : name + " SKIP", centre, Colour::muted(0.35f), skipInLegend);
        for (std::size_t i = 0; i < n && computed; ++i)
            (at(decisions, i) ? update : skip).y[i] = centre + 0.4;
        f.series.push_back(std::move(update));
        f.series.push_back(std::move(skip));
    };
    const double top = static_cast<double>(beside + 1);
    addRow(data.policyName, data.decisions, top, Colour::series(kVermillion), true, true);
    f.y.categories.push_back({top, rowName(data.policyName)});
    for (std::size_t k = 0; k < beside; ++k) {
        const double centre = top - 1.0 - static_cast<double>(k);
        addRow(data.policies[k].name, data.policies[k].decisions, centre, besideColour(k), false,
               true);
        f.y.categories.push_back({centre, rowName(data.policies[k].name)});
    }
    addRow("Oracle", data.oracleDecisions, 0.0, Colour::series(kBluishGreen), false,
           data.oracleComputed);
    f.y.categories.push_back({0.0, data.oracleComputed ? "Oracle" : "Oracle: n/a"});
    const bool adaptation = !data.adaptationOracleDecisions.empty();
    if (adaptation) {  // ranked by adv_inner: what learning from the chunk alone would pick
        addRow("Adaptation Oracle", data.adaptationOracleDecisions, -1.0, Colour::series(kBlue),
               false, true);
        f.y.categories.push_back({-1.0, "Adaptation Oracle"});
    }
    std::sort(f.y.categories.begin(), f.y.categories.end());
    std::size_t agree = 0;
    for (std::size_t i = 0; i < n; ++i)
        agree += at(data.decisions, i) == at(data.oracleDecisions, i) ? 1 : 0;
    const std::string agreement =
        n > 0 ? fixed(100.0 * static_cast<double>(agree) / static_cast<double>(n), 0) + "%" : "n/a";
    f.title =
        data.oracleComputed
            ? withRun("Decisions: " + data.policyName + " vs Oracle (agree on " + agreement + ")",
                      data)
            : withRun("Decisions: " + data.policyName + " (gated fast path: no Oracle)", data);
    placeOnChunkAxis(f, data);
    f.y.range = Range{adaptation ? -1.55 : -0.55, top + 0.55};
    return f;
}

Figure scatterFigure(const RunFigureData& data) {
    Figure f;
    const bool part = !data.scatterValues.empty();
    const auto& target = part ? data.scatterValues : data.advantage;
    f.title =
        withRun("Signal vs " + data.scatterTarget + ": Pearson r = " + fixed(data.pearson, 3) +
                    ", Spearman \u03c1 = " + fixed(data.spearman, 3) +
                    " (n = " + std::to_string(data.correlationUnits) + ")",
                data);
    f.x.label = data.signalName;
    f.y.label = data.scatterTarget;
    f.y.unit = "nats";
    Series skip, update;
    skip.name = data.policyName + " SKIP";
    skip.kind = SeriesKind::Scatter;
    skip.marker = MarkerShape::Circle;
    skip.markerSize = 4.5f;
    skip.colour = Colour::series(kBlue, 0.8f);
    update.name = data.policyName + " UPDATE";
    update.kind = SeriesKind::Scatter;
    update.marker = MarkerShape::TriangleUp;
    update.markerSize = 5.5f;
    update.colour = Colour::series(kVermillion, 0.9f);
    const std::size_t n = std::min(data.signal.size(), target.size());
    for (std::size_t i = 0; i < n; ++i) {
        Series& s = at(data.decisions, i) ? update : skip;
        s.x.push_back(data.signal[i]);
        s.y.push_back(target[i]);
        s.ids.push_back(static_cast<std::int64_t>(unitX(data, i)));
    }
    f.lines.push_back({false, 0.0, "", Colour::foreground(0.6f), LineStyle::Solid, 0.8f});
    f.series.push_back(std::move(skip));
    f.series.push_back(std::move(update));
    return f;
}

Figure sweepFigure(const RunFigureData& data) {
    Figure f;
    f.title = withRun("Loss vs update rate", data);
    f.x.label = "target update rate \u03c1";
    f.y.label = "loss";
    f.y.unit = "nats";
    const auto column = [&](double SweepRow::*field) {
        std::vector<double> out;
        for (const auto& row : data.sweep)
            out.push_back(row.*field);
        return out;
    };
    const auto rates = column(&SweepRow::rate);
    const auto addLine = [&](const std::string& name, std::vector<double> y, Colour colour,
                             MarkerShape marker, LineStyle style) {
        Series s;
        s.name = name;
        s.x = rates;
        s.y = std::move(y);
        s.colour = colour;
        s.marker = marker;
        s.markerSize = 5.0f;
        s.lineStyle = style;
        s.lineWidth = 1.5f;
        if (std::any_of(s.y.begin(), s.y.end(), [](double v) { return std::isfinite(v); }))
            f.series.push_back(std::move(s));
    };
    addLine("Random (expected)", column(&SweepRow::randomExpected), Colour::series(kBlack, 0.7f),
            MarkerShape::None, LineStyle::Dashed);
    {
        Series random;
        random.name = "Random (seeded)";
        random.kind = SeriesKind::Markers;
        random.marker = MarkerShape::Cross;
        random.markerSize = 5.0f;
        random.colour = Colour::series(kBlack, 0.7f);
        random.x = rates;
        random.y = column(&SweepRow::random);
        if (std::any_of(random.y.begin(), random.y.end(),
                        [](double v) { return std::isfinite(v); }))
            f.series.push_back(std::move(random));
    }
    addLine("Oracle", column(&SweepRow::oracle), Colour::series(kBluishGreen), MarkerShape::Circle,
            LineStyle::Solid);
    addLine("Adaptation Oracle", column(&SweepRow::adaptationOracle), Colour::series(kBlue),
            MarkerShape::Square, LineStyle::Dashed);
    addLine(data.policyName, column(&SweepRow::ours), Colour::series(kVermillion),
            MarkerShape::TriangleUp, LineStyle::Solid);
    // A policy ρ does not steer: one point where it landed instead of a curve.
    const auto addOwnRate = [&](const std::string& name, double rate, double loss, Colour colour,
                                MarkerShape marker) {
        if (!std::isfinite(rate) || !std::isfinite(loss)) return;
        Series own;
        own.name = name + " (its own rate)";
        own.kind = SeriesKind::Markers;
        own.marker = marker;
        own.markerSize = 7.0f;
        own.colour = colour;
        own.x = {rate};
        own.y = {loss};
        f.series.push_back(std::move(own));
    };
    addOwnRate(data.policyName, data.ownRate, data.ownRateLoss, Colour::series(kVermillion),
               MarkerShape::TriangleUp);
    for (std::size_t k = 0; k < data.policies.size(); ++k) {
        const auto& policy = data.policies[k];
        auto losses = policy.sweepLoss;
        losses.resize(rates.size(), kNaN);
        addLine(policy.name, std::move(losses), besideColour(k), MarkerShape::Diamond,
                LineStyle::Solid);
        addOwnRate(policy.name, policy.ownRate, policy.ownRateLoss, besideColour(k),
                   MarkerShape::Diamond);
    }
    if (!data.compareSweep.empty()) {
        // The compared run's curves share the rate grid; muted and dashed, no markers.
        const auto other = [&](double SweepRow::*field) {
            std::vector<double> out;
            for (std::size_t i = 0; i < data.sweep.size(); ++i)
                out.push_back(i < data.compareSweep.size() ? data.compareSweep[i].*field : kNaN);
            return out;
        };
        addLine("Oracle \u2014 " + data.compareName, other(&SweepRow::oracle),
                Colour::series(kBluishGreen, 0.5f), MarkerShape::None, LineStyle::Dashed);
        addLine(data.policyName + " \u2014 " + data.compareName, other(&SweepRow::ours),
                Colour::series(kVermillion, 0.55f), MarkerShape::None, LineStyle::Dashed);
    }
    if (std::isfinite(data.lossSkip))
        f.lines.push_back({false, data.lossSkip, "SKIP", Colour::muted(), LineStyle::Dotted, 1.0f});
    if (std::isfinite(data.lossUpdate))
        f.lines.push_back(
            {false, data.lossUpdate, data.updateName, Colour::muted(), LineStyle::Dotted, 1.0f});
    if (std::isfinite(data.currentRate))
        f.lines.push_back({true, data.currentRate, "\u03c1 = " + fixed(data.currentRate, 2),
                           Colour::foreground(0.8f), LineStyle::Dashed, 1.0f});
    return f;
}

std::vector<NamedFigure> runFigures(const RunFigureData& data) {
    return {{"fig_signal", signalFigure(data)},
            {"fig_advantage", advantageFigure(data)},
            // Thin: two rows of cells, and a little more for each policy beside Ours.
            {"fig_decisions", decisionStripFigure(data),
             0.4 + 0.12 * static_cast<double>(data.policies.size() +
                                              (data.adaptationOracleDecisions.empty() ? 0 : 1)),
             false},
            {"fig_scatter", scatterFigure(data)},
            {"fig_sweep", sweepFigure(data)}};
}

}  // namespace ponder::viz
