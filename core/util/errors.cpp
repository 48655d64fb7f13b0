// Error kinds and the one place that turns any exception into what a front end shows.
#include "core/util/errors.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <new>

namespace ponder::core {

const char* errorKindName(ErrorKind kind) {
    // In ErrorKind's order.
    static const char* const names[] = {"weights",     "model",   "tokenizer", "input",
                                        "output",      "store",   "training",  "cancelled",
                                        "distributed", "sandbox", "internal"};
    const auto index = static_cast<std::size_t>(kind);
    return index < std::size(names) ? names[index] : "internal";
}

namespace {

// A setting in an error text at `at`: "{--" letters, digits, dashes, then optionally a space and
// a value without braces, then "}". Fills the flag, the value and where it ends.
bool settingAt(const std::string& text, std::size_t at, std::string& flag, std::string& value,
               std::size_t& end) {
    if (text.compare(at, 3, "{--") != 0) return false;
    std::size_t i = at + 3;
    const auto isNameChar = [](char c) {
        return std::islower(static_cast<unsigned char>(c)) ||
               std::isdigit(static_cast<unsigned char>(c)) || c == '-';
    };
    while (i < text.size() && isNameChar(text[i]))
        ++i;
    if (i == at + 3 || i >= text.size()) return false;
    flag = text.substr(at + 1, i - at - 1);
    value.clear();
    if (text[i] == ' ') {
        const auto close = text.find_first_of("{}", i + 1);
        if (close == std::string::npos || text[close] != '}' || close == i + 1) return false;
        value = text.substr(i + 1, close - i - 1);
        i = close;
    }
    if (text[i] != '}') return false;
    end = i + 1;
    return true;
}

}  // namespace

std::string inWords(const std::string& text, const SettingWords& words) {
    std::string out, flag, value;
    for (std::size_t i = 0; i < text.size();) {
        std::size_t end = 0;
        if (settingAt(text, i, flag, value, end)) {
            out += words(flag, value);
            i = end;
        } else {
            out += text[i++];
        }
    }
    return out;
}

std::string inPlainWords(const std::string& text) {
    return inWords(text, [](const std::string& flag, const std::string& value) {
        std::string name = flag.substr(2);
        std::replace(name.begin(), name.end(), '-', ' ');
        return value.empty() ? name : name + " " + value;
    });
}

std::string inCommandLineWords(const std::string& text) {
    return inWords(text, [](const std::string& flag, const std::string& value) {
        return value.empty() ? flag : flag + " " + value;
    });
}

std::vector<std::string> settingsIn(const std::string& text) {
    std::vector<std::string> flags;
    inWords(text, [&](const std::string& flag, const std::string&) {
        if (std::find(flags.begin(), flags.end(), flag) == flags.end()) flags.push_back(flag);
        return flag;
    });
    return flags;
}

namespace {

// A report with the settings its texts name: they are never listed apart from the texts.
ErrorReport reportOf(ErrorKind kind, std::string what, std::string hint) {
    auto settings = settingsIn(what + " " + hint);
    return {kind, std::move(what), std::move(hint), std::move(settings)};
}

}  // namespace

ErrorReport describeError(std::exception_ptr error) {
    try {
        if (error) std::rethrow_exception(error);
    } catch (const PonderError& e) {
        return reportOf(e.kind(), e.rawWhat(), e.rawHint());
    } catch (const std::bad_alloc&) {
        return reportOf(
            ErrorKind::Internal, "out of memory",
            "evaluate shorter chunks ({--chunk}), or free memory or use a larger machine");
    } catch (const std::exception& e) {
        // LibTorch's c10::Error carries a multi-line backtrace after its first line.
        const std::string what = e.what();
        return reportOf(
            ErrorKind::Internal, what.substr(0, what.find('\n')),
            "this looks like a bug or an unusual input; please report it with what you ran");
    } catch (...) {
    }
    return reportOf(ErrorKind::Internal, "unknown error",
                    "this looks like a bug; please report it with what you ran");
}

}  // namespace ponder::core
