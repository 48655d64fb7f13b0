// Strict command-line parsing shared by every `ponder` command: unknown options and missing
// values are usage errors (exit status 2), never silently ignored.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ponder::app {

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct OptionSpec {
    std::string name;  // "--model"
    bool takesValue;   // false: a flag
    bool repeatable = false;
};

class ParsedArgs {
public:
    // Parses argv[first..]; "--name value" and "--name=value" both work, "--" ends options.
    ParsedArgs(const std::vector<std::string>& args, const std::vector<OptionSpec>& specs);

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

// Common to all commands: sets LibTorch's thread count from --threads (0 = all cores).
int applyThreads(const ParsedArgs& args);

// `value` with `decimals` digits after the point, for the benchmark printouts.
std::string fixed(double value, int decimals = 1);

}  // namespace ponder::app
