// The per-chunk table's rows, columns, filter, sort and CSV.
#include "app/studio/state/chunk_table.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <map>
#include <stdexcept>
#include <tuple>

#include "core/report/exports.h"
#include "core/report/table_format.h"

namespace ponder::studio {

namespace {

constexpr std::size_t kHidden = std::size_t(-1);

// The number columns read straight from a UnitRecord, in the order they are shown; their
// index is the slot in ChunkTable::Chunk::values.
struct ValueField {
    const char* name;
    const char* csvName;
    double core::UnitRecord::*field;
};
const ValueField kValueFields[] = {{"recon_step0", "recon_step0", &core::UnitRecord::reconStep0},
                                   {"recon_init", "recon_init", &core::UnitRecord::reconInit},
                                   {"recon_step1", "recon_step1", &core::UnitRecord::reconStep1},
                                   {"improvement", "improvement", &core::UnitRecord::improvement},
                                   {"entropy", "entropy", &core::UnitRecord::entropy},
                                   {"confidence", "confidence", &core::UnitRecord::confidence},
                                   {"loss SKIP", "loss_skip", &core::UnitRecord::lossSkip},
                                   {"loss UPDATE", "loss_update", &core::UnitRecord::lossUpdate},
                                   {"advantage", "advantage", &core::UnitRecord::advantage}};

std::string lowered(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    return text;
}

// The name shown for a path: its last component, or the path itself when it has none (paper
// mode's empty name, a folder ending in '/').
std::string shownName(const std::string& path) {
    const auto name = std::filesystem::path(path).filename().string();
    return name.empty() ? path : name;
}

std::string fixed4(double value) {
    if (std::isnan(value)) return "n/a";  // not computed (a fast-path run's UPDATE side)
    char text[48];
    std::snprintf(text, sizeof text, "%.4f", value);
    return text;
}

}  // namespace

void ChunkTable::addColumn(std::string name, std::string csvName, bool numeric, Source source) {
    m_columns.push_back({std::move(name), std::move(csvName), numeric});
    m_sources.push_back(source);
}

std::size_t ChunkTable::policySlot(const std::string& method) const {
    for (std::size_t slot = 0; slot < m_methods.size(); ++slot)
        if (m_methods[slot] == method) return slot;
    return kNoPolicy;
}

void ChunkTable::rebuild(const std::vector<core::UnitRecord>& units,
                         const core::RunAnalysis& analysis,
                         const std::vector<std::string>& shownPolicies) {
    static_assert(std::size(kValueFields) == std::tuple_size<decltype(Chunk::values)>::value,
                  "a slot per value column");
    // Files by path, in order of appearance; ranked by shown name for the file column's sort.
    m_chunks.clear();
    m_filePaths.clear();
    m_fileNames.clear();
    std::map<std::string, std::size_t> fileIds;
    for (const auto& u : units) {
        const auto [at, added] = fileIds.emplace(u.file, m_filePaths.size());
        if (added) {
            m_filePaths.push_back(u.file);
            m_fileNames.push_back(shownName(u.file));
        }
        Chunk chunk;
        chunk.unit = u.unit;
        chunk.fileIndex = u.fileIndex;
        chunk.chunk = u.chunkIndex;
        chunk.tokenStart = u.tokenStart;
        chunk.tokens = u.tokens;
        chunk.lineStart = u.lineStart;
        chunk.lineEnd = u.lineEnd;
        chunk.file = at->second;
        for (std::size_t slot = 0; slot < chunk.values.size(); ++slot)
            chunk.values[slot] = u.*kValueFields[slot].field;
        m_chunks.push_back(chunk);
    }
    std::vector<std::size_t> byName(m_filePaths.size());
    for (std::size_t i = 0; i < byName.size(); ++i)
        byName[i] = i;
    std::stable_sort(byName.begin(), byName.end(), [&](std::size_t a, std::size_t b) {
        return std::tie(m_fileNames[a], m_filePaths[a]) < std::tie(m_fileNames[b], m_filePaths[b]);
    });
    m_fileRank.assign(m_filePaths.size(), 0.0);
    for (std::size_t rank = 0; rank < byName.size(); ++rank)
        m_fileRank[byName[rank]] = double(rank);

    // Decisions of every policy, so the filter can name any of them; a run of another length
    // (it cannot belong to these units) counts as none.
    m_methods.clear();
    m_decisions.clear();
    for (const auto& policy : analysis.policies) {
        m_methods.push_back(policy.method);
        m_decisions.push_back(policy.run.decisions.size() == units.size()
                                  ? policy.run.decisions
                                  : std::vector<std::uint8_t>{});
    }
    m_oracleSlot = policySlot("Oracle");

    m_columns.clear();
    m_sources.clear();
    addColumn("unit", "unit", true, {Kind::Unit});
    addColumn("file", "file", false, {Kind::File});
    addColumn("chunk", "chunk", true, {Kind::Chunk});
    addColumn("tokens", "tokens", true, {Kind::Tokens});
    addColumn("lines", "lines", false, {Kind::Lines});
    for (std::size_t slot = 0; slot < std::size(kValueFields); ++slot)
        addColumn(kValueFields[slot].name, kValueFields[slot].csvName, true, {Kind::Value, slot});
    std::set<std::string> shown;
    for (const auto& method : shownPolicies) {
        if (method == "Oracle" || !shown.insert(method).second) continue;
        const auto slot = policySlot(method);
        addColumn(method, "decision_" + method, false, {Kind::Decision, slot});
        addColumn(method + " = Oracle", "agrees_" + method, false, {Kind::Agreement, slot});
    }
    addColumn("Oracle", "decision_Oracle", false, {Kind::Decision, m_oracleSlot});

    m_keyColumn.reset();  // the cached key belonged to the old units
    if (m_sortColumn && *m_sortColumn >= m_columns.size()) m_sortColumn.reset();
    refilter();
}

std::optional<std::size_t> ChunkTable::columnIndex(const std::string& name) const {
    for (std::size_t i = 0; i < m_columns.size(); ++i)
        if (m_columns[i].name == name) return i;
    return std::nullopt;
}

int ChunkTable::decisionOf(std::size_t slot, std::size_t unit) const {
    if (slot == kNoPolicy || unit >= m_decisions[slot].size()) return -1;
    return m_decisions[slot][unit] ? 1 : 0;
}

double ChunkTable::value(std::size_t unit, std::size_t column) const {
    const auto& c = m_chunks[unit];
    const auto& source = m_sources[column];
    switch (source.kind) {
        case Kind::Unit:
            return double(c.unit);
        case Kind::File:
            return m_fileRank[c.file];
        case Kind::Chunk:
            return double(c.chunk);
        case Kind::Tokens:
            return double(c.tokens);
        case Kind::Lines:  // 1-based; paper mode has none
            return c.lineStart > 0 ? double(c.lineStart) : core::kNaN;
        case Kind::Value:
            return c.values[source.slot];
        case Kind::Decision: {
            const int d = decisionOf(source.slot, unit);
            return d < 0 ? core::kNaN : double(d);
        }
        case Kind::Agreement: {
            const int d = decisionOf(source.slot, unit), oracle = decisionOf(m_oracleSlot, unit);
            return d < 0 || oracle < 0 ? core::kNaN : double(d == oracle);
        }
    }
    return core::kNaN;
}

std::string ChunkTable::text(std::size_t unit, std::size_t column, bool forCsv) const {
    const auto& c = m_chunks[unit];
    const auto& source = m_sources[column];
    switch (source.kind) {
        case Kind::Unit:
            return std::to_string(c.unit);
        case Kind::File:
            return forCsv ? m_filePaths[c.file] : m_fileNames[c.file];
        case Kind::Chunk:
            return std::to_string(c.chunk);
        case Kind::Tokens:
            return std::to_string(c.tokens);
        case Kind::Lines:
            return c.lineStart > 0 ? std::to_string(c.lineStart) + "-" + std::to_string(c.lineEnd)
                                   : std::string();
        case Kind::Value: {
            const double v = c.values[source.slot];
            if (!forCsv) return fixed4(v);
            return std::isnan(v) ? std::string() : core::shortestDouble(v);
        }
        case Kind::Decision: {
            const int d = decisionOf(source.slot, unit);
            return d < 0 ? std::string() : d ? "UPDATE" : "SKIP";
        }
        case Kind::Agreement: {
            const double agrees = value(unit, column);
            return std::isnan(agrees) ? std::string() : agrees > 0 ? "yes" : "no";
        }
    }
    return {};
}

std::size_t ChunkTable::unitAt(std::size_t row, std::size_t column) const {
    if (row >= m_rows.size() || column >= m_columns.size())
        throw std::out_of_range("chunk table: cell (" + std::to_string(row) + ", " +
                                std::to_string(column) + ") of " + std::to_string(m_rows.size()) +
                                " x " + std::to_string(m_columns.size()));
    return m_rows[row];
}

std::string ChunkTable::cellText(std::size_t row, std::size_t column) const {
    return text(unitAt(row, column), column, false);
}

double ChunkTable::cellValue(std::size_t row, std::size_t column) const {
    return value(unitAt(row, column), column);
}

std::string ChunkTable::cellTooltip(std::size_t row, std::size_t column) const {
    const auto& c = m_chunks[unitAt(row, column)];
    switch (m_sources[column].kind) {
        case Kind::File:
            return m_filePaths[c.file];
        case Kind::Tokens:
            return c.tokens > 0 ? "tokens " + std::to_string(c.tokenStart) + ".." +
                                      std::to_string(c.tokenStart + c.tokens - 1)
                                : std::string();
        default:
            return {};
    }
}

bool ChunkTable::passes(std::size_t unit) const {
    const auto& c = m_chunks[unit];
    if (!m_filter.files.empty() && !m_filter.files.count(c.fileIndex)) return false;
    if (!m_fileMatchesText[c.file]) return false;
    if (m_filter.decision == ChunkFilter::Decision::Any && !m_filter.disagreesOnly) return true;
    const int d = decisionOf(m_filterSlot, unit);
    if (d < 0) return false;
    if (m_filter.decision == ChunkFilter::Decision::Update && d != 1) return false;
    if (m_filter.decision == ChunkFilter::Decision::Skip && d != 0) return false;
    if (m_filter.disagreesOnly) {
        const int oracle = decisionOf(m_oracleSlot, unit);
        if (oracle < 0 || oracle == d) return false;
    }
    return true;
}

void ChunkTable::setFilter(ChunkFilter filter) {
    m_filter = std::move(filter);
    refilter();
}

void ChunkTable::refilter() {
    // Per file, not per unit: a run has far fewer files than chunks.
    const auto needle = lowered(m_filter.text);
    m_fileMatchesText.assign(m_filePaths.size(), true);
    for (std::size_t f = 0; f < m_filePaths.size() && !needle.empty(); ++f)
        m_fileMatchesText[f] = lowered(m_filePaths[f]).find(needle) != std::string::npos;
    m_filterSlot = policySlot(m_filter.policy.empty() ? "Ours" : m_filter.policy);
    m_filtered.clear();
    for (std::size_t u = 0; u < m_chunks.size(); ++u)
        if (passes(u)) m_filtered.push_back(u);
    resort();
}

void ChunkTable::setSort(std::size_t column, bool ascending) {
    if (column >= m_columns.size())
        throw std::out_of_range("chunk table: no column " + std::to_string(column));
    m_sortColumn = column;
    m_ascending = ascending;
    resort();
}

void ChunkTable::clearSort() {
    m_sortColumn.reset();
    resort();
}

void ChunkTable::resort() {
    // From run order every time, so equal values keep run order whatever was sorted before.
    m_rows = m_filtered;
    if (m_sortColumn) {
        if (m_keyColumn != m_sortColumn) {  // a new column: its values once; a flip reuses them
            m_sortKey.resize(m_chunks.size());
            for (std::size_t u = 0; u < m_chunks.size(); ++u)
                m_sortKey[u] = value(u, *m_sortColumn);
            m_keyColumn = m_sortColumn;
        }
        const auto& key = m_sortKey;
        const bool ascending = m_ascending;
        std::stable_sort(m_rows.begin(), m_rows.end(), [&](std::size_t a, std::size_t b) {
            const double x = key[a], y = key[b];
            if (std::isnan(y)) return !std::isnan(x);  // NaN last either way
            if (std::isnan(x)) return false;
            return ascending ? x < y : y < x;
        });
    }
    m_rowOf.assign(m_chunks.size(), kHidden);
    for (std::size_t row = 0; row < m_rows.size(); ++row)
        m_rowOf[m_rows[row]] = row;
}

std::optional<std::size_t> ChunkTable::rowOfUnit(std::int64_t unit) const {
    if (unit < 0 || std::size_t(unit) >= m_rowOf.size()) return std::nullopt;
    const auto row = m_rowOf[std::size_t(unit)];
    return row == kHidden ? std::nullopt : std::optional<std::size_t>(row);
}

std::string ChunkTable::csv() const {
    std::string out;
    for (std::size_t c = 0; c < m_columns.size(); ++c)
        out += (c ? "," : "") + core::csvField(m_columns[c].csvName);
    out += "\n";
    for (auto unit : m_rows) {
        for (std::size_t c = 0; c < m_columns.size(); ++c)
            out += (c ? "," : "") + core::csvField(text(unit, c, true));
        out += "\n";
    }
    return out;
}

}  // namespace ponder::studio
