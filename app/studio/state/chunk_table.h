// The model behind the studio's per-chunk table: one row per unit with where it sits, its
// signals and losses, and each shown policy's decision beside the Oracle's; filtered, sorted
// and written as CSV here, so the table is tested without a window. Torch-free, ImGui-free.
//
// Built for ImGuiListClipper: a sort reorders unit indices by one cached numeric column (no
// text is formatted), and a cell's text is formatted only when asked for, i.e. for the rows
// on screen.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/eval/evaluator.h"
#include "core/gating/run_analysis.h"

namespace ponder::studio {

struct ChunkFilter {
    std::set<std::int64_t> files;  // file indices to show; empty = all
    enum class Decision { Any, Update, Skip };
    Decision decision = Decision::Any;  // of `policy`
    // The method (PolicyResult::method) whose decision `decision` and `disagreesOnly` look at;
    // empty = Ours. One the analysis lacks matches no unit while either is set.
    std::string policy;
    bool disagreesOnly = false;  // only units where that decision differs from the Oracle's
    std::string text;            // case-insensitive substring of the file's full path

    bool operator==(const ChunkFilter& o) const {
        return files == o.files && decision == o.decision && policy == o.policy &&
               disagreesOnly == o.disagreesOnly && text == o.text;
    }
    bool operator!=(const ChunkFilter& o) const { return !(*this == o); }
};

struct ChunkColumn {
    std::string name;      // the table's header: "loss SKIP", "Ours", "Ours = Oracle", ...
    std::string csvName;   // the CSV's header: "loss_skip", "decision_Ours", "agrees_Ours", ...
    bool numeric = false;  // a number (right-aligned); every column sorts by cellValue
};

class ChunkTable {
public:
    // Rows for `units` (the records behind analysis.table, in the same order); columns: unit,
    // file, chunk, tokens, lines, the six signals, loss SKIP, loss UPDATE, advantage, then for
    // each method in `shownPolicies` its decision and whether it agrees with the Oracle, then
    // the Oracle's decision (always; "Oracle" in `shownPolicies` adds nothing). A method the
    // analysis lacks (a replay that failed) keeps its columns, with empty cells. The filter and
    // the sort are kept (a sort column past the new columns is dropped).
    void rebuild(const std::vector<core::UnitRecord>& units, const core::RunAnalysis& analysis,
                 const std::vector<std::string>& shownPolicies);

    const std::vector<ChunkColumn>& columns() const { return m_columns; }
    std::optional<std::size_t> columnIndex(const std::string& name) const;

    // Stable: equal values keep run order, in both directions; NaN (and empty cells) last in
    // both directions. std::out_of_range for a column past the last.
    void setSort(std::size_t column, bool ascending);
    void clearSort();  // run order
    std::optional<std::size_t> sortColumn() const { return m_sortColumn; }
    bool sortAscending() const { return m_ascending; }

    void setFilter(ChunkFilter filter);
    const ChunkFilter& filter() const { return m_filter; }

    // The visible units (indices into `units`), filtered, then sorted.
    const std::vector<std::size_t>& rows() const { return m_rows; }
    std::size_t unitCount() const { return m_chunks.size(); }  // before filtering

    // Cells of the row at position `row` of rows(): the text drawn ("%.4f" for signals and
    // losses, "n/a" for a value not computed, the file's name without its folder), the value
    // it sorts by (NaN for none), and a tooltip (the full path for the file, the token range
    // for tokens; empty for the rest). std::out_of_range past the last row or column.
    std::string cellText(std::size_t row, std::size_t column) const;
    double cellValue(std::size_t row, std::size_t column) const;
    std::string cellTooltip(std::size_t row, std::size_t column) const;

    // The visible rows in order under a header of csvNames: numbers in full precision (the
    // shortest text that reads back as the same double; empty when not computed), the file's
    // full path, RFC 4180 quoting.
    std::string csv() const;

    // The position in rows() of unit index `unit` (an index into `units`, as
    // StudioState::selected), or none when it is filtered out or out of range.
    std::optional<std::size_t> rowOfUnit(std::int64_t unit) const;

private:
    // What a column shows; `slot` picks the value or the policy (m_decisions' index).
    enum class Kind { Unit, File, Chunk, Tokens, Lines, Value, Decision, Agreement };
    struct Source {
        Kind kind;
        std::size_t slot = 0;
    };
    // The fields of a UnitRecord the table shows (not its per-token losses).
    struct Chunk {
        std::int64_t unit = 0, fileIndex = -1, chunk = 0, tokenStart = 0, tokens = 0;
        std::int64_t lineStart = 0, lineEnd = 0;
        std::size_t file = 0;            // index into m_filePaths
        std::array<double, 9> values{};  // the Value columns' slots: signals, losses, advantage
    };
    static constexpr std::size_t kNoPolicy = std::size_t(-1);

    void addColumn(std::string name, std::string csvName, bool numeric, Source source);
    std::size_t policySlot(const std::string& method) const;
    double value(std::size_t unit, std::size_t column) const;
    std::string text(std::size_t unit, std::size_t column, bool forCsv) const;
    int decisionOf(std::size_t slot, std::size_t unit) const;  // 1, 0, or -1 for none
    bool passes(std::size_t unit) const;
    void refilter();
    void resort();
    std::size_t unitAt(std::size_t row, std::size_t column) const;

    std::vector<ChunkColumn> m_columns;
    std::vector<Source> m_sources;
    std::vector<Chunk> m_chunks;
    std::vector<std::string> m_filePaths, m_fileNames;
    std::vector<double> m_fileRank;      // each file's place by shown name, for sorting
    std::vector<std::string> m_methods;  // every policy of the analysis, by slot
    std::vector<std::vector<std::uint8_t>> m_decisions;
    std::size_t m_oracleSlot = kNoPolicy;

    ChunkFilter m_filter;
    std::vector<bool> m_fileMatchesText;   // per file: m_filter.text found in its path
    std::size_t m_filterSlot = kNoPolicy;  // the policy the filter looks at
    std::optional<std::size_t> m_sortColumn;
    bool m_ascending = true;
    std::vector<double> m_sortKey;           // the sort column's value per unit, kept between sorts
    std::optional<std::size_t> m_keyColumn;  // the column m_sortKey holds
    std::vector<std::size_t> m_filtered;     // the visible units in run order
    std::vector<std::size_t> m_rows;         // ... in display order
    std::vector<std::size_t> m_rowOf;        // per unit: its position in m_rows, or npos
};

}  // namespace ponder::studio
