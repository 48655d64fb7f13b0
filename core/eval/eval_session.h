// One evaluation run, start to end, the same for every front end (design.md §4, §8): a request
// in (model, inputs, units, device, gating settings, store), a run out. The session resolves
// everything that decides a number once — the gating settings and their calibration
// (settings_resolve.h), the plan and its --max-units cut, the fast path's gate — stores it with
// the run (the settings JSON holds the calibration used and its τ0, each policy its spec, the
// model's absolute path), evaluates on the calling thread, and replays every policy. `ponder
// eval`, `calibrate`, `sweep`, the studio's live runs and its batch export are thin clients:
// they parse or edit a request, then print or draw the outcome. Torch-free.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/eval/eval_plan.h"
#include "core/eval/evaluator.h"
#include "core/eval/run_description.h"
#include "core/gating/run_analysis.h"
#include "core/gating/settings_resolve.h"

namespace ponder::core {

class RankSession;  // core/dist/rank_session.h
class RunRecorder;  // core/store/run_recorder.h

struct EvalRequest {
    std::filesystem::path modelDir;
    std::vector<std::string> inputs;      // files or folders, as the user gave them
    std::vector<std::string> extensions;  // ".py", ...; empty: every known code extension
    EvalMode mode = EvalMode::File;
    std::int64_t chunk = 512;
    std::optional<std::size_t> maxUnits;  // the first N units in data order (algorithm.md §7)
    bool shuffle = false;                 // the shuffle ablation (algorithm.md §4)
    std::optional<std::int64_t> causalK;  // -1: the diagonal ablation; unset: ttt.json's
    std::string device = "cpu";
    bool bf16 = false;  // --dtype bf16 (Gemma 3 backbones)
    bool forceCheckpoint = false;
    int threads = 0;  // 0: all cores (OMP_NUM_THREADS wins); set on the calling thread
    bool keepTokenLosses = false;
    // The static path per unit (EvalOptions::staticPath, algorithm.md §4.1): the advantage
    // split into the TTT layer's static part and its inner loop. Never on the fast path.
    bool staticPath = false;
    // The gated fast path (design.md §4, `ponder eval --fast`): Ours decides each unit before
    // its UPDATE path runs. One process only.
    bool fast = false;
    // Gating: the defaults with these changes. A new run's calibration defaults to "auto":
    // profile when the model has a calibration.json and every EMA policy can use it.
    SettingsOverrides gating = [] {
        SettingsOverrides overrides;
        overrides.calibration = "auto";
        return overrides;
    }();
    std::filesystem::path database;  // empty: not stored
    std::string label;
    // The studio's rule: a store error is logged (onLog) and the run goes on unstored. Unset,
    // it is thrown (the CLI stops).
    bool storeErrorsAreWarnings = false;
    RankSession* ranks = nullptr;  // a multi-process run (§9.1): this process is one rank
};

struct EvalCallbacks {
    // After the plan is built, before the first unit: the run as it will be stored.
    std::function<void(const RunDescription&, const EvalPlan&)> onPlan;
    std::function<void(std::int64_t runId)> onStored;  // the run row exists (with a database)
    std::function<void(const UnitRecord&)> onUnit;  // in data order (gathered runs: sorted later)
    std::function<void(const EvalProgress&)> onProgress;
    // Skipped files, store problems, the plan's summary line. Level: 0 info, 1 warning.
    std::function<void(int level, const std::string& text, const std::string& hint)> onLog;
    const std::atomic<bool>* cancel = nullptr;  // checked between units
};

struct EvalOutcome {
    RunDescription run;
    AnalysisSettings settings;      // as resolved and stored
    std::vector<UnitRecord> units;  // in unit order; empty on a rank other than 0
    RunAnalysis analysis;           // every policy replayed (empty without units)
    std::optional<std::int64_t> runId;
    std::size_t evaluated = 0;  // this process's units (a rank other than 0: the ones it sent)
    bool cancelled = false;
};

// Keeps one loaded model between runs (the studio, batch export): reloaded when any file of
// the model folder changed (name, size or time), or when device or load options differ.
class EvaluatorCache {
public:
    Evaluator& get(const std::filesystem::path& modelDir, const EvalOptions& options);
    std::size_t loads() const { return m_loads; }

private:
    std::unique_ptr<Evaluator> m_evaluator;
    std::string m_key;
    std::size_t m_loads = 0;
};

class EvalSession {
public:
    // Resolves and checks the gating settings (InputError with a hint: an unknown policy, a
    // missing calibration.json for profile, a gate made for another TTT layer, --fast with a
    // policy that cannot decide before the UPDATE path, with ranks) and opens the store (a
    // locked or foreign database fails here). Nothing is loaded yet: a typo costs nothing.
    explicit EvalSession(EvalRequest request);
    ~EvalSession();
    EvalSession(const EvalSession&) = delete;
    EvalSession& operator=(const EvalSession&) = delete;

    const EvalRequest& request() const { return m_request; }
    const AnalysisSettings& settings() const { return m_settings; }

    // Loads the model (or takes it from `cache`), plans, records and evaluates every unit on
    // the calling thread, then replays the policies and ends the stored run (complete,
    // cancelled, or failed when anything throws). Call once.
    EvalOutcome run(const EvalCallbacks& callbacks, EvaluatorCache* cache = nullptr);

private:
    // The gated fast path's gate and whether it needs the SKIP path's statistics.
    struct FastPath {
        Evaluator::Gate gate;
        bool skipStatistics = false;
    };
    std::optional<FastPath> fastPathFor(const EvalPlan& plan, const Evaluator& evaluator) const;
    // Evaluates and records every unit (as rank 0 where there are ranks); false when cancelled.
    // `last` gets the last progress: elapsed time and throughput.
    bool evaluateUnits(Evaluator& evaluator, const EvalPlan& plan,
                       const std::optional<FastPath>& fast, const EvalCallbacks& callbacks,
                       EvalOutcome& outcome, EvalProgress& last);

    EvalRequest m_request;
    AnalysisSettings m_settings;
    std::unique_ptr<RunRecorder> m_recorder;
    std::vector<std::pair<std::string, std::string>> m_storeWarnings;  // text, hint
};

// The model-load and evaluation options a request stands for (device, dtype, checkpoint check,
// token losses, the ablations).
EvalOptions evalOptionsOf(const EvalRequest& request);

// The plan of a request on a loaded model, with --max-units applied (what every rank agrees on).
EvalPlan planRequest(const EvalRequest& request, const Evaluator& evaluator);

// The studio's and the CLI's one line about a plan: files, tokens, units, mode, chunk, device.
std::string planSummary(const EvalPlan& plan, const std::string& modeName, std::int64_t chunk,
                        const std::string& device, int threads);

}  // namespace ponder::core
