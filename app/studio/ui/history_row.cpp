// The run history's rows (see history_row.h).
#include "app/studio/ui/history_row.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "core/gating/run_analysis.h"

namespace ponder::studio {

namespace {

// The last path component, also for "dir/" (whose filename() is empty).
std::string lastName(const std::string& path) {
    std::filesystem::path p(path);
    if (!p.has_filename()) p = p.parent_path();
    const std::string name = p.filename().string();
    return name.empty() ? path : name;
}

std::string rateText(double rate) {
    char text[16];
    std::snprintf(text, sizeof text, "%.2f", rate);
    return text;
}

std::string plural(long long n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

HistoryRow historyRow(const core::RunSummary& run, std::vector<std::string> inputs) {
    if (inputs.empty()) inputs = run.inputs;  // listRuns fills them
    HistoryRow row;
    row.heading = "#" + std::to_string(run.id);
    if (!run.label.empty()) row.heading += "  " + run.label;
    const long long files = std::max<long long>(run.files, (long long)inputs.size());
    if (!inputs.empty()) {
        row.heading += "  " + lastName(inputs.front());
        if (files > 1) row.heading += " +" + std::to_string(files - 1) + " more";
    } else if (files > 0) {
        row.heading += "  " + plural(files, "file", "files");
    }

    const auto add = [](std::string& text, const std::string& part) {
        if (part.empty()) return;
        text += (text.empty() ? "" : "  ") + part;
    };
    // A gate by its folder's name, as the summary table labels it.
    add(row.detail, core::isGatePolicy(run.policy) ? core::methodName(run.policy) : run.policy);
    if (!run.policy.empty()) add(row.detail, "\u03c1 " + rateText(run.rate));
    add(row.detail, run.mode);
    add(row.detail, run.modelDir.empty() ? std::string() : lastName(run.modelDir));
    add(row.detail, core::runStatusName(run.status));  // units and times: in the tooltip

    std::string& tip = row.tooltip;
    if (!inputs.empty()) {
        tip += "inputs:\n";
        for (const auto& input : inputs)
            tip += "  " + input + "\n";
    } else {
        tip += plural(files, "input file", "input files") + " (paths not in the run list)\n";
    }
    tip += "model: " + (run.modelDir.empty() ? std::string("(unknown)") : run.modelDir) + "\n";
    tip += "started: " + run.startedAt +
           (run.finishedAt.empty() ? "" : ", finished: " + run.finishedAt) + "\n";
    tip += plural(run.units, "unit", "units") + ", " + plural(run.tokens, "token", "tokens") +
           (run.mode.empty() ? "" : ", mode " + run.mode) + "\n";
    tip += "click: open   right-click: compare";
    return row;
}

}  // namespace ponder::studio
