// Slices of one run by file: the decisions every policy made on the WHOLE run, kept on a
// subset of its units, with each policy's summary recomputed there (the studio's per-file
// table and its "show these files" view). Not a replay on the subset: an EMA threshold would
// take another trajectory there, and the Oracle would rank the subset alone. Torch-free.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/gating/run_analysis.h"

namespace ponder::core {

struct UnitRecord;  // core/eval/evaluator.h

// `analysis` restricted to the units `unitIndices` (indices into analysis.table, kept in the
// given order; std::out_of_range for one past the end):
// - the UnitTable's per-unit columns and every PolicyRun's non-empty per-unit vectors
//   (decisions, threshold, rateEma, score) are sub-selected, so a unit's decision in the slice
//   is its decision in the whole run;
// - each summary is summarise() over the slice against the whole run's Oracle restricted to it:
//   recovery on a slice = (L_skip - L_policy) / (L_skip - L_oracle) over the slice's units,
//   the Oracle being the whole run's decisions (its top units by advantage over ALL units);
// - a policy reported at its own rate (PolicyResult::ownRate) is judged, as in the whole run,
//   against the Oracle that updates as many units as it did on the whole run (compareAtOwnRate's
//   top llround(r·N)), restricted to the slice; sameRate's Random expectation is the whole run's
//   rate r applied to the slice's units, L_skip - r·mean(advantage) over them;
// - Random's spec.rate, baselineRate and oursOwnRate are kept, so summaryRows(slice) shows
//   Random's expectation at the whole run's ρ on the slice's units;
// - on a gated fast-path run (table.partial()), as in analyseUnits: no recovery or agreement,
//   and a loss, rate or cost the whole run could not give stays NaN on every slice.
RunAnalysis sliceAnalysis(const RunAnalysis& analysis, const std::vector<std::size_t>& unitIndices);

// One file's share of a run: its units' mean losses by path and under Ours and the Oracle
// (the whole run's decisions), their update rates and Ours' recovery on the file.
struct FileSliceRow {
    std::int64_t fileIndex = -1;  // -1: paper mode, where one row holds every unit
    std::string file;             // the path as its first unit records it
    std::size_t units = 0;
    double lossSkip = kNaN, lossUpdate = kNaN, lossOurs = kNaN, lossOracle = kNaN;
    double oursRate = kNaN, oracleRate = kNaN;
    double recovery = kNaN;  // Ours' summary.recovery on the slice (sliceAnalysis' rule)
};

// One row per file in the order files first appear in `units` (the records behind
// analysis.table, one per unit; std::invalid_argument when the counts differ), each from
// sliceAnalysis of that file's units, so a row and a one-file slice give the same numbers.
// Fields are NaN where the analysis lacks the policy (a replay that failed).
std::vector<FileSliceRow> perFileRows(const RunAnalysis& analysis,
                                      const std::vector<UnitRecord>& units);

// Indices of the units whose fileIndex is in `fileIndices`, ascending (none for an empty set).
std::vector<std::size_t> unitsOfFiles(const std::vector<UnitRecord>& units,
                                      const std::set<std::int64_t>& fileIndices);

}  // namespace ponder::core
