// The figures of one run (design.md §10): signal with threshold trajectory and decisions,
// oracle advantage coloured by agreement, the decision strip (policy vs Oracle per chunk),
// signal-vs-advantage scatter, loss-vs-rate sweep.
// Inputs are plain per-unit vectors, so the studio, the CLI and tests build them alike.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "viz/figure.h"

namespace ponder::viz {

// One target rate of the sweep; NaN where a method was not replayed.
struct SweepRow {
    double rate = 0;
    double ours = kNaN, random = kNaN, randomExpected = kNaN, oracle = kNaN;
    double adaptationOracle = kNaN;  // the top units by adv_inner (runs with the static path)
};

// A policy shown beside Ours on the same run (extra policies): its own row in the decision
// strip and its own curve in the sweep, or one point where it spends its own budget.
struct PolicyTrack {
    std::string name;                           // its method label
    std::vector<std::uint8_t> decisions;        // per unit, 1 = UPDATE
    std::vector<double> sweepLoss;              // per RunFigureData::sweep row; NaN: not replayed
    double ownRate = kNaN, ownRateLoss = kNaN;  // where it landed, when ρ does not steer it
};

struct RunFigureData {
    std::string title;                       // the run's name; figure titles end with it
    std::string signalName = "recon_step0";  // what the policy gates on
    std::string policyName = "Ours";         // the policy whose decisions are shown
    // Per unit, in data order (all the same length; threshold NaN where the policy has none).
    std::vector<double> signal, threshold, advantage;
    std::vector<std::uint8_t> decisions, oracleDecisions;  // 1 = UPDATE
    // A run with the static path (algorithm.md §4.1): the advantage's two parts per unit, drawn
    // as stacked bars, and the adaptation oracle's decisions (a row below the Oracle's). Empty:
    // the run has no split.
    std::vector<double> advStatic, advInner;
    std::vector<std::uint8_t> adaptationOracleDecisions;
    // What the scatter's y axis shows: "advantage" (data.advantage), "adv_static" or
    // "adv_inner" with its values here; pearson/spearman below are against it.
    std::string scatterTarget = "advantage";
    std::vector<double> scatterValues;  // empty: advantage
    std::vector<PolicyTrack> policies;  // shown beside Ours, in the summary's order
    // The chunk-axis x of each unit (a slice's own unit numbers); empty: 0, 1, 2, ...
    std::vector<double> unitX;
    // A folder run's files by first unit (x, name), ascending: boundaries on the chunk axis,
    // and a hover names its file. Empty or one file: none drawn.
    std::vector<std::pair<double, std::string>> fileStarts;
    // False for a gated fast-path run (`ponder eval --fast`): advantages exist only on the
    // units its gate updated, so there is no Oracle (oracleDecisions empty) to compare with.
    bool oracleComputed = true;
    std::size_t calibrationUnits = 0;  // leading units forced to UPDATE (shaded)
    // Signal vs advantage over the units the correlation used (computed by the caller).
    double pearson = kNaN, spearman = kNaN;
    std::size_t correlationUnits = 0;
    std::vector<SweepRow> sweep;  // ascending rates
    double currentRate = kNaN;    // the target rate the run was gated at (marked on the sweep)
    // A policy that spends its own budget (a learned gate, ...): ρ does not move it, so the
    // sweep has no curve for it but this one point at the rate it realized; NaN otherwise.
    double ownRate = kNaN, ownRateLoss = kNaN;
    double lossSkip = kNaN, lossUpdate = kNaN;  // SKIP and UPDATE_N (sweep reference lines)
    std::string updateName = "UPDATE_1";        // UPDATE_N's label
    // A second run overlaid in muted, dashed lines (the studio's compare); empty: none.
    std::string compareName;
    std::vector<double> compareSignal, compareThreshold;
    std::vector<SweepRow> compareSweep;
};

Figure signalFigure(const RunFigureData& data);
Figure advantageFigure(const RunFigureData& data);
// Two rows of cells on the chunk axis: the policy's decisions above, Oracle's below.
Figure decisionStripFigure(const RunFigureData& data);
Figure scatterFigure(const RunFigureData& data);
Figure sweepFigure(const RunFigureData& data);

struct NamedFigure {
    std::string stem;  // file name without extension: fig_signal, fig_advantage, ...
    Figure figure;
    double heightScale = 1.0;  // of the export height: the decision strip is a thin figure
    bool inOverview = true;    // one of the 2 x 2 overview's panels
};
// fig_signal, fig_advantage, fig_decisions, fig_scatter and fig_sweep, in that order.
std::vector<NamedFigure> runFigures(const RunFigureData& data);

}  // namespace ponder::viz
