// Restricts a run's analysis to some of its units without replaying any policy.
#include "core/gating/slices.h"

#include <cmath>
#include <map>
#include <stdexcept>

#include "core/eval/evaluator.h"
#include "core/gating/decision_rules.h"
#include "core/gating/gate.h"

namespace ponder::core {

namespace {

// analyseUnits puts SKIP, UPDATE_N, Random and the Oracle first and gives every policy after
// them a same-rate comparison.
constexpr std::size_t kBaselines = 4;

PolicyRun sliceRun(const PolicyRun& run, const std::vector<std::size_t>& indices) {
    PolicyRun out;
    out.name = run.name;
    out.decisions = pickRows(run.decisions, indices);
    out.threshold = pickRows(run.threshold, indices);
    out.rateEma = pickRows(run.rateEma, indices);
    out.score = pickRows(run.score, indices);
    return out;
}

double updateRate(const std::vector<std::uint8_t>& decisions) {
    if (decisions.empty()) return kNaN;
    double updated = 0;
    for (auto d : decisions)
        updated += d;
    return updated / double(decisions.size());
}

// The whole run's Oracle for a policy judged at its own rate: compareAtOwnRate's rule, the top
// llround(r·N) units by advantage at the rate r it realized over all N units.
std::vector<std::uint8_t> ownRateOracle(const PolicyRun& run, const UnitTable& whole) {
    const double n = double(whole.size());
    return decideTopK(whole.advantage, std::size_t(std::llround(updateRate(run.decisions) * n)));
}

// Each policy's whole-run same-rate Oracle (ownRateOracle), by policy index; empty for the
// baselines and on a fast-path run, which has no Oracle. A sort of all N units each: computed
// once per analysis, not once per slice (perFileRows slices every file).
std::vector<std::vector<std::uint8_t>> ownRateOracles(const RunAnalysis& analysis) {
    std::vector<std::vector<std::uint8_t>> oracles(analysis.policies.size());
    if (analysis.table.partial()) return oracles;
    for (std::size_t i = kBaselines; i < analysis.policies.size(); ++i)
        oracles[i] = ownRateOracle(analysis.policies[i].run, analysis.table);
    return oracles;
}

// compareAtOwnRate's fields on the slice, with the whole run's baselines restricted to it
// (`wholeOracle`: the policy's entry of ownRateOracles).
SameRateComparison sameRateOnSlice(const PolicyResult& whole, const PolicyRun& run, double loss,
                                   const std::vector<std::uint8_t>& wholeOracle,
                                   const UnitTable& wholeTable, const UnitTable& table,
                                   const std::vector<std::size_t>& indices) {
    SameRateComparison out;
    if (table.size() == 0) return out;
    out.rate = updateRate(run.decisions);
    out.loss = loss;
    // Random at the whole run's rate spends that rate on each unit in expectation.
    out.randomExpected = expectedRandomLoss(table, whole.sameRate.rate);
    if (wholeTable.partial()) return out;  // a fast-path run has no Oracle
    judgeAgainstOracle(out, run, table, pickRows(wholeOracle, indices));
    return out;
}

// analyseUnits' rule for a fast-path run, without its list of replayable policies: a slice
// shows no more than the whole run does (a field NaN there stays NaN), and nothing that needs
// the Oracle.
void markPartialLike(PolicySummary& summary, const PolicySummary& whole) {
    if (std::isnan(whole.loss)) summary.loss = kNaN;
    if (std::isnan(whole.rate)) summary.rate = kNaN;
    if (std::isnan(whole.cost)) summary.cost = kNaN;
    summary.recovery = summary.agreement = kNaN;
}

PolicySummary summaryOf(const RunAnalysis& analysis, const std::string& name) {
    try {
        return analysis.find(name).summary;
    } catch (const std::out_of_range&) {
        return {};  // a replay that failed has no policies: NaN everywhere
    }
}

// sliceAnalysis with the whole run's same-rate Oracles given (ownRateOracles(analysis)).
RunAnalysis sliceWith(const RunAnalysis& analysis, const std::vector<std::size_t>& unitIndices,
                      const std::vector<std::vector<std::uint8_t>>& wholeOracles) {
    const auto& wholeTable = analysis.table;
    for (auto i : unitIndices)
        if (i >= wholeTable.size())
            throw std::out_of_range("sliceAnalysis: unit " + std::to_string(i) + " of " +
                                    std::to_string(wholeTable.size()));
    RunAnalysis slice;
    slice.table = wholeTable.rows(unitIndices);
    slice.baselineRate = analysis.baselineRate;
    slice.oursOwnRate = analysis.oursOwnRate;
    if (analysis.policies.empty()) return slice;
    const auto oracle = sliceRun(analysis.find("Oracle").run, unitIndices);
    for (std::size_t i = 0; i < analysis.policies.size(); ++i) {
        const auto& whole = analysis.policies[i];
        PolicyResult part;
        part.method = whole.method;
        part.spec = whole.spec;
        part.ownRate = whole.ownRate;
        part.run = sliceRun(whole.run, unitIndices);
        part.summary = summarise(part.run, slice.table, oracle);
        part.summary.name = whole.method;
        if (i >= kBaselines) {
            part.sameRate = sameRateOnSlice(whole, part.run, part.summary.loss, wholeOracles[i],
                                            wholeTable, slice.table, unitIndices);
            if (part.ownRate) {
                part.summary.recovery = part.sameRate.recovery;
                part.summary.agreement = part.sameRate.agreement;
            }
        }
        if (wholeTable.partial()) markPartialLike(part.summary, whole.summary);
        slice.policies.push_back(std::move(part));
    }
    if (analysis.adaptationOracle) {  // the whole run's adaptation oracle, kept on the slice
        auto part = *analysis.adaptationOracle;
        part.run = sliceRun(part.run, unitIndices);
        part.summary = summarise(part.run, slice.table, oracle);
        part.summary.name = part.method;
        slice.adaptationOracle = std::move(part);
        slice.innerShare = advantageSplit(slice.table).innerShare;
    }
    return slice;
}

}  // namespace

RunAnalysis sliceAnalysis(const RunAnalysis& analysis,
                          const std::vector<std::size_t>& unitIndices) {
    return sliceWith(analysis, unitIndices, ownRateOracles(analysis));
}

std::vector<FileSliceRow> perFileRows(const RunAnalysis& analysis,
                                      const std::vector<UnitRecord>& units) {
    if (units.size() != analysis.table.size())
        throw std::invalid_argument("perFileRows: " + std::to_string(units.size()) +
                                    " unit records for a table of " +
                                    std::to_string(analysis.table.size()));
    std::vector<std::int64_t> order;  // files as they first appear
    std::map<std::int64_t, std::vector<std::size_t>> members;
    for (std::size_t i = 0; i < units.size(); ++i) {
        auto& list = members[units[i].fileIndex];
        if (list.empty()) order.push_back(units[i].fileIndex);
        list.push_back(i);
    }
    const auto wholeOracles = ownRateOracles(analysis);
    std::vector<FileSliceRow> rows;
    for (auto fileIndex : order) {
        const auto& indices = members[fileIndex];
        const auto slice = sliceWith(analysis, indices, wholeOracles);
        const auto ours = summaryOf(slice, "Ours");
        const auto oracle = summaryOf(slice, "Oracle");
        FileSliceRow row;
        row.fileIndex = fileIndex;
        row.file = units[indices.front()].file;
        row.units = indices.size();
        row.lossSkip = summaryOf(slice, "SKIP").loss;
        row.lossUpdate = summaryOf(slice, "update").loss;  // UPDATE_N under any N
        row.lossOurs = ours.loss;
        row.lossOracle = oracle.loss;
        row.oursRate = ours.rate;
        row.oracleRate = oracle.rate;
        row.recovery = ours.recovery;
        rows.push_back(std::move(row));
    }
    return rows;
}

std::vector<std::size_t> unitsOfFiles(const std::vector<UnitRecord>& units,
                                      const std::set<std::int64_t>& fileIndices) {
    std::vector<std::size_t> indices;
    for (std::size_t i = 0; i < units.size(); ++i)
        if (fileIndices.count(units[i].fileIndex)) indices.push_back(i);
    return indices;
}

}  // namespace ponder::core
