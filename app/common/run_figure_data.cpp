// Fills viz::RunFigureData from core's analysis of a stored run and writes the run figures.
#include "app/common/run_figure_data.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <sstream>

#include "app/cli/cli_args.h"
#include "core/gating/metrics.h"
#include "core/gating/slices.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"

namespace ponder::app {

std::vector<core::SweepPoint> runFigureSweep(const core::RunAnalysis& wholeRun,
                                             const core::AnalysisSettings& settings,
                                             const std::vector<std::size_t>& slice) {
    std::vector<double> rates;
    for (int i = 0; i <= 20; ++i)
        rates.push_back(i / 20.0);
    return core::sweepRates(wholeRun.table, settings, rates, slice);
}

namespace {

// The extra policies' decision strips (and where a policy that spends its own budget landed).
std::vector<viz::PolicyTrack> policyTracks(const core::RunAnalysis& analysis) {
    std::vector<viz::PolicyTrack> tracks;
    for (std::size_t i = core::kFirstExtraPolicy; i < analysis.policies.size(); ++i) {
        const auto& extra = analysis.policies[i];
        viz::PolicyTrack track;
        track.name = extra.method;
        track.decisions = extra.run.decisions;
        if (extra.ownRate) {
            track.ownRate = extra.summary.rate;
            track.ownRateLoss = extra.summary.loss;
        }
        tracks.push_back(std::move(track));
    }
    return tracks;
}

// The loss-vs-rate rows, and each extra policy's curve beside them.
void addSweep(const std::vector<core::SweepPoint>& points, viz::RunFigureData& data) {
    for (const auto& point : points) {
        data.sweep.push_back({point.targetRate, point.oursLoss, point.randomLoss,
                              point.randomExpectedLoss, point.oracleLoss,
                              point.adaptationOracleLoss});
        for (std::size_t k = 0; k < data.policies.size(); ++k)
            data.policies[k].sweepLoss.push_back(k < point.extraLosses.size() ? point.extraLosses[k]
                                                                              : core::kNaN);
    }
}

}  // namespace

viz::RunFigureData runFigureData(const core::RunAnalysis& wholeRun,
                                 const core::AnalysisSettings& settings, const std::string& title,
                                 const std::vector<std::size_t>& slice,
                                 const std::vector<core::SweepPoint>* sweep,
                                 core::AdvantagePart scatterPart) {
    // A slice shows the whole run's decisions on its units, each at its own chunk number.
    std::optional<core::RunAnalysis> sliced;
    if (!slice.empty()) sliced = core::sliceAnalysis(wholeRun, slice);
    const core::RunAnalysis& analysis = sliced ? *sliced : wholeRun;
    const auto& table = analysis.table;
    const auto& ours = analysis.find("Ours");
    const auto& oracle = analysis.find("Oracle");
    viz::RunFigureData data;
    data.title = title;
    data.policyName = ours.method;
    // What the policy itself compared with its threshold: a learned gate's q, system A's score,
    // the multi-signal z-sum; the signal for single-signal rules.
    const bool ownScore = core::hasOwnScore(ours.spec.name);
    data.signalName =
        ownScore ? core::scoreName(ours.spec.name) : core::signalName(ours.spec.signal);
    data.signal = ownScore ? ours.run.score : table.signal(ours.spec.signal);
    data.threshold = ours.run.threshold;
    data.advantage = table.advantage;
    data.decisions = ours.run.decisions;
    data.oracleComputed = !table.partial();
    if (data.oracleComputed) data.oracleDecisions = oracle.run.decisions;
    if (core::forcesCalibrationUnits(ours.spec))
        data.calibrationUnits = std::min<std::size_t>(
            static_cast<std::size_t>(std::max(0, ours.spec.calibrationUnits)), table.size());
    if (table.hasSplit()) {
        data.advStatic = table.advStatic;
        data.advInner = table.advInner;
        if (analysis.adaptationOracle)
            data.adaptationOracleDecisions = analysis.adaptationOracle->run.decisions;
    } else {
        scatterPart = core::AdvantagePart::Whole;
    }
    if (scatterPart != core::AdvantagePart::Whole) {
        data.scatterTarget = core::advantagePartName(scatterPart);
        data.scatterValues = table.advantageOf(scatterPart);
    }
    // The published correlation (signal > 0) for the whole advantage, every unit for a part
    // (as Table 3's columns).
    const auto correlation = ownScore
                                 ? core::correlationWithAdvantage(data.signal, table, scatterPart)
                             : scatterPart == core::AdvantagePart::Whole
                                 ? core::signalCorrelation(ours.spec.signal, table)
                                 : core::signalCorrelationAll(ours.spec.signal, table, scatterPart);
    data.pearson = correlation.pearson;
    data.spearman = correlation.spearman;
    data.correlationUnits = correlation.n;
    data.policies = policyTracks(analysis);
    for (auto unit : slice)
        data.unitX.push_back(double(unit));
    addSweep(sweep ? *sweep : runFigureSweep(wholeRun, settings, slice), data);
    data.currentRate = settings.ours.rate;
    if (analysis.oursOwnRate) {
        // ρ does not set its budget: a point where it landed instead of the ρ marker.
        data.currentRate = core::kNaN;
        data.ownRate = ours.summary.rate;
        data.ownRateLoss = ours.summary.loss;
    }
    data.lossSkip = analysis.find("SKIP").summary.loss;
    const auto& update = analysis.find("update");
    data.lossUpdate = update.summary.loss;
    data.updateName = update.method;
    return data;
}

FigureFormats parseFigureFormats(const std::string& list) {
    FigureFormats formats;
    std::stringstream stream(list);
    std::string name;
    while (std::getline(stream, name, ',')) {
        name.erase(std::remove_if(name.begin(), name.end(),
                                  [](unsigned char c) { return std::isspace(c); }),
                   name.end());
        if (name.empty()) continue;
        std::string lower = name;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (lower == "csv") {
            formats.csv = true;
            continue;
        }
        const auto format = viz::parseImageFormat(name);
        if (!format)
            throw UsageError("--figures: unknown format '" + name +
                             "' (use png, svg, pdf and/or csv)");
        if (std::find(formats.images.begin(), formats.images.end(), *format) ==
            formats.images.end())
            formats.images.push_back(*format);
    }
    if (formats.empty()) throw UsageError("--figures needs png, svg, pdf and/or csv");
    return formats;
}

std::vector<std::filesystem::path> writeRunFigures(const core::AnalysedRun& run,
                                                   const core::AnalysisSettings& settings,
                                                   const FigureFormats& formats,
                                                   const std::filesystem::path& dir, double dpi) {
    return writeFigures(runFigureData(run.analysis, settings, run.name), formats, dir, dpi);
}

std::vector<std::filesystem::path> writeFigures(const viz::RunFigureData& data,
                                                const FigureFormats& formats,
                                                const std::filesystem::path& dir, double dpi) {
    viz::ExportOptions options;
    options.dpi = dpi;
    std::vector<std::filesystem::path> written;
    const auto render = [&](const std::string& stem, const std::vector<const viz::Figure*>& panels,
                            viz::ImageFormat format, double heightScale = 1.0) {
        const auto path = dir / (stem + "." + viz::extensionOf(format));
        std::string bytes;
        try {
            auto scaled = options;
            scaled.heightPt *= heightScale;
            bytes = viz::renderFigureGrid(panels, 2, format, scaled);
        } catch (const viz::FigureExportError& error) {
            throw core::OutputError(error.what() + std::string(" (") + path.string() + ")",
                                    "try another --figures format or report the run");
        }
        core::writeFileAtomic(path, bytes);
        written.push_back(path);
    };
    const auto figures = viz::runFigures(data);
    std::vector<const viz::Figure*> all;
    for (const auto& figure : figures) {
        if (figure.inOverview) all.push_back(&figure.figure);
        if (formats.csv) {
            const auto path = dir / (figure.stem + ".csv");
            core::writeFileAtomic(path, viz::figureCsv(figure.figure));
            written.push_back(path);
        }
        for (const auto format : formats.images)
            render(figure.stem, {&figure.figure}, format, figure.heightScale);
    }
    // The four main panels as one 2 x 2 overview (the README's figure).
    for (const auto format : formats.images)
        render("fig_overview", all, format);
    return written;
}

}  // namespace ponder::app
