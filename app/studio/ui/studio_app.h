// The desktop workbench (design.md §10): one full-window ImGui layout of resizable panes
// (files + tune + history | source | plots + summary), menus, status bar, log and toasts.
// Each pane's drawing lives in its own pane_*.cpp; this header is the shared state.
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <future>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "app/studio/state/batch_export.h"
#include "app/studio/state/chunk_table.h"
#include "app/studio/state/datasets.h"
#include "app/studio/state/eval_worker.h"
#include "app/studio/state/reopen.h"
#include "app/studio/state/settings.h"
#include "app/studio/state/source_map.h"
#include "app/studio/state/studio_state.h"
#include "app/studio/ui/frame_stats.h"
#include "app/studio/ui/run_controls.h"
#include "core/store/run_store.h"
#include "viz/plot_widget.h"
#include "viz/token_figure.h"

struct GLFWwindow;
struct ImFont;

namespace ponder::studio {

struct StudioOptions {
    std::string modelDir;                    // empty: settings, else assets/default-model
    std::vector<std::string> inputs;         // empty: the default Python file
    std::optional<double> rate;              // initial target rate
    std::optional<std::string> policy;       // initial policy (a name or gate:DIR)
    std::vector<std::string> extraPolicies;  // replayed beside it (more --policy options)
    std::optional<double> alpha;
    std::optional<std::string> signal;
    // Evaluation options of the runs (mode, chunk, max units, shuffle, causal-k, dtype, fast
    // path, extensions), as `ponder eval` takes them; model, inputs and gating are set apart.
    // evaluation.gating holds the gating options the Tune pane has no control for (seed,
    // threshold, calibration file, advanced-std, force-gate, lookahead).
    RunRequest evaluation;
    // paper | profile; unset: profile when the model has a calibration.json (a single file has
    // fewer than the 16 units paper calibration forces to UPDATE), else paper.
    std::optional<std::string> calibration;
    std::string screenshot;  // write the window as PNG after `frames` frames, exit
    // With screenshot: also the summary table's numbers as JSON (state/view_dump.h).
    std::string dumpView;
    // Run File > Batch export into this folder at these rates instead of a run (with
    // screenshot: then exit once it is done).
    std::string batchExport;
    std::string batchRates = "0.25, 0.5, 0.75";
    int frames = 30;
    double screenshotTimeout = 300;       // seconds to wait for a run before the screenshot
    bool frameStats = false;              // print p50/p95/max frame time of live runs at exit
    std::optional<std::int64_t> compare;  // a stored run to overlay from the start
    // A stored run to open instead of evaluating the inputs (e.g. a `ponder generate --db`).
    std::optional<std::int64_t> reopen;
    std::optional<std::int64_t> select;  // a chunk to select once the run has it
    // --size WxH; 0: the size the window had when last closed (1280 x 800 for a screenshot,
    // which must not depend on the user's settings).
    int width = 0, height = 0;
};

class Studio {
public:
    explicit Studio(StudioOptions options);
    ~Studio();
    // Opens the window and runs until closed; returns the process exit status.
    int run();
    // Files dropped onto the window (GLFW's drop callback): opened and run.
    void onDrop(std::vector<std::string> paths);

private:
    struct Toast {
        std::string text;
        bool error = false;
        std::chrono::steady_clock::time_point until;
    };

    // A stored run read off the UI thread (its files re-tokenized for the heat map).
    struct Reopened {
        std::int64_t id = 0;
        bool compare = false;          // load as the compared run, not the current one
        std::uint64_t generation = 0;  // m_runGeneration when asked
        std::string title;
        std::vector<ReopenedFile> files;
        std::vector<core::UnitRecord> units;
        std::string tttSha256;
        std::int64_t updateSteps = 1;
        core::AnalysisSettings settings;  // core::replaySettings: what it was shown with
        std::string modelDir;
        core::RunDescription description;  // its mode, chunk and ablations, for the next Run
        std::vector<std::string> inputs, fileSha256;
        // The run's model's calibration.json, for switching a paper run to profile.
        std::optional<core::Calibration> calibration;
        std::string error, hint;
    };

    // Actions.
    void startRun();
    // The request of a new run: the run options, model, inputs and the tune's overrides.
    RunRequest newRunRequest() const;
    // Makes `dir` the model when it is one (else an error toast, nothing saved).
    void chooseModel(const std::string& dir);
    void openInputs(std::vector<std::string> inputs, bool run);
    void reopenRun(std::int64_t id, bool compare = false);
    void pollReopen();
    void pollBatch();
    void startBatch();
    bool writeViewDump(const std::string& path);
    float dpiScale() const;
    void refreshHistory();
    void exportCurrent(const std::filesystem::path& dir);
    void report(LogLine line);
    void pollWorker();
    void applyTheme();
    void handleShortcuts();
    // run()'s steps: the window and ImGui, the first work (a run, a reopen or a batch), each
    // frame (false once a screenshot failed to save), the frame timings, and the teardown.
    bool openWindow();
    void initImGui();
    void startFirstWork();
    void waitForEvents();
    bool drawOneFrame();
    bool saveScreenshotWhenDue(int width, int height);
    void printFrameStats() const;
    void closeWindow();

    // Panes (pane_*.cpp).
    void drawFrame();
    void drawMenuBar();
    void drawFilesPane();
    void drawTunePane();
    void drawRateControl(TuneSettings& tune);
    std::vector<std::string> policyChoices(const TuneSettings& tune) const;
    void drawBesideCombo(const TuneSettings& tune, const std::vector<std::string>& policies);
    void drawHistoryPane();
    void drawSourcePane();
    // drawSourcePane's steps (pane_source.cpp): one line of the file (its chunk's decision
    // strip, the number, the token heat, the text), and the heat map of its tokens.
    struct SourceView;
    void drawSourceLine(const SourceView& view, int line);
    void drawTokenHeat(const SourceView& view, std::size_t begin, std::size_t end, float y,
                       std::int64_t unit);
    void drawPlotsPane();
    // The right side's tabs: all plots stacked, each plot alone, the chunk and file tables.
    void drawRightTabs();
    void drawStackedPlots();
    void drawEnlargedPlot(std::size_t figure);
    // Figure `figure` of m_state.figures() at `size` (0 width: the available width).
    void drawPlot(std::size_t figure, ImVec2 size);
    void drawChunkTable();
    // drawChunkTable's steps: the filter row, the columns with their sort, the visible rows.
    void drawChunkFilters();
    void setupChunkColumns();
    void drawChunkRows();
    void drawFilesTable();
    // The selected chunk's per-token losses under the source (pane_chunk.cpp).
    void drawChunkPlot();
    void drawSummaryTable();
    void drawStatusBar();
    void drawFileBrowser();
    void drawHelpWindow();
    void drawLogWindow();
    void drawExportWindow();
    void drawBatchWindow();
    void drawDatasetsWindow();
    void drawDataset(const Dataset& dataset);
    void drawDatasetFiles(const std::string& language,
                          const std::vector<const DatasetFile*>& files);
    void drawRunSettings();
    void drawToasts();
    bool splitter(const char* id, float& ratio, float total, float height);
    // A horizontal bar between two stacked panes: dragging it moves height from one share to
    // the other (`total` pixels stand for a share of 1).
    bool rowSplitter(const char* id, float& upper, float& lower, float total);

    StudioOptions m_options;
    std::filesystem::path m_configDir;
    Settings m_settings;
    char m_gateDir[512] = {};  // the Tune pane's gate folder field
    std::string m_iniPath;
    GLFWwindow* m_window = nullptr;
    ImFont* m_plotFont = nullptr;
    bool m_fontReload = false;

    std::vector<std::string> m_inputs;
    // The evaluation options of the next run (mode, chunk, max units, shuffle, causal-k,
    // dtype, fast path, extensions): every option `ponder eval` has.
    RunRequest m_runOptions;
    StudioState m_state;
    EvalWorker m_worker;
    // Units the worker sent that wait for the next live replay (pollWorker), and when the last
    // ones were taken in.
    std::vector<core::UnitRecord> m_pendingUnits;
    std::chrono::steady_clock::time_point m_lastUnitsTaken;
    std::optional<std::int64_t> m_runId;
    bool m_modelMissing = false;
    // The model's architecture and size line (config.json only), for the directory it names.
    std::string m_modelSummaryFor, m_modelSummary;
    std::future<Reopened> m_reopening;
    std::uint64_t m_runGeneration = 0;       // bumped by each new live run
    std::vector<std::string> m_sourceNotes;  // per file: why its heat map is not shown
    std::vector<std::string> m_devices;      // core::runtimeInfo(): "cpu", "cuda:0", ...
    float m_monitorScale = 1.0f;             // the window's content scale (DPI / 96)

    std::vector<LogLine> m_log;
    std::vector<Toast> m_toasts;
    bool m_showLog = false, m_showHelp = false, m_showExport = false, m_showBatch = false;
    bool m_showDatasets = false;
    QuitPrompt m_quitPrompt;  // File > Quit and the close button while a run is busy

    // Batch export.
    BatchExporter m_batch;
    char m_batchRates[128] = "0.25, 0.5, 0.75";
    char m_batchDir[512] = {};

    // Dataset browser.
    std::filesystem::path m_datasetsRoot;
    std::vector<Dataset> m_datasets;
    bool m_datasetsScanned = false;
    std::set<std::string> m_datasetSelection;  // on-disk paths

    // Frame times of live runs (style: 60 fps while a run streams in).
    FrameStats m_frameStats, m_quietFrameStats;  // frames during a live run, and the others
    FrameStats m_uiWorkStats;                    // live frames up to ImGui::Render()
    // The UI work of live frames that took new units in (and replayed everything over them),
    // and of the frames without a run (a reopened run: tables, plots, tune).
    FrameStats m_replayWorkStats, m_quietUiWorkStats;
    bool m_recordedRun = false;  // the last frame had a run in progress

    // Files pane / browser.
    bool m_showBrowser = false;
    std::filesystem::path m_browseDir;
    std::string m_browserTarget = "input";  // input | model | export
    char m_exportDir[512] = {};

    // History.
    std::vector<core::RunSummary> m_history;
    bool m_historyDirty = true;

    // Plots.
    viz::LinkedXAxis m_xAxis;
    std::vector<viz::PlotWidget> m_plots;
    viz::PlotWidget m_chunkPlot{"chunk-tokens"};
    bool m_rightTabRestored = false;  // the remembered tab is selected on the first frame
    // The file token (index in the shown file) hovered in the source this frame, and the one
    // hovered in the chunk plot last frame: each pane marks the other's.
    std::optional<std::size_t> m_sourceHoverToken, m_plotHoverToken;
    viz::Figure m_chunkFigure;  // the selected chunk's, rebuilt when the selection changes
    std::pair<std::uint64_t, std::int64_t> m_chunkFigureKey{~0ull, -1};  // state version, unit
    // Where each plot's frame (its axes) was drawn this frame, for --dump-view and its tests.
    struct PlotFrame {
        std::string stem;
        viz::Rect frame;
        bool whole = true;  // all of it inside its pane's visible area (not scrolled off)
    };
    void notePlotFrame(const std::string& stem, const viz::Rect& frame);
    std::vector<PlotFrame> m_plotFrames;

    // Chunk table (pane_tables.cpp): rebuilt when the state replays.
    ChunkTable m_chunkTable;
    std::uint64_t m_chunkTableVersion = ~0ull;
    char m_chunkFileFilter[128] = {};
    std::optional<std::int64_t> m_chunkTableScrolledTo;  // the selection it last scrolled to
    std::optional<std::int64_t> m_scrollToUnit;
    std::size_t m_sourceFile = 0;
    // Per line of the shown file: the unit it belongs to (-1: none), rebuilt on replay.
    SourceMap m_sourceMap;  // of the shown file, rebuilt when the state or the file changes
    std::uint64_t m_sourceMapVersion = ~0ull;
    std::size_t m_sourceMapFile = ~std::size_t(0);

    int m_activeFrames = 3;  // frames still to draw before idling (events need a few)
    int m_screenshotFrames = 0;
    std::chrono::steady_clock::time_point m_started = std::chrono::steady_clock::now();
};

}  // namespace ponder::studio
