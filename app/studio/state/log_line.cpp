// Exceptions as log lines.
#include "app/studio/state/log_line.h"

#include <map>

namespace ponder::studio {

std::string inStudioWords(const std::string& text) {
    // The labels of the controls that set these (ui/pane_files.cpp, ui/pane_plots.cpp).
    static const std::map<std::string, std::string> controls = {{"--chunk", "chunk"},
                                                                {"--rate", "rate"},
                                                                {"--alpha", "alpha"},
                                                                {"--calibration", "calibration"},
                                                                {"--max-units", "max units"},
                                                                {"--threads", "threads"},
                                                                {"--mode", "mode"},
                                                                {"--shuffle", "shuffle"},
                                                                {"--causal-k", "causal-k -1"},
                                                                {"--dtype", "bf16"},
                                                                {"--fast", "fast path"}};
    return core::inWords(text, [](const std::string& flag, const std::string& value) {
        const auto control = controls.find(flag);
        if (control == controls.end())
            return core::inPlainWords("{" + flag + (value.empty() ? "" : " " + value) + "}");
        return "'" + control->second + "'" + (value.empty() ? "" : " = " + value);
    });
}

LogLine errorLine(std::exception_ptr error, LogLine::Level level, const std::string& context) {
    const auto report = core::describeError(error);
    if (report.kind == core::ErrorKind::Cancelled && level == LogLine::Level::Error)
        level = LogLine::Level::Warning;
    const auto what = inStudioWords(report.what);
    return {level, context.empty() ? what : context + ": " + what, inStudioWords(report.hint)};
}

}  // namespace ponder::studio
