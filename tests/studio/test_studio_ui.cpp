// The studio's window-free UI pieces: the command line (which positional is the model, one-line
// errors before any window), the model chooser's refusal, history rows, and the run controls
// driven headless (Cancel stays put, Quit asks while busy).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <imgui.h>
#include <unistd.h>

#include "app/studio/ui/history_row.h"
#include "app/studio/ui/run_controls.h"
#include "app/studio/ui/studio_args.h"

using namespace ponder::studio;
namespace fs = std::filesystem;

namespace {

// A model directory (config.json is all the studio checks before a run) and a plain folder.
struct Folders {
    fs::path root = fs::temp_directory_path() / ("studio-ui-" + std::to_string(::getpid()));
    fs::path model = root / "tiny-model", plain = root / "code";
    Folders() {
        fs::create_directories(model);
        fs::create_directories(plain);
        std::ofstream(model / "config.json") << "{}";
    }
    ~Folders() {
        std::error_code ignored;
        fs::remove_all(root, ignored);
    }
};

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find('\n', start);
        out.push_back(text.substr(start, end - start));
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return out;
}

// One ImGui context with a built font atlas and no renderer (as in test_viz_widget.cpp).
class Harness {
public:
    Harness() {
        m_context = ImGui::CreateContext();
        ImGuiIO& io = ImGui::GetIO();
        io.DisplaySize = ImVec2(1280, 800);
        io.IniFilename = nullptr;
        io.DeltaTime = 1.0f / 60.0f;
        unsigned char* pixels = nullptr;
        int w = 0, h = 0;
        io.Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);
    }
    ~Harness() { ImGui::DestroyContext(m_context); }
    void frame(const std::function<void()>& body) {
        ImGui::NewFrame();
        ImGui::SetNextWindowPos(ImVec2(0, 0));
        ImGui::SetNextWindowSize(ImGui::GetIO().DisplaySize);
        ImGui::Begin("studio", nullptr, ImGuiWindowFlags_NoDecoration);
        body();
        ImGui::End();
        ImGui::Render();
    }
    // Moves there, presses and releases, one frame each (ImGui needs the hover first).
    void click(ImVec2 at, const std::function<void()>& body) {
        ImGui::GetIO().MousePos = at;
        frame(body);
        ImGui::GetIO().MouseDown[0] = true;
        frame(body);
        ImGui::GetIO().MouseDown[0] = false;
        frame(body);
    }

private:
    ImGuiContext* m_context;
};

}  // namespace

TEST_CASE("studio: a model path that is not a model directory is one error line, exit 2",
          "[studio][args]") {
    const auto args = parseStudioArgs({"/nonexistent/model", "file.py"});
    REQUIRE(args.exitCode);
    CHECK(*args.exitCode == 2);
    // One error line naming the path (core::checkModelDirectory's words), one hint line.
    const auto err = lines(args.err);
    REQUIRE(err.size() == 2);
    CHECK(err[0].rfind("error: ", 0) == 0);
    CHECK(err[0].find("'/nonexistent/model'") != std::string::npos);
    CHECK(err[1].rfind("hint: ", 0) == 0);
    CHECK(err[1].find("MODEL_DIR FILE") != std::string::npos);

    const auto flag = parseStudioArgs({"--model", "/nonexistent"});
    REQUIRE(flag.exitCode);
    CHECK(*flag.exitCode == 2);
    REQUIRE(lines(flag.err).size() == 2);
    CHECK(lines(flag.err)[0].find("'/nonexistent'") != std::string::npos);
    CHECK(lines(flag.err)[1].find("--model") != std::string::npos);

    Folders folders;  // a folder without config.json is no model either
    const auto plain = parseStudioArgs({folders.plain.string(), "a.py"});
    REQUIRE(plain.exitCode);
    CHECK(lines(plain.err).at(0).find("config.json") != std::string::npos);
}

TEST_CASE("studio: every evaluation option of ponder eval reaches the run request",
          "[studio][args]") {
    Folders folders;
    const auto args = parseStudioArgs({folders.model.string(),
                                       "a.py",
                                       "--mode",
                                       "paper",
                                       "--chunk",
                                       "256",
                                       "--max-units",
                                       "8",
                                       "--shuffle",
                                       "--causal-k",
                                       "-1",
                                       "--dtype",
                                       "bf16",
                                       "--fast",
                                       "--ext",
                                       "py",
                                       "--policy",
                                       "recon-ema",
                                       "--policy",
                                       "multi-signal",
                                       "--seed",
                                       "7",
                                       "--threshold",
                                       "0.3",
                                       "--force-gate",
                                       "--lookahead",
                                       "--advanced-std",
                                       "published",
                                       "--calibration-file",
                                       "cal.json"});
    REQUIRE_FALSE(args.exitCode);
    const auto& request = args.options.evaluation;
    CHECK(request.mode == ponder::core::EvalMode::Paper);
    CHECK(request.chunk == 256);
    REQUIRE(request.maxUnits);
    CHECK(*request.maxUnits == 8);
    CHECK(request.shuffle);
    CHECK(request.causalK == std::optional<std::int64_t>(-1));
    CHECK(request.bf16);
    CHECK(request.fast);
    CHECK(request.extensions == std::vector<std::string>{"py"});
    CHECK(args.options.policy == std::optional<std::string>("recon-ema"));
    CHECK(args.options.extraPolicies == std::vector<std::string>{"multi-signal"});
    const auto& gating = request.gating;  // what the Tune pane has no control for
    CHECK(gating.seed == std::optional<std::uint64_t>(7));
    CHECK(gating.threshold == std::optional<double>(0.3));
    CHECK(gating.forceGate);
    CHECK(gating.lookahead);
    CHECK(gating.advancedStd == std::optional<std::string>("published"));
    CHECK(gating.calibrationFile == "cal.json");
    for (const auto& bad : std::vector<std::vector<std::string>>{{"--mode", "batch"},
                                                                 {"--chunk", "0"},
                                                                 {"--max-units", "-3"},
                                                                 {"--causal-k", "2"},
                                                                 {"--dtype", "f16"}}) {
        auto line = bad;
        line.insert(line.begin(), {folders.model.string(), "a.py"});
        const auto refused = parseStudioArgs(line);
        INFO(bad[0] << " " << bad[1]);
        CHECK(refused.exitCode == std::optional<int>(2));
        CHECK(refused.err.rfind("error: bad value for " + bad[0], 0) == 0);
    }
}

TEST_CASE("studio: which positional is the model", "[studio][args]") {
    Folders folders;
    const std::string model = folders.model.string(), plain = folders.plain.string();
    SECTION("two or more: the first") {
        const auto args = parseStudioArgs({model, "a.py", "--open", "b.py", "c.py"});
        REQUIRE_FALSE(args.exitCode);
        CHECK(args.options.modelDir == model);
        CHECK(args.options.inputs == std::vector<std::string>{"a.py", "b.py", "c.py"});
    }
    SECTION("one: the model when it holds config.json") {
        const auto args = parseStudioArgs({model});
        REQUIRE_FALSE(args.exitCode);
        CHECK(args.options.modelDir == model);
        CHECK(args.options.inputs.empty());
    }
    SECTION("one: else an input (a file or a folder of code)") {
        for (const std::string& input : {std::string("file.py"), plain}) {
            const auto args = parseStudioArgs({input});
            REQUIRE_FALSE(args.exitCode);
            CHECK(args.options.modelDir.empty());
            CHECK(args.options.inputs == std::vector<std::string>{input});
        }
    }
    SECTION("with --model, every positional is an input") {
        const auto args = parseStudioArgs({"x.py", "--model", model, "y.py"});
        REQUIRE_FALSE(args.exitCode);
        CHECK(args.options.modelDir == model);
        CHECK(args.options.inputs == std::vector<std::string>{"x.py", "y.py"});
    }
    SECTION("options keep working") {
        const auto args = parseStudioArgs(
            {"--rate", "0.3", "--size", "800x600", "--frames", "5", "--frame-stats", model});
        REQUIRE_FALSE(args.exitCode);
        CHECK(*args.options.rate == Approx(0.3));
        CHECK(args.options.width == 800);
        CHECK(args.options.height == 600);
        CHECK(args.options.frames == 5);
        CHECK(args.options.frameStats);
        const auto more =
            parseStudioArgs({"--policy", "recon-ema", "--policy", "multi-signal", "--signal",
                             "recon_step0", "--alpha", "0.2", "--dump-view", "v.json",
                             "--batch-export", "out", "--batch-rates", "0.3, 0.7", model});
        REQUIRE_FALSE(more.exitCode);
        CHECK(*more.options.policy == "recon-ema");
        CHECK(more.options.extraPolicies == std::vector<std::string>{"multi-signal"});
        CHECK(*more.options.signal == "recon_step0");
        CHECK(*more.options.alpha == Approx(0.2));
        CHECK(more.options.dumpView == "v.json");
        CHECK(more.options.batchExport == "out");
        CHECK(more.options.batchRates == "0.3, 0.7");
        CHECK(parseStudioArgs({"--bogus"}).exitCode == 2);
        CHECK(parseStudioArgs({"--rate"}).exitCode == 2);
        CHECK(parseStudioArgs({"--calibration", "x"}).exitCode == 2);
        const auto help = parseStudioArgs({"--help"});
        CHECK(help.exitCode == 0);
        CHECK(help.out.find("--model DIR") != std::string::npos);
    }
}

TEST_CASE("studio: the model check refuses a folder without config.json, with a hint",
          "[studio][args]") {
    Folders folders;
    const auto refused = modelDirError(folders.plain);
    REQUIRE(refused);
    CHECK(refused->level == LogLine::Level::Error);
    CHECK(refused->text.find(folders.plain.string()) != std::string::npos);
    CHECK_FALSE(refused->hint.empty());
    CHECK(modelDirError("/nonexistent/model"));
    CHECK_FALSE(modelDirError(folders.model));
}

TEST_CASE("studio: a history row names its files, mode, model and status", "[studio][history]") {
    ponder::core::RunSummary run;
    run.id = 7;
    run.mode = "file";
    run.modelDir = "/models/tiny-model/";
    run.status = ponder::core::RunStatus::Cancelled;
    run.units = 42;
    run.files = 3;
    run.tokens = 9000;
    run.startedAt = "2024-05-01T10:00:00Z";

    const auto counted = historyRow(run);  // RunSummary alone: the files are counted
    CHECK(counted.heading == "#7  3 files");
    CHECK(counted.detail == "file  tiny-model  cancelled");
    CHECK(counted.tooltip.find("/models/tiny-model/") != std::string::npos);
    CHECK(counted.tooltip.find("2024-05-01T10:00:00Z") != std::string::npos);
    CHECK(counted.tooltip.find("42 units") != std::string::npos);

    run.label = "baseline";
    const std::vector<std::string> inputs = {"/src/json/decoder.py", "/src/json/encoder.py",
                                             "/src/json/scanner.py"};
    const auto named = historyRow(run, inputs);
    CHECK(named.heading == "#7  baseline  decoder.py +2 more");
    for (const auto& input : inputs)
        CHECK(named.tooltip.find(input) != std::string::npos);

    run.files = 1;
    CHECK(historyRow(run, {"/src/one.py"}).heading == "#7  baseline  one.py");
}

TEST_CASE("studio: Cancel stays under the mouse while the progress text grows",
          "[studio][controls]") {
    Harness h;
    std::string text = "3/340 units  812 tokens/s  ETA 9 s";
    bool cancelled = false;
    ImVec2 origin;
    const auto body = [&] {
        origin = ImGui::GetCursorScreenPos();
        cancelled |= progressWithCancel(0.01f, text, 240, 70);
    };
    h.frame(body);
    const ImVec2 onCancel(origin.x + 6, origin.y + 0.5f * ImGui::GetFrameHeight());
    // The ETA text is now much longer: the same spot still cancels.
    text = "300/340 units  81234 tokens/s  ETA 123456 s (estimating from the first chunks)";
    h.click(onCancel, body);
    CHECK(cancelled);
}

TEST_CASE("studio: Quit asks first while a run is busy, and quits at once when idle",
          "[studio][controls]") {
    Harness h;
    QuitPrompt prompt;
    bool busy = false, quit = false;
    const auto body = [&] { quit |= prompt.draw(busy); };

    prompt.request();
    h.frame(body);
    CHECK(quit);  // nothing running: no question

    quit = false;
    busy = true;
    prompt.request();
    h.frame(body);
    CHECK_FALSE(quit);
    CHECK(ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId));
    h.frame(body);  // laid out: the buttons have their places
    h.click(prompt.keepButtonCentre(), body);
    CHECK_FALSE(quit);
    CHECK_FALSE(ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId));

    prompt.request();
    h.frame(body);
    h.frame(body);
    h.click(prompt.quitButtonCentre(), body);
    CHECK(quit);
}
