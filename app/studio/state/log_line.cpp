// Exceptions as log lines.
#include "app/studio/state/log_line.h"

namespace ponder::studio {

LogLine errorLine(std::exception_ptr error, LogLine::Level level, const std::string& context) {
    const auto report = core::describeError(error);
    if (report.kind == core::ErrorKind::Cancelled && level == LogLine::Level::Error)
        level = LogLine::Level::Warning;
    return {level, context.empty() ? report.what : context + ": " + report.what, report.hint};
}

}  // namespace ponder::studio
