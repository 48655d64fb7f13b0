// The studio's window, main loop (idle when nothing changes), actions,
// shortcuts, toasts and the --screenshot path used by the tests.
#include "app/studio/ui/studio_app.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <iterator>

#define GL_SILENCE_DEPRECATION
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>
#include <stb_image_write.h>

#include "app/studio/state/view_dump.h"
#include "core/gating/calibration.h"
#include "core/model/model_dir.h"
#include "core/model/ttt_config.h"
#include "core/report/exports.h"
#include "core/runtime/runtime.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"
#include "core/util/sha256.h"
#include "viz/figure_export.h"

namespace ponder::studio {

namespace fs = std::filesystem;

namespace {

// Chosen by scripts/choose_demo_file.sh from the held-out split (see the model card).
constexpr const char* kDefaultFile = "/usr/lib/python3.11/_pydecimal.py";

std::string defaultModelDir() {
    for (const fs::path& candidate :
         {fs::path("assets/default-model"), fs::path(PONDER_SOURCE_DIR) / "assets/default-model"})
        if (fs::exists(candidate / "config.json")) return candidate.string();
    return {};
}

// The calibration a new run on `modelDir` gets (core's one default: profile when the model has
// a calibration.json the policy can use), so the Tune pane shows it before the run resolves it.
std::string defaultCalibration(const std::string& modelDir, const std::string& policy) {
    core::SettingsOverrides overrides;
    overrides.calibration = "auto";
    overrides.policies = {policy};
    try {
        return core::resolveSettings({}, overrides, modelDir).ours.calibration;
    } catch (const core::PonderError&) {
        return "paper";  // the run itself reports a damaged file or a bad policy
    }
}

// The model's calibration.json, for switching a paper run to profile; none when absent or
// damaged (the run that needs it says why).
std::optional<core::Calibration> modelCalibration(const fs::path& modelDir) {
    try {
        const auto file = modelDir / "calibration.json";
        if (fs::exists(file)) return core::loadCalibration(file);
    } catch (const core::PonderError&) {
    }
    return std::nullopt;
}

// Reads the back buffer (before the swap) and writes it top row first as PNG.
bool saveFramebuffer(const std::string& path, int width, int height) {
    std::vector<unsigned char> pixels(std::size_t(width) * height * 4);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadBuffer(GL_BACK);
    glReadPixels(0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE, pixels.data());
    std::vector<unsigned char> flipped(pixels.size());
    const std::size_t row = std::size_t(width) * 4;
    for (int y = 0; y < height; ++y)
        std::copy_n(&pixels[std::size_t(height - 1 - y) * row], row,
                    &flipped[std::size_t(y) * row]);
    return stbi_write_png(path.c_str(), width, height, 4, flipped.data(), int(row)) != 0;
}

}  // namespace

Studio::Studio(StudioOptions options) : m_options(std::move(options)) {
    m_configDir = configDir();
    m_settings = loadSettings(m_configDir / "settings.json");
    m_iniPath = (m_configDir / "imgui.ini").string();
    if (!m_options.modelDir.empty())
        m_settings.modelDir = m_options.modelDir;
    else if (m_settings.modelDir.empty() ||
             !fs::exists(fs::path(m_settings.modelDir) / "config.json"))
        m_settings.modelDir = defaultModelDir();  // a saved folder that is no model any more
    m_inputs = m_options.inputs;
    if (m_inputs.empty()) m_inputs = {kDefaultFile};
    auto tune = m_state.tune();
    if (m_options.rate) tune.rate = std::clamp(*m_options.rate, 0.0, 1.0);
    if (m_options.policy) tune.policy = *m_options.policy;  // a bad one shows as replay error
    if (m_options.alpha) tune.alpha = *m_options.alpha;
    if (m_options.signal) {
        try {
            tune.signal = core::parseSignal(*m_options.signal);
        } catch (...) {
            report(errorLine(std::current_exception()));
        }
    }
    m_state.setExtraPolicies(m_options.extraPolicies);
    m_runOptions = m_options.evaluation;
    tune.calibration =
        m_options.calibration.value_or(defaultCalibration(m_settings.modelDir, tune.policy));
    m_state.setTune(tune);
    m_browseDir = fs::path(m_inputs.front()).parent_path();
    if (m_browseDir.empty()) m_browseDir = fs::current_path();
    std::snprintf(m_exportDir, sizeof m_exportDir, "%s", (m_configDir / "export").c_str());
    std::snprintf(m_batchDir, sizeof m_batchDir, "%s", (m_configDir / "batch-export").c_str());
    m_datasetsRoot = findDatasetsRoot();
    // One widget per figure of viz::runFigures, in its order.
    for (const char* id : {"signal", "advantage", "decisions", "scatter", "sweep"})
        m_plots.emplace_back(id);
}

Studio::~Studio() {
    m_worker.cancel();
    m_worker.join();
    m_batch.cancel();
    m_batch.join();
    try {
        saveSettings(m_settings, m_configDir / "settings.json");
    } catch (const std::exception& error) {
        std::cerr << "warning: settings not saved: " << error.what() << "\n";
    }
}

void Studio::report(LogLine line) {
    if (line.level != LogLine::Level::Info) {
        Toast toast;
        toast.text = line.text + (line.hint.empty() ? "" : "\n" + line.hint);
        toast.error = line.level == LogLine::Level::Error;
        toast.until = std::chrono::steady_clock::now() + std::chrono::seconds(6);
        m_toasts.push_back(toast);
        std::cerr << (toast.error ? "error: " : "warning: ") << line.text << "\n";
    }
    m_log.push_back(std::move(line));
}

void Studio::startRun() {
    try {
        core::checkModelDirectory(m_settings.modelDir);  // the path in the message
    } catch (const core::PonderError& error) {
        m_modelMissing = true;
        report({LogLine::Level::Error, error.what(),
                "choose one with File > Open model... (a folder with config.json)"});
        return;
    }
    if (m_batch.busy()) {
        report({LogLine::Level::Warning, "a batch export is running",
                "wait for it or cancel it in File > Batch export..."});
        return;
    }
    m_modelMissing = false;
    RunRequest request = newRunRequest();
    ++m_runGeneration;  // a reopen still in flight must not replace this run
    m_sourceNotes.clear();
    m_frameStats.clear();
    m_uiWorkStats.clear();
    m_replayWorkStats.clear();
    m_runId.reset();
    m_state.title = fs::path(m_inputs.front()).filename().string();
    if (m_inputs.size() > 1) m_state.title += " + " + std::to_string(m_inputs.size() - 1) + " more";
    m_state.setCalibration(modelCalibration(request.modelDir));
    m_state.setFileSha256({});
    m_state.reset({});
    m_pendingUnits.clear();  // the last run's, not yet taken in
    m_sourceFile = 0;
    m_xAxis.fit();
    m_worker.start(std::move(request));
    m_screenshotFrames = 0;
    m_historyDirty = true;
}

RunRequest Studio::newRunRequest() const {
    // Every evaluation option the CLI has (Run settings, or the command line), then the model,
    // the inputs and the tune as core's overrides: the session resolves and stores the rest.
    RunRequest request = m_runOptions;
    request.modelDir = m_settings.modelDir;
    request.inputs = m_inputs;
    request.threads = m_settings.threads;
    request.device = m_settings.device;
    request.database = databasePath();
    // The tune's overrides on top of the command line's other gating options.
    const auto tune = m_state.tuneOverrides();
    request.gating.policies = tune.policies;
    request.gating.rate = tune.rate;
    request.gating.alpha = tune.alpha;
    request.gating.signal = tune.signal;
    request.gating.calibration = tune.calibration;
    return request;
}

void Studio::chooseModel(const std::string& dir) {
    try {
        core::checkModelDirectory(dir);
    } catch (...) {
        // Refused, not saved: a saved non-model would fail every later start's run.
        report(errorLine(std::current_exception()));
        return;
    }
    m_settings.modelDir = dir;
    m_modelMissing = false;
    m_modelSummaryFor.clear();
    // A new model: the calibration default is decided again (it may have a calibration.json).
    auto tune = m_state.tune();
    tune.calibration = defaultCalibration(dir, tune.policy);
    m_state.setTune(tune);
    m_state.setCalibration(modelCalibration(dir));
    report({LogLine::Level::Info, "model: " + dir, {}});
}

void Studio::openInputs(std::vector<std::string> inputs, bool run) {
    if (inputs.empty()) return;
    for (const auto& input : inputs)
        m_settings.addRecent(input);
    m_inputs = std::move(inputs);
    if (run) startRun();
}

void Studio::onDrop(std::vector<std::string> paths) {
    openInputs(std::move(paths), true);
}

void Studio::refreshHistory() {
    m_historyDirty = false;
    try {
        if (!fs::exists(databasePath())) return;
        core::RunStore store(databasePath());
        m_history = store.listRuns();
        std::reverse(m_history.begin(), m_history.end());  // newest first
    } catch (...) {
        report(errorLine(std::current_exception(), LogLine::Level::Warning));
    }
}

void Studio::reopenRun(std::int64_t id, bool compare) {
    if (!compare && m_worker.busy()) {
        report({LogLine::Level::Warning, "a run is in progress", "cancel it first (Esc)"});
        return;
    }
    if (m_reopening.valid()) {
        report({LogLine::Level::Warning, "still opening a run", "try again in a moment"});
        return;
    }
    // Loading and re-tokenizing (for the heat map) may take a while: off the UI thread.
    m_reopening = std::async(
        std::launch::async, [db = databasePath(), id, compare, generation = m_runGeneration] {
            Reopened out;
            out.id = id;
            out.compare = compare;
            out.generation = generation;
            try {
                core::RunStore store(db);
                auto stored = store.loadRun(id);
                out.title = stored.summary.label.empty() ? "run " + std::to_string(id)
                                                         : stored.summary.label;
                if (!compare) out.files = reopenFiles(stored);
                // The settings it was shown with, as `ponder export --run` replays them.
                out.settings = core::replaySettings(stored);
                out.modelDir = stored.description.modelDir;
                out.description = stored.description;
                out.inputs = stored.description.inputs;
                for (const auto& file : stored.inputFiles)
                    out.fileSha256.push_back(file.sha256);
                out.units = std::move(stored.units);
                out.tttSha256 = stored.description.tttSha256;
                out.updateSteps = core::updateStepsOf(stored.description.tttConfigJson);
                if (!compare) out.calibration = modelCalibration(out.modelDir);
            } catch (...) {
                const auto line = errorLine(std::current_exception());
                out.error = line.text;
                out.hint = line.hint;
            }
            return out;
        });
}

void Studio::pollReopen() {
    using namespace std::chrono_literals;
    if (!m_reopening.valid() || m_reopening.wait_for(0s) != std::future_status::ready) return;
    Reopened run = m_reopening.get();
    m_activeFrames = 3;
    if (!run.error.empty()) {
        report({LogLine::Level::Error, run.error, run.hint});
        return;
    }
    if (run.compare) {
        m_state.setCompare(CompareRun{run.id, run.title, std::move(run.units), run.tttSha256,
                                      run.updateSteps, std::move(run.settings),
                                      std::move(run.fileSha256)});
        report({LogLine::Level::Info, "comparing with run " + std::to_string(run.id), {}});
        if (!m_state.compareNote().empty())
            report({LogLine::Level::Warning, m_state.compareNote(), {}});
        return;
    }
    if (run.generation != m_runGeneration || m_worker.busy()) return;  // a run started since
    std::vector<core::PlanFile> files;
    m_sourceNotes.clear();
    for (auto& file : run.files) {
        files.push_back(std::move(file.file));
        m_sourceNotes.push_back(std::move(file.note));
    }
    m_state.title = run.title;
    m_state.setRunFacts(run.tttSha256, run.updateSteps);
    m_state.setCalibration(std::move(run.calibration));
    m_state.reset(std::move(files));
    m_pendingUnits.clear();
    m_state.setFileSha256(std::move(run.fileSha256));
    m_state.setRunSettings(std::move(run.settings));
    m_state.setUnits(std::move(run.units));
    m_runId = run.id;
    // Run evaluates what is shown: the run's own inputs, model and units.
    if (!run.inputs.empty()) m_inputs = run.inputs;
    if (run.description.mode == "file" || run.description.mode == "paper") {
        m_runOptions.mode =
            run.description.mode == "paper" ? core::EvalMode::Paper : core::EvalMode::File;
        m_runOptions.chunk = run.description.chunk;
        m_runOptions.shuffle = run.description.shuffle;
        m_runOptions.causalK =
            run.description.causalK == -1 ? std::optional<std::int64_t>(-1) : std::nullopt;
    }
    if (!run.modelDir.empty() && fs::exists(fs::path(run.modelDir) / "config.json"))
        m_settings.modelDir = run.modelDir;
    m_sourceFile = 0;
    m_xAxis.fit();
    report({LogLine::Level::Info, "reopened run " + std::to_string(run.id), {}});
}

void Studio::exportCurrent(const fs::path& dir) {
    try {
        std::size_t written = 0;
        if (m_runId) {
            core::RunStore store(databasePath());
            // The settings on screen, resolved by core: the files hold the numbers shown.
            written +=
                core::exportRuns({store.loadRun(*m_runId)}, m_state.analysisSettings(), dir).size();
        }
        fs::create_directories(dir);
        // The figures `ponder export --figures` writes, from the data on screen (so the
        // compared run's overlay comes along).
        app::FigureFormats formats;
        formats.images = {viz::ImageFormat::Png, viz::ImageFormat::Svg, viz::ImageFormat::Pdf};
        written += app::writeFigures(m_state.figureData(), formats, dir).size();
        report({LogLine::Level::Info,
                "exported " + std::to_string(written) + " files to " + dir.string(),
                {}});
        Toast toast{"exported to " + dir.string(), false,
                    std::chrono::steady_clock::now() + std::chrono::seconds(4)};
        m_toasts.push_back(toast);
    } catch (...) {
        report(errorLine(std::current_exception()));
    }
}

void Studio::pollWorker() {
    auto inbox = m_worker.take();
    if (inbox.runId) m_runId = inbox.runId;
    // Each replay runs every policy, the sweep and the CIs over all units (about 100 ms at
    // 3,000 units on this machine's core), so while a run streams in, its units are taken in
    // at most every kLiveReplayInterval: the frames between stay light. The first chunk and
    // the last ones (the run over) go in at once.
    constexpr auto kLiveReplayInterval = std::chrono::milliseconds(500);
    if (inbox.files) m_pendingUnits.clear();  // a new run's plan: the old units are gone
    m_pendingUnits.insert(m_pendingUnits.end(), std::make_move_iterator(inbox.units.begin()),
                          std::make_move_iterator(inbox.units.end()));
    inbox.units.clear();
    const auto now = std::chrono::steady_clock::now();
    if (!m_pendingUnits.empty() && (!m_worker.busy() || m_state.units().empty() ||
                                    now - m_lastUnitsTaken >= kLiveReplayInterval)) {
        inbox.units = std::move(m_pendingUnits);
        m_pendingUnits.clear();
        m_lastUnitsTaken = now;
    }
    const bool changed = applyInbox(inbox, m_state);
    for (auto& line : inbox.log) {
        if (line.level == LogLine::Level::Error && line.text.find("model") != std::string::npos)
            m_modelMissing = true;
        report(std::move(line));
        m_historyDirty = true;
    }
    if (changed || !inbox.log.empty()) m_activeFrames = 3;
}

void Studio::pollBatch() {
    for (auto& line : m_batch.takeLog()) {
        report(std::move(line));
        m_historyDirty = true;
        m_activeFrames = 3;
    }
}

void Studio::startBatch() {
    if (m_worker.busy()) {
        report({LogLine::Level::Warning, "a run is in progress", "cancel it first (Esc)"});
        return;
    }
    BatchRequest request;
    try {
        request.rates = parseRates(m_batchRates);
    } catch (...) {
        report(errorLine(std::current_exception()));
        return;
    }
    request.run = newRunRequest();
    request.outDir = m_batchDir;
    m_batch.start(std::move(request));
}

bool Studio::writeViewDump(const std::string& path) {
    try {
        std::vector<ViewFrame> frames;
        for (const auto& [stem, rect, whole] : m_plotFrames)
            frames.push_back({stem, rect.x0, rect.y0, rect.x1, rect.y1, whole});
        core::writeFileAtomic(path, summaryViewJson(m_state, m_runId, frames));
        std::cerr << "wrote " << path << "\n";
        return true;
    } catch (...) {
        const auto line = errorLine(std::current_exception());
        std::cerr << "error: " << line.text << "\nhint: " << line.hint << "\n";
        return false;
    }
}

float Studio::dpiScale() const {
    return m_settings.dpiScale > 0 ? m_settings.dpiScale : m_monitorScale;
}

void Studio::applyTheme() {
    // From a fresh style each time: ScaleAllSizes multiplies, so it must not compound.
    ImGui::GetStyle() = ImGuiStyle();
    if (m_settings.darkTheme)
        ImGui::StyleColorsDark();
    else
        ImGui::StyleColorsLight();
    ImGui::GetStyle().ScaleAllSizes(dpiScale());
    ImGui::GetIO().FontGlobalScale = m_settings.fontScale * dpiScale();
}

namespace {
// A letter key went down this frame. ImGui 1.87 named the letter keys (ImGuiKey_A..Z, what
// Debian trixie's 1.90 takes); before, the backend's key codes were the indices (GLFW_KEY_A..Z).
bool letterPressed(char letter) {
#if IMGUI_VERSION_NUM >= 18700
    return ImGui::IsKeyPressed(static_cast<ImGuiKey>(ImGuiKey_A + (letter - 'A')), false);
#else
    return ImGui::IsKeyPressed(GLFW_KEY_A + (letter - 'A'), false);
#endif
}
}  // namespace

void Studio::handleShortcuts() {
    const ImGuiIO& io = ImGui::GetIO();
    if (io.KeyCtrl && letterPressed('R') && !m_worker.busy()) startRun();
    if (io.KeyCtrl && letterPressed('O')) {
        m_browserTarget = "input";
        m_showBrowser = true;
    }
    if (io.KeyCtrl && letterPressed('E')) m_showExport = true;
    // Esc brings an enlarged plot back first; else it cancels a run, except while a dialog
    // (Quit?) is open: there it closes the dialog.
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape), false) &&
        !ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId)) {
        if (!m_settings.enlargedPlot.empty()) {
            m_settings.enlargedPlot.clear();
            return;
        }
        if (m_worker.busy()) m_worker.cancel();
        if (m_batch.busy()) m_batch.cancel();
    }
}

bool Studio::openWindow() {
    glfwSetErrorCallback([](int code, const char* text) {
        std::cerr << "glfw error " << code << ": " << text << "\n";
    });
    if (!glfwInit()) {
        std::cerr << "error: cannot open a window (no display?)\n"
                     "hint: run it on a desktop, or under `xvfb-run -a`\n";
        return false;
    }
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
    glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
    glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
    const bool remembered = m_options.screenshot.empty() && m_options.width <= 0 &&
                            m_settings.windowWidth >= 640 && m_settings.windowHeight >= 480;
    const int width = m_options.width > 0 ? m_options.width
                      : remembered        ? m_settings.windowWidth
                                          : 1280;
    const int height = m_options.height > 0 ? m_options.height
                       : remembered         ? m_settings.windowHeight
                                            : 800;
    m_window = glfwCreateWindow(width, height, "PonderTTT Studio", nullptr, nullptr);
    if (!m_window) {
        std::cerr << "error: cannot create an OpenGL 3.3 window\nhint: check the GL driver\n";
        glfwTerminate();
        return false;
    }
    glfwMakeContextCurrent(m_window);
    float scaleX = 1.0f, scaleY = 1.0f;
    glfwGetWindowContentScale(m_window, &scaleX, &scaleY);
    m_monitorScale = std::clamp(scaleY, 0.5f, 4.0f);
    glfwSwapInterval(m_options.screenshot.empty() ? 1 : 0);
    glfwSetWindowUserPointer(m_window, this);
    glfwSetDropCallback(m_window, [](GLFWwindow* window, int count, const char** paths) {
        std::vector<std::string> list(paths, paths + count);
        static_cast<Studio*>(glfwGetWindowUserPointer(window))->onDrop(std::move(list));
    });
    // The window's close button asks first while a run or a batch is busy, as File > Quit does.
    glfwSetWindowCloseCallback(m_window, [](GLFWwindow* window) {
        auto* studio = static_cast<Studio*>(glfwGetWindowUserPointer(window));
        if (studio->m_worker.busy() || studio->m_batch.busy()) {
            glfwSetWindowShouldClose(window, GLFW_FALSE);
            studio->m_quitPrompt.request();
        }
    });
    return true;
}

void Studio::initImGui() {
    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    // Screenshots must not depend on (or change) the user's saved layout.
    io.IniFilename = m_options.screenshot.empty() ? m_iniPath.c_str() : nullptr;
    // ImGui's default font has only Latin-1: ρ, τ, −, — and … come from DejaVu (viz).
    viz::addUiFont(*io.Fonts);
    m_plotFont = viz::addPlotFont(*io.Fonts, 15.0f);
    applyTheme();
    ImGui_ImplGlfw_InitForOpenGL(m_window, true);
    ImGui_ImplOpenGL3_Init("#version 330 core");
}

void Studio::startFirstWork() {
    try {
        m_devices.clear();
        for (const auto& device : core::runtimeInfo().devices)
            m_devices.push_back(device.substr(0, device.find(' ')));
    } catch (const std::exception&) {
        m_devices = {"cpu"};
    }
    refreshHistory();
    if (!m_options.batchExport.empty()) {
        std::snprintf(m_batchRates, sizeof m_batchRates, "%s", m_options.batchRates.c_str());
        std::snprintf(m_batchDir, sizeof m_batchDir, "%s", m_options.batchExport.c_str());
        startBatch();
    } else if (m_options.reopen) {
        reopenRun(*m_options.reopen, false);
    } else if (m_options.inputs.empty() && m_options.modelDir.empty() && !m_history.empty()) {
        // No arguments: where the user left off, the last stored run, with no new evaluation
        // (the demo names its file, so it evaluates).
        reopenRun(m_history.front().id, false);
    } else {
        startRun();
    }
    if (m_options.compare) reopenRun(*m_options.compare, true);
}

void Studio::waitForEvents() {
    const bool screenshot = !m_options.screenshot.empty();
    const bool working = m_worker.busy() || m_batch.busy() || m_reopening.valid();
    if (screenshot && working && !m_options.frameStats)
        // A screenshot needs the frames after the work: while it runs, 20 frames a second
        // leave the cores to the evaluation (software GL under Xvfb costs a core).
        glfwWaitEventsTimeout(0.05);
    else if (screenshot || m_activeFrames > 0)
        glfwPollEvents();
    else
        // Idle: wake for input, or a few times a second for the worker's units and toasts.
        glfwWaitEventsTimeout(working ? 0.1 : 0.5);
}

bool Studio::drawOneFrame() {
    const auto frameStart = std::chrono::steady_clock::now();
    const auto versionBefore = m_state.version();
    pollWorker();
    pollReopen();
    pollBatch();
    if (m_options.select && *m_options.select >= 0 &&
        std::size_t(*m_options.select) < m_state.units().size()) {
        m_state.selected = m_options.select;
        m_scrollToUnit = m_options.select;
        m_options.select.reset();
    }
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    ImGui::NewFrame();
    handleShortcuts();
    drawFrame();
    ImGui::Render();
    const auto built = std::chrono::steady_clock::now();
    int width = 0, height = 0;
    glfwGetFramebufferSize(m_window, &width, &height);
    glViewport(0, 0, width, height);
    const ImVec4 clear = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
    glClearColor(clear.x, clear.y, clear.z, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    const ImGuiIO& io = ImGui::GetIO();
    if (io.WantTextInput || ImGui::IsAnyItemActive() || io.MouseDelta.x != 0 ||
        io.MouseDelta.y != 0 || !m_toasts.empty())
        m_activeFrames = 3;
    else if (m_activeFrames > 0)
        --m_activeFrames;
    const bool saved = m_options.screenshot.empty() || saveScreenshotWhenDue(width, height);
    glfwSwapBuffers(m_window);
    // The frame's own work (not the idle wait) while a run streams in: the 60 fps budget.
    // Split into the UI thread's own work (inbox, replay, layout) and GL drawing plus the
    // swap, which under Xvfb is Mesa's software rasterizer on the same cores.
    const bool live = m_worker.busy();
    const auto ms = [](auto a, auto b) {
        return std::chrono::duration<double, std::milli>(b - a).count();
    };
    (live ? m_frameStats : m_quietFrameStats).add(ms(frameStart, std::chrono::steady_clock::now()));
    (live ? m_uiWorkStats : m_quietUiWorkStats).add(ms(frameStart, built));
    if (live && m_state.version() != versionBefore) m_replayWorkStats.add(ms(frameStart, built));
    if (m_recordedRun && !live && m_frameStats.size() > 0)
        report({LogLine::Level::Info, m_frameStats.text(), {}});
    m_recordedRun = live;
    return saved;
}

// --screenshot: the framebuffer once --frames frames have passed after the work (or the
// timeout), then the window closes. False when the image could not be written.
bool Studio::saveScreenshotWhenDue(int width, int height) {
    const double waited =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - m_started).count();
    // Frames count once the run is over, so the image shows its plots.
    if ((!m_worker.busy() && !m_reopening.valid() && !m_batch.busy()) ||
        waited > m_options.screenshotTimeout)
        ++m_screenshotFrames;
    if (m_screenshotFrames < m_options.frames) return true;
    bool ok = m_options.dumpView.empty() || writeViewDump(m_options.dumpView);
    if (!saveFramebuffer(m_options.screenshot, width, height)) {
        std::cerr << "error: cannot write " << m_options.screenshot
                  << "\nhint: check the folder exists and is writable\n";
        ok = false;
    } else {
        std::cerr << "wrote " << m_options.screenshot << " (" << width << "x" << height << ")\n";
    }
    glfwSetWindowShouldClose(m_window, GLFW_TRUE);
    return ok;
}

void Studio::printFrameStats() const {
    std::cerr << m_frameStats.text() << "\n";
    // Each line's figures under its own label; the last two are the same frames' cost without
    // a run: what rendering alone takes on this machine.
    const std::pair<const FrameStats*, const char*> lines[] = {
        {&m_uiWorkStats, "  of which UI work before GL (inbox, replay, layout)"},
        {&m_replayWorkStats, "  of which UI work of frames that took new units in"},
        {&m_quietFrameStats, "frame time without a run"},
        {&m_quietUiWorkStats, "  of which UI work before GL"}};
    for (const auto& [stats, label] : lines) {
        auto text = stats->text();
        text.replace(0, text.find(':'), label);
        std::cerr << text << "\n";
    }
}

void Studio::closeWindow() {
    if (m_options.screenshot.empty())  // the next start opens at the size it was left at
        glfwGetWindowSize(m_window, &m_settings.windowWidth, &m_settings.windowHeight);
    m_worker.cancel();
    m_worker.join();
    m_batch.cancel();
    m_batch.join();
    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplGlfw_Shutdown();
    ImGui::DestroyContext();
    glfwDestroyWindow(m_window);
    glfwTerminate();
}

int Studio::run() {
    if (!openWindow()) return 1;
    initImGui();
    startFirstWork();
    int status = 0;
    while (!glfwWindowShouldClose(m_window)) {
        waitForEvents();
        if (!drawOneFrame()) status = 1;
    }
    if (m_options.frameStats) printFrameStats();
    closeWindow();
    return status;
}

}  // namespace ponder::studio
