// Command-line parsing for `ponder`.
#include "app/cli/cli_args.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "core/data/corpus_files.h"
#include "core/runtime/runtime.h"

namespace ponder::app {

OptionSpec option(std::string name, std::string valueName, std::string help,
                  std::string defaultText) {
    return {std::move(name), std::move(valueName), std::move(help), std::move(defaultText)};
}

OptionSpec repeated(std::string name, std::string valueName, std::string help,
                    std::string defaultText) {
    auto spec =
        option(std::move(name), std::move(valueName), std::move(help), std::move(defaultText));
    spec.repeatable = true;
    return spec;
}

OptionSpec flag(std::string name, std::string help) {
    return {std::move(name), {}, std::move(help)};
}

std::string shown(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", value);
    return text;
}

std::string shown(const std::string& value) {
    return value;
}

OptionSpec threadsOption() {
    return option("--threads", "N", "CPU threads; 0: all cores (OMP_NUM_THREADS wins)", "0");
}

OptionSpec quietOption() {
    return flag("--quiet", "no progress lines on stderr");
}

OptionSpec extensionOption() {
    return repeated("--ext", "EXT", "only files ending in EXT (py or .py) inside folders",
                    "every code file");
}

OptionSpec deviceOption(const std::string& defaultDevice) {
    return option("--device", "auto|cpu|cuda", "where the model runs", defaultDevice);
}

OptionSpec forceCheckpointOption() {
    return flag("--force-checkpoint", "use a TTT layer trained on another backbone anyway");
}

OptionSpec databaseOption(const std::string& what) {
    return option("--db", "FILE", "SQLite run database: " + what);
}

OptionSpec jsonOption(const std::string& what) {
    return option("--json", "OUT.json", "write " + what);
}

std::vector<std::string> extensionsFrom(const ParsedArgs& args) {
    auto extensions = args.values("--ext");
    for (auto& extension : extensions)
        extension = core::dottedExtension(extension);
    return extensions;
}

Options operator+(Options first, const Options& second) {
    first.insert(first.end(), second.begin(), second.end());
    return first;
}

Options only(const Options& options, const std::vector<std::string>& names) {
    Options picked;
    for (const auto& name : names)
        for (const auto& option : options)
            if (option.name == name) picked.push_back(option);
    return picked;
}

Options without(const Options& options, const std::vector<std::string>& names) {
    Options kept;
    for (const auto& option : options)
        if (std::find(names.begin(), names.end(), option.name) == names.end())
            kept.push_back(option);
    return kept;
}

ParsedArgs::ParsedArgs(const std::vector<std::string>& args, const Options& specs) {
    bool optionsEnded = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (optionsEnded || arg.size() < 2 || arg.rfind("--", 0) != 0) {
            if (!optionsEnded && arg.size() > 1 && arg[0] == '-' && arg != "-")
                throw UsageError("unknown option '" + arg + "'");
            m_positionals.push_back(arg);
            continue;
        }
        if (arg == "--") {
            optionsEnded = true;
            continue;
        }
        const auto equals = arg.find('=');
        const std::string name = arg.substr(0, equals);
        const auto spec = std::find_if(specs.begin(), specs.end(),
                                       [&](const OptionSpec& s) { return s.name == name; });
        if (spec == specs.end()) throw UsageError("unknown option '" + name + "'");
        if (!spec->takesValue()) {
            if (equals != std::string::npos) throw UsageError(name + " takes no value");
            m_flags[name] = true;
            continue;
        }
        std::string value;
        if (equals != std::string::npos) {
            value = arg.substr(equals + 1);
        } else {
            if (i + 1 >= args.size()) throw UsageError(name + " needs a value");
            value = args[++i];
        }
        auto& slot = m_values[name];
        if (!slot.empty() && !spec->repeatable) throw UsageError(name + " given twice");
        slot.push_back(value);
    }
}

std::optional<std::string> ParsedArgs::value(const std::string& name) const {
    const auto it = m_values.find(name);
    if (it == m_values.end()) return std::nullopt;
    return it->second.front();
}

std::vector<std::string> ParsedArgs::values(const std::string& name) const {
    const auto it = m_values.find(name);
    return it == m_values.end() ? std::vector<std::string>{} : it->second;
}

std::vector<std::string> commaList(const std::string& text, bool keepEmpty) {
    std::vector<std::string> items;
    std::istringstream stream(text);
    for (std::string item; std::getline(stream, item, ',');)
        if (keepEmpty || !item.empty()) items.push_back(item);
    return items;
}

std::string ParsedArgs::valueOr(const std::string& name, const std::string& fallback) const {
    return value(name).value_or(fallback);
}

long long ParsedArgs::integerOr(const std::string& name, long long fallback) const {
    const auto text = value(name);
    if (!text) return fallback;
    try {
        std::size_t used = 0;
        const long long parsed = std::stoll(*text, &used);
        if (used == text->size()) return parsed;
    } catch (const std::exception&) {
    }
    throw UsageError(name + " expects an integer, got '" + *text + "'");
}

double ParsedArgs::numberOr(const std::string& name, double fallback) const {
    const auto text = value(name);
    if (!text) return fallback;
    try {
        std::size_t used = 0;
        const double parsed = std::stod(*text, &used);
        if (used == text->size()) return parsed;
    } catch (const std::exception&) {
    }
    throw UsageError(name + " expects a number, got '" + *text + "'");
}

std::string fixed(double value, int decimals) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

int applyThreads(const ParsedArgs& args) {
    const long long threads = args.integerOr("--threads", 0);
    if (threads < 0) throw UsageError("--threads must be 0 (all cores) or positive");
    return core::configureThreads(static_cast<int>(threads));
}

}  // namespace ponder::app
