// ponder-studio's command line (see studio_args.h).
#include "app/studio/ui/studio_args.h"

#include <algorithm>

#include "core/model/model_dir.h"

namespace ponder::studio {

namespace fs = std::filesystem;

namespace {

constexpr const char* kUsage =
    "ponder-studio [MODEL_DIR] [FILE|DIR...] [--model DIR] [--open FILE] [--rate R] "
    "[--policy P]... [--compare RUN] [--run RUN] [--batch-export DIR] "
    "[--screenshot OUT.png --frames N [--dump-view JSON]] [--frame-stats] (--help: all)";

constexpr const char* kHelp =
    "ponder-studio [MODEL_DIR] [FILE|DIR...]: the PonderTTT desktop workbench.\n"
    "  With two or more paths the first is the model directory; a single path is the model\n"
    "  when it is a folder holding config.json, else a file or folder to evaluate.\n"
    "  --model DIR        model directory (default: assets/default-model)\n"
    "  --open FILE        a file or folder to evaluate (repeatable)\n"
    "  --rate R           initial target update rate (0..1)\n"
    "  --policy NAME      initial policy, e.g. recon-ema or gate:DIR; repeated: the\n"
    "                     others are replayed beside it\n"
    "  --signal NAME      initial gating signal (e.g. recon_step0)\n"
    "  --alpha A          initial EMA alpha\n"
    "  --calibration C    paper | profile (default: profile when the model has\n"
    "                     a calibration.json, else paper)\n"
    "  Evaluation, as `ponder eval` takes it (also under Run settings):\n"
    "  --mode file|paper  units: one chunk of one file, or the published batches\n"
    "  --chunk N          tokens per chunk (512)\n"
    "  --ext EXT          file extensions of a folder (repeatable; default: code files)\n"
    "  --max-units N      the first N units in data order\n"
    "  --shuffle          the shuffle ablation; --causal-k -1: the diagonal one\n"
    "  --dtype f32|bf16   the backbone's dtype (bf16: held and computed in bfloat16)\n"
    "  --fast             the gated fast path (Ours decides before the UPDATE path)\n"
    "  Gating, as `ponder eval` takes it: --seed S, --threshold T, --calibration-file F,\n"
    "  --advanced-std running|published, --force-gate, --lookahead\n"
    "  --compare RUN      overlay this stored run (an id from the history)\n"
    "  --run RUN          open this stored run (an evaluation or a `ponder\n"
    "                     generate --db` stream) instead of evaluating\n"
    "  --screenshot PNG   render, save the window after the run, and exit\n"
    "  --dump-view JSON   with --screenshot: also the summary table's numbers\n"
    "  --batch-export DIR batch export into DIR instead of a run (--batch-rates\n"
    "                     \"0.25, 0.5, 0.75\" by default)\n"
    "  --frames N         frames to render before the screenshot (30)\n"
    "  --screenshot-timeout S  seconds to wait for the run before them (300)\n"
    "  --size WxH         window size (default: as last closed; 1280x800)\n"
    "  --select UNIT      select this chunk once the run has it (plots, tables,\n"
    "                     source and the per-token plot show it)\n"
    "  --frame-stats      print p50/p95/max frame time during runs at exit\n";

StudioArgs fail(const std::string& reason, const std::string& hint = kUsage) {
    StudioArgs out;
    out.exitCode = 2;
    out.err = "error: " + reason + "\nhint: " + hint + "\n";
    return out;
}

// The evaluation options `ponder eval` has, into the run request; false for a bad value.
// Options that are not evaluation options are left alone (true).
bool setEvaluationOption(RunRequest& request, const std::string& arg, const std::string& value) {
    if (arg == "--mode") {
        if (value != "file" && value != "paper") return false;
        request.mode = value == "paper" ? core::EvalMode::Paper : core::EvalMode::File;
    } else if (arg == "--chunk") {
        request.chunk = std::stoll(value);
        return request.chunk > 0;
    } else if (arg == "--max-units") {
        const long long limit = std::stoll(value);
        if (limit < 1) return false;
        request.maxUnits = std::size_t(limit);
    } else if (arg == "--ext") {
        request.extensions.push_back(value);
    } else if (arg == "--causal-k") {
        if (value != "0" && value != "-1") return false;
        request.causalK = std::stoll(value);
    } else if (arg == "--dtype") {
        if (value != "f32" && value != "bf16") return false;
        request.bf16 = value == "bf16";
    }
    return true;
}

}  // namespace

std::optional<LogLine> modelDirError(const fs::path& dir) {
    try {
        core::checkModelDirectory(dir);
        return std::nullopt;
    } catch (...) {
        return errorLine(std::current_exception());
    }
}

namespace {

// Inputs in command-line order; `positional` tells which may be the model.
struct Input {
    bool positional;
    std::string path;
};

// The options without a value; false for any other argument.
bool setFlag(StudioOptions& options, const std::string& arg) {
    auto& gating = options.evaluation.gating;
    if (arg == "--frame-stats")
        options.frameStats = true;
    else if (arg == "--shuffle")
        options.evaluation.shuffle = true;
    else if (arg == "--fast")
        options.evaluation.fast = true;
    else if (arg == "--force-gate")
        gating.forceGate = true;
    else if (arg == "--lookahead")
        gating.lookahead = true;
    else
        return false;
    return true;
}

bool takesValue(const std::string& arg) {
    static const char* const kValued[] = {
        "--model",        "--open",         "--rate",
        "--screenshot",   "--frames",       "--size",
        "--compare",      "--run",          "--calibration",
        "--policy",       "--signal",       "--alpha",
        "--dump-view",    "--batch-export", "--batch-rates",
        "--mode",         "--chunk",        "--ext",
        "--max-units",    "--causal-k",     "--dtype",
        "--seed",         "--threshold",    "--calibration-file",
        "--advanced-std", "--select",       "--screenshot-timeout"};
    return std::find(std::begin(kValued), std::end(kValued), arg) != std::end(kValued);
}

// The gating options (as `ponder eval` takes them) and the evaluation's; a failure, or none.
std::optional<StudioArgs> setRunOption(StudioOptions& options, const std::string& arg,
                                       const std::string& value) {
    if (arg == "--rate") options.rate = std::stod(value);
    if (arg == "--policy") {  // the first is Ours, more are replayed beside it
        if (options.policy)
            options.extraPolicies.push_back(value);
        else
            options.policy = value;
    }
    if (arg == "--signal") options.signal = value;
    if (arg == "--alpha") options.alpha = std::stod(value);
    if (arg == "--calibration") {
        if (value != "paper" && value != "profile")
            return fail("--calibration must be paper or profile");
        options.calibration = value;
    }
    auto& gating = options.evaluation.gating;
    if (arg == "--seed") gating.seed = std::stoull(value);
    if (arg == "--threshold") gating.threshold = std::stod(value);
    if (arg == "--calibration-file") gating.calibrationFile = value;
    if (arg == "--advanced-std") gating.advancedStd = value;
    if (!setEvaluationOption(options.evaluation, arg, value))
        return fail("bad value for " + arg + ": '" + value + "'",
                    "--mode file|paper, --chunk N > 0, --max-units N > 0, "
                    "--causal-k 0|-1, --dtype f32|bf16");
    return std::nullopt;
}

// The studio's own options: stored runs, screenshots, batch export, the window.
std::optional<StudioArgs> setWindowOption(StudioOptions& options, const std::string& arg,
                                          const std::string& value) {
    if (arg == "--dump-view") options.dumpView = value;
    if (arg == "--batch-export") options.batchExport = value;
    if (arg == "--batch-rates") options.batchRates = value;
    if (arg == "--compare") options.compare = std::stoll(value);
    if (arg == "--run") options.reopen = std::stoll(value);
    if (arg == "--select") options.select = std::stoll(value);
    if (arg == "--screenshot-timeout") options.screenshotTimeout = std::max(1.0, std::stod(value));
    if (arg == "--screenshot") options.screenshot = value;
    if (arg == "--frames") options.frames = std::max(1, std::stoi(value));
    if (arg == "--size") {
        const auto x = value.find('x');
        if (x == std::string::npos) return fail("--size must be WxH");
        options.width = std::stoi(value.substr(0, x));
        options.height = std::stoi(value.substr(x + 1));
    }
    return std::nullopt;
}

// Which positional is the model (design.md §10: `ponder-studio [MODEL_DIR] [FILE|DIR...]`),
// the rest become the inputs; a named model that is not one fails now, not once the window
// is up and a run started.
std::optional<StudioArgs> placeInputs(StudioOptions& options, std::vector<Input> inputs,
                                      bool fromFlag) {
    const auto positionals = std::count_if(inputs.begin(), inputs.end(),
                                           [](const Input& input) { return input.positional; });
    const auto first = std::find_if(inputs.begin(), inputs.end(),
                                    [](const Input& input) { return input.positional; });
    if (options.modelDir.empty() && first != inputs.end() &&
        (positionals >= 2 || !modelDirError(first->path))) {
        options.modelDir = first->path;
        inputs.erase(first);
    }
    for (auto& input : inputs)
        options.inputs.push_back(std::move(input.path));
    if (options.modelDir.empty()) return std::nullopt;
    const auto error = modelDirError(options.modelDir);
    if (!error) return std::nullopt;
    const std::string rule = fromFlag
                                 ? " (--model names the folder holding config.json and the weights)"
                                 : " (with two or more paths the first is the model directory: "
                                   "ponder-studio MODEL_DIR FILE...; --open FILE adds inputs only)";
    return fail(error->text, error->hint + rule);
}

}  // namespace

StudioArgs parseStudioArgs(const std::vector<std::string>& args) {
    StudioArgs parsed;
    StudioOptions& options = parsed.options;
    std::vector<Input> inputs;
    bool fromFlag = false;  // the model came from --model (for the hint)
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--help" || arg == "-h") {
            StudioArgs help;
            help.exitCode = 0;
            help.out = kHelp;
            return help;
        }
        if (setFlag(options, arg)) continue;
        if (!takesValue(arg)) {
            if (!arg.empty() && arg[0] == '-') return fail("unknown option " + arg);
            inputs.push_back({true, arg});
            continue;
        }
        if (i + 1 >= args.size()) return fail(arg + " needs a value");
        const std::string& value = args[++i];
        if (arg == "--model") {
            options.modelDir = value;
            fromFlag = true;
        }
        if (arg == "--open") inputs.push_back({false, value});
        try {
            if (auto failure = setRunOption(options, arg, value)) return *failure;
            if (auto failure = setWindowOption(options, arg, value)) return *failure;
        } catch (const std::exception&) {
            return fail("bad value for " + arg + ": '" + value + "'");
        }
    }
    if (auto failure = placeInputs(options, std::move(inputs), fromFlag)) return *failure;
    return parsed;
}

}  // namespace ponder::studio
