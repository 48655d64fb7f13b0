// `ponder COMMAND --help`, written from the command's declaration (commands.h), so the help
// lists exactly the options the parser accepts, with the defaults the core structs hold.
#include <algorithm>
#include <sstream>
#include <vector>

#include "app/cli/commands.h"

namespace ponder::app {

namespace {

std::string optionColumn(const OptionSpec& option) {
    return option.name + (option.takesValue() ? " " + option.valueName : "");
}

// `text` in lines of at most `columns` characters, broken at spaces.
std::vector<std::string> wrapped(const std::string& text, std::size_t columns) {
    std::vector<std::string> lines(1);
    std::istringstream words(text);
    for (std::string word; words >> word;) {
        if (!lines.back().empty() && lines.back().size() + 1 + word.size() > columns)
            lines.emplace_back();
        lines.back() += (lines.back().empty() ? "" : " ") + word;
    }
    return lines;
}

void writeOptions(std::ostringstream& out, const Options& options) {
    constexpr std::size_t kWidest = 30;  // a longer option gets its help on the next line
    constexpr std::size_t kLine = 100;   // help wraps within this many columns
    std::size_t width = 0;
    for (const auto& option : options)
        width = std::max(width, std::min(optionColumn(option).size(), kWidest));
    const std::string indent(width + 4, ' ');
    out << "options:\n";
    for (const auto& option : options) {
        std::string help = option.help;
        if (!option.defaultText.empty()) help += " (default: " + option.defaultText + ")";
        if (option.repeatable) help += " (repeatable)";
        std::string column = optionColumn(option);
        if (column.size() > width)
            out << "  " << column << "\n" << indent;
        else
            out << "  " << column.append(width - column.size(), ' ') << "  ";
        const auto lines = wrapped(help, kLine - indent.size());
        for (std::size_t i = 0; i < lines.size(); ++i)
            out << (i ? indent : "") << lines[i] << "\n";
    }
}

void writeIndented(std::ostringstream& out, const std::string& text) {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
        out << (line.empty() ? "" : "  ") << line << "\n";
}

}  // namespace

Options allOptions(const Command& command) {
    Options all;
    for (const auto& form : command.forms)
        for (const auto& option : form.options)
            if (std::none_of(all.begin(), all.end(),
                             [&](const OptionSpec& seen) { return seen.name == option.name; }))
                all.push_back(option);
    return all;
}

std::string usageText(const Command& command) {
    std::ostringstream out;
    for (std::size_t i = 0; i < command.forms.size(); ++i) {
        const auto& form = command.forms[i];
        if (i > 0) out << "\n";
        out << "usage: ponder " << command.name;
        if (!form.synopsis.empty()) out << " " << form.synopsis;
        out << (form.options.empty() ? "" : " [options]") << "\n";
        if (!form.details.empty()) {
            out << "\n";
            writeIndented(out, form.details);
        }
        if (!form.options.empty()) {
            out << "\n";
            writeOptions(out, form.options);
        }
    }
    return out.str();
}

}  // namespace ponder::app
