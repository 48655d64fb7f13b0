// Strict command-line parsing shared by every `ponder` command: unknown options and missing
// values are usage errors (exit status 2), never silently ignored.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace ponder::app {

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// One option, declared once: the parser, `--help` and the usage list all read this.
struct OptionSpec {
    std::string name;         // "--model"
    std::string valueName;    // "DIR", shown in --help; empty: a flag
    std::string help;         // one line for --help
    std::string defaultText;  // "(default: ...)" in --help, from the core struct; empty: none
    bool repeatable = false;  // may be given more than once (--ext py --ext js)
    bool takesValue() const { return !valueName.empty(); }
};
using Options = std::vector<OptionSpec>;

// Declarations read as the help line they print:
//   option("--chunk", "N", "tokens per chunk", shown(core::EvalRequest{}.chunk))
OptionSpec option(std::string name, std::string valueName, std::string help,
                  std::string defaultText = {});
OptionSpec repeated(std::string name, std::string valueName, std::string help,
                    std::string defaultText = {});
OptionSpec flag(std::string name, std::string help);
// A default as --help shows it: integers as such, numbers in %g, text unchanged.
template <typename Integer, typename = std::enable_if_t<std::is_integral_v<Integer>>>
std::string shown(Integer value) {
    return std::to_string(value);
}
std::string shown(double value);
std::string shown(const std::string& value);
// Options several commands share, said once.
OptionSpec threadsOption();                                 // --threads N
OptionSpec quietOption();                                   // --quiet
OptionSpec extensionOption();                               // --ext EXT (repeatable)
OptionSpec deviceOption(const std::string& defaultDevice);  // --device auto|cpu|cuda
OptionSpec forceCheckpointOption();                         // --force-checkpoint
OptionSpec databaseOption(const std::string& what);         // --db FILE: what is stored
OptionSpec jsonOption(const std::string& what);             // --json OUT.json: what is written

// Both lists, in order (a command's own options after the shared ones, say).
Options operator+(Options first, const Options& second);
// The named options of a list, in the names' order; or the list less them.
Options only(const Options& options, const std::vector<std::string>& names);
Options without(const Options& options, const std::vector<std::string>& names);

class ParsedArgs {
public:
    // Parses argv[first..]; "--name value" and "--name=value" both work, "--" ends options.
    ParsedArgs(const std::vector<std::string>& args, const Options& specs);

    bool flag(const std::string& name) const { return m_flags.count(name) > 0; }
    std::optional<std::string> value(const std::string& name) const;
    std::vector<std::string> values(const std::string& name) const;
    std::string valueOr(const std::string& name, const std::string& fallback) const;
    long long integerOr(const std::string& name, long long fallback) const;
    double numberOr(const std::string& name, double fallback) const;
    const std::vector<std::string>& positionals() const { return m_positionals; }

private:
    std::map<std::string, std::vector<std::string>> m_values;
    std::map<std::string, bool> m_flags;
    std::vector<std::string> m_positionals;
};

// The items of a comma-separated option value. Empty items are dropped, or kept (as
// std::getline gives them, so a checker can refuse "1,,2") with keepEmpty.
std::vector<std::string> commaList(const std::string& text, bool keepEmpty = false);

// --ext's values with their dot ("py" -> ".py"), as the training settings record them.
std::vector<std::string> extensionsFrom(const ParsedArgs& args);

// Common to all commands: sets LibTorch's thread count from --threads (0 = all cores).
int applyThreads(const ParsedArgs& args);

// `value` with `decimals` digits after the point, for the benchmark printouts.
std::string fixed(double value, int decimals = 1);

}  // namespace ponder::app
