// A small text table and its three renderings for papers and notebooks: CSV (RFC 4180
// quoting), GitHub Markdown and LaTeX (booktabs). Torch-free.
#pragma once

#include <string>
#include <vector>

namespace ponder::core {

struct TextTable {
    std::string caption;  // LaTeX caption and Markdown heading; may be empty
    std::string label;    // LaTeX \label{...}; may be empty
    std::vector<std::string> columns;
    std::vector<std::vector<std::string>> rows;  // each as wide as `columns`

    void addRow(std::vector<std::string> cells);
};

std::string toCsv(const TextTable& table);
std::string toMarkdown(const TextTable& table);
std::string toLatex(const TextTable& table);

// Number formats shared by the tables: fixed decimals; NaN/inf print as "n/a" ("--" in
// LaTeX is left to the caller) so a missing value never looks like a measured zero.
std::string fixedCell(double value, int decimals);
std::string percentCell(double fraction, int decimals = 1);  // 0.892 -> "89.2%"

// Quotes a CSV field when it holds a comma, quote, CR or LF (RFC 4180).
std::string csvField(const std::string& text);

}  // namespace ponder::core
