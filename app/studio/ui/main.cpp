// ponder-studio [MODEL_DIR] [FILE|DIR...] [--model DIR] [--open FILE] [--rate R] [--policy P]
// [--calibration C] [--compare RUN] [--run RUN] [--screenshot OUT.png --frames N]
// [--frame-stats]: the desktop workbench (design.md §10). The command line is parsed in
// studio_args.cpp, so tests check it without a window.
#include <iostream>
#include <string>
#include <vector>

#include "app/studio/ui/studio_app.h"
#include "app/studio/ui/studio_args.h"

int main(int argc, char** argv) {
    auto args = ponder::studio::parseStudioArgs(std::vector<std::string>(argv + 1, argv + argc));
    if (args.exitCode) {
        std::cout << args.out;
        std::cerr << args.err;
        return *args.exitCode;
    }
    ponder::studio::Studio studio(std::move(args.options));
    return studio.run();
}
