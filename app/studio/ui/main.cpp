// ponder-studio [MODEL_DIR] [FILE|DIR...] [--model DIR] [--open FILE] [--rate R] [--policy P]
// [--calibration C] [--compare RUN] [--run RUN] [--screenshot OUT.png --frames N]
// [--frame-stats]: the desktop workbench (design.md §10).
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "app/studio/ui/studio_app.h"

namespace {

int usage(const std::string& reason) {
    std::cerr << "error: " << reason
              << "\nhint: ponder-studio [MODEL_DIR] [FILE|DIR...] [--model DIR] [--open FILE] "
                 "[--rate R] [--compare RUN] [--run RUN] [--screenshot OUT.png --frames N] "
                 "[--frame-stats]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    ponder::studio::StudioOptions options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
        if (arg == "--help" || arg == "-h") {
            std::cout
                << "ponder-studio [MODEL_DIR] [FILE|DIR...]: the PonderTTT desktop workbench.\n"
                   "  --model DIR        model directory (default: assets/default-model)\n"
                   "  --open FILE        a file or folder to evaluate (repeatable)\n"
                   "  --rate R           initial target update rate (0..1)\n"
                   "  --policy NAME      initial policy, e.g. recon-ema or gate:DIR\n"
                   "  --calibration C    paper | profile (default: profile when the model has\n"
                   "                     a calibration.json, else paper)\n"
                   "  --compare RUN      overlay this stored run (an id from the history)\n"
                   "  --run RUN          open this stored run (an evaluation or a `ponder\n"
                   "                     generate --db` stream) instead of evaluating\n"
                   "  --screenshot PNG   render, save the window after the run, and exit\n"
                   "  --frames N         frames to render before the screenshot (30)\n"
                   "  --size WxH         window size (1280x800)\n"
                   "  --frame-stats      print p50/p95/max frame time during runs at exit\n";
            return 0;
        }
        if (arg == "--frame-stats") {
            options.frameStats = true;
            continue;
        }
        if (arg == "--model" || arg == "--open" || arg == "--rate" || arg == "--screenshot" ||
            arg == "--frames" || arg == "--size" || arg == "--compare" || arg == "--run" ||
            arg == "--calibration" ||
            arg == "--policy") {
            const char* value = next();
            if (!value) return usage(arg + " needs a value");
            try {
                if (arg == "--model") options.modelDir = value;
                if (arg == "--open") options.inputs.push_back(value);
                if (arg == "--rate") options.rate = std::stod(value);
                if (arg == "--policy") options.policy = value;
                if (arg == "--compare") options.compare = std::stoll(value);
                if (arg == "--run") options.reopen = std::stoll(value);
                if (arg == "--calibration") {
                    if (std::string(value) != "paper" && std::string(value) != "profile")
                        return usage("--calibration must be paper or profile");
                    options.calibration = value;
                }
                if (arg == "--screenshot") options.screenshot = value;
                if (arg == "--frames") options.frames = std::max(1, std::stoi(value));
                if (arg == "--size") {
                    const std::string text = value;
                    const auto x = text.find('x');
                    if (x == std::string::npos) return usage("--size must be WxH");
                    options.width = std::stoi(text.substr(0, x));
                    options.height = std::stoi(text.substr(x + 1));
                }
            } catch (const std::exception&) {
                return usage("bad value for " + arg + ": '" + value + "'");
            }
        } else if (!arg.empty() && arg[0] == '-') {
            return usage("unknown option " + arg);
        } else if (options.modelDir.empty() && options.inputs.empty() &&
                   std::filesystem::exists(std::filesystem::path(arg) / "config.json")) {
            options.modelDir = arg;  // the first positional that looks like a model directory
        } else {
            options.inputs.push_back(arg);
        }
    }
    ponder::studio::Studio studio(std::move(options));
    return studio.run();
}
