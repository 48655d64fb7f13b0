// Renders TextTable as CSV, Markdown and LaTeX.
#include "core/report/table_format.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace ponder::core {

void TextTable::addRow(std::vector<std::string> cells) {
    if (cells.size() != columns.size())
        throw std::invalid_argument("table '" + caption + "': row of " +
                                    std::to_string(cells.size()) + " cells for " +
                                    std::to_string(columns.size()) + " columns");
    rows.push_back(std::move(cells));
}

std::string csvField(const std::string& text) {
    if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
    std::string quoted = "\"";
    for (char c : text) {
        if (c == '"') quoted += '"';
        quoted += c;
    }
    return quoted + "\"";
}

std::string toCsv(const TextTable& table) {
    std::string out;
    const auto line = [&](const std::vector<std::string>& cells) {
        for (std::size_t i = 0; i < cells.size(); ++i)
            out += (i ? "," : "") + csvField(cells[i]);
        out += "\n";
    };
    line(table.columns);
    for (const auto& row : table.rows)
        line(row);
    return out;
}

namespace {

// Markdown cells may not hold '|' or line breaks.
std::string markdownCell(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '|')
            out += "\\|";
        else if (c == '\n' || c == '\r')
            out += ' ';
        else
            out += c;
    }
    return out;
}

std::string latexCell(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&':
            case '%':
            case '$':
            case '#':
            case '_':
            case '{':
            case '}':
                out += '\\';
                out += c;
                break;
            case '~':
                out += "\\textasciitilde{}";
                break;
            case '^':
                out += "\\textasciicircum{}";
                break;
            case '\\':
                out += "\\textbackslash{}";
                break;
            default:
                out += c;
        }
    }
    return out;
}

bool looksNumeric(const std::string& cell) {
    if (cell.empty()) return false;
    std::size_t digits = 0;
    for (char c : cell) {
        if (c >= '0' && c <= '9')
            ++digits;
        else if (c != '.' && c != '-' && c != '+' && c != '%' && c != 'x' && c != 'e')
            return false;
    }
    return digits > 0;
}

}  // namespace

std::string toMarkdown(const TextTable& table) {
    std::string out;
    if (!table.caption.empty()) out += "**" + markdownCell(table.caption) + "**\n\n";
    const auto line = [&](const std::vector<std::string>& cells) {
        out += "|";
        for (const auto& cell : cells)
            out += " " + markdownCell(cell) + " |";
        out += "\n";
    };
    line(table.columns);
    out += "|";
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
        const bool numeric = !table.rows.empty() && looksNumeric(table.rows.front()[i]);
        out += numeric ? "---:|" : "---|";
    }
    out += "\n";
    for (const auto& row : table.rows)
        line(row);
    return out;
}

std::string toLatex(const TextTable& table) {
    std::string align;
    for (std::size_t i = 0; i < table.columns.size(); ++i)
        align += (!table.rows.empty() && looksNumeric(table.rows.front()[i])) ? 'r' : 'l';
    std::string out = "% requires \\usepackage{booktabs}\n\\begin{table}[t]\n\\centering\n";
    if (!table.caption.empty()) out += "\\caption{" + latexCell(table.caption) + "}\n";
    if (!table.label.empty()) out += "\\label{" + table.label + "}\n";
    out += "\\begin{tabular}{" + align + "}\n\\toprule\n";
    const auto line = [&](const std::vector<std::string>& cells) {
        for (std::size_t i = 0; i < cells.size(); ++i)
            out += (i ? " & " : "") + latexCell(cells[i]);
        out += " \\\\\n";
    };
    line(table.columns);
    out += "\\midrule\n";
    for (const auto& row : table.rows)
        line(row);
    out += "\\bottomrule\n\\end{tabular}\n\\end{table}\n";
    return out;
}

std::string fixedCell(double value, int decimals) {
    if (!std::isfinite(value)) return "n/a";
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
    std::string text = buffer;
    // A value that rounds to zero prints without a sign ("-0.00" reads as a measurement).
    if (text[0] == '-' && text.find_first_not_of("-0.") == std::string::npos) text.erase(0, 1);
    return text;
}

std::string percentCell(double fraction, int decimals) {
    if (!std::isfinite(fraction)) return "n/a";
    return fixedCell(100.0 * fraction, decimals) + "%";
}

}  // namespace ponder::core
