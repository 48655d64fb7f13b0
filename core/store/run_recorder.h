// One evaluation run's life in the run store, the same for `ponder eval` and the studio: the run
// row begun before the first unit, units committed in batches, every policy replayed and saved,
// and the run finished complete or cancelled — or failed, whatever was thrown (design.md §8).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/eval/run_description.h"
#include "core/gating/run_analysis.h"
#include "core/store/run_store.h"

namespace ponder::core {

class PonderError;
class RunStore;

struct RecorderOptions {
    std::filesystem::path database;  // empty: nothing is stored (units are still analysed)
    std::string label;               // stored with the run when not empty
    // A batch is committed in one transaction when it holds this many units or is this old,
    // so a killed process loses at most the last batch and a fast run is not one commit per unit.
    std::size_t batchUnits = 32;
    std::chrono::milliseconds batchAge{1000};
    // Unset: a store error is thrown (the CLI stops). Set: it is reported here, storing stops
    // and the evaluation goes on (the studio keeps showing the run).
    std::function<void(const PonderError&)> onStoreError;
};

class RunRecorder {
public:
    // Opens the database (errors as RecorderOptions says). Nothing is written yet.
    RunRecorder(AnalysisSettings settings, RecorderOptions options = {});
    // A run begun and neither finished nor failed is marked failed: an exception from the
    // evaluation, or from anything between begin() and finish(), never leaves it `running`.
    ~RunRecorder();
    RunRecorder(const RunRecorder&) = delete;
    RunRecorder& operator=(const RunRecorder&) = delete;

    // The run row (status running) with `run`'s facts, the settings and the plan's files.
    // `generationJson`: a JSON object stored in the settings under "generation" (`ponder
    // generate`: the prompt, sampling and stop reason); empty: none.
    void begin(const RunDescription& run, const EvalPlan& plan,
               const std::string& generationJson = {});
    // Keeps the unit and commits the pending batch when it is full or old enough. Units may come
    // in any order (gathered from several ranks); finish() puts them in unit order.
    void add(const UnitRecord& unit);
    // Commits the last batch, replays every policy of the settings over all units, saves them
    // (then `taken`: decisions the run took itself, a generation's gate) and marks the run
    // complete (or cancelled). Returns the replay.
    RunAnalysis finish(bool cancelled, double seconds, double tokensPerSecond,
                       const std::vector<StoredPolicy>& taken = {});
    // Commits what arrived and marks the run failed. Never throws (a store error is swallowed:
    // this runs while another error is on its way out).
    void fail(double seconds = 0) noexcept;

    bool storing() const { return m_store != nullptr; }
    std::optional<std::int64_t> runId() const { return m_runId; }
    const std::vector<UnitRecord>& units() const { return m_units; }
    // Hands the units over (after finish()), so a large run is not held twice.
    std::vector<UnitRecord> releaseUnits() { return std::move(m_units); }

private:
    void flush();
    // Runs a store call; on error reports it (onStoreError) and stops storing, or rethrows.
    void storeCall(const std::function<void()>& call);

    AnalysisSettings m_settings;
    RecorderOptions m_options;
    std::unique_ptr<RunStore> m_store;
    std::optional<std::int64_t> m_runId;
    bool m_ended = false;
    std::vector<UnitRecord> m_units;
    std::string m_tttSha256;         // begin()'s, for the learned gates' check
    std::int64_t m_updateSteps = 1;  // begin()'s ttt.json, for the cost columns
    std::size_t m_committed = 0;     // m_units[0, m_committed) are in the store
    std::chrono::steady_clock::time_point m_lastFlush;
};

}  // namespace ponder::core
