// ponder-studio's command line, parsed without opening a window (so tests can call it). A named
// model directory is checked as the model chooser checks it (core::checkModelDirectory).
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "app/studio/state/log_line.h"
#include "app/studio/ui/studio_app.h"

namespace ponder::studio {

struct StudioArgs {
    StudioOptions options;
    std::optional<int> exitCode;  // set: print `out` and `err`, then exit with it (no window)
    std::string out, err;         // stdout (--help) and stderr (an error line and a hint line)
};

// `args` without the program name. Positionals: with two or more, the first is the model
// directory and the rest are inputs; a single one is the model when it is a directory holding
// config.json, else an input; with --model they are all inputs. A model directory that was
// named but is not one is exit 2 with one error line and a hint, before any window opens.
StudioArgs parseStudioArgs(const std::vector<std::string>& args);

// Why `dir` is not a model directory (core::checkModelDirectory: a folder holding config.json),
// as an error line with its hint; nullopt when it is one. The engine checks the files
// themselves when it loads them; this only catches the wrong folder, before any window.
std::optional<LogLine> modelDirError(const std::filesystem::path& dir);

}  // namespace ponder::studio
