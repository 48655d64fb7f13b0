// The studio's log: one line per event, and the one function that turns any exception into a
// line (by its core::ErrorKind, never by its message text).
#pragma once

#include <exception>
#include <string>

#include "core/util/errors.h"

namespace ponder::studio {

struct LogLine {
    enum class Level { Info, Warning, Error } level = Level::Info;
    std::string text, hint;
};

// An error text's {--setting}s (core/util/errors.h) in the studio's words: the label of the
// control that sets it ("'chunk'", "'chunk' = 512"), else the setting's plain name.
std::string inStudioWords(const std::string& text);

// `error` as a log line: a ponder error with its own hint; a foreign exception (LibTorch, the
// standard library) with its first line and a hint to report it. `context` ("batch export")
// prefixes the text; a cancellation is never worse than a warning.
LogLine errorLine(std::exception_ptr error, LogLine::Level level = LogLine::Level::Error,
                  const std::string& context = {});

}  // namespace ponder::studio
