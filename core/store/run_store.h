// The SQLite run store (design.md §8): every evaluation run, its input files, unit records,
// per-token losses and policy decisions, in a versioned schema with tested migrations.
// SQLiteCpp stays inside run_store.cpp, so the GUI and the CLI include only plain structs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/eval/evaluator.h"
#include "core/eval/run_description.h"

namespace ponder::core {

struct EvalPlan;

// A run is `Running` from beginRun until finishRun. A process killed mid-run leaves it
// `Running` for good: listRuns shows it as such, with every unit committed before the kill.
enum class RunStatus { Running, Complete, Cancelled, Failed };
const char* runStatusName(RunStatus status);  // "running" | "complete" | "cancelled" | "failed"

struct StoredInputFile {
    std::int64_t fileIndex = 0;  // UnitRecord::fileIndex of this file's units
    std::string path;
    std::int64_t bytes = 0, tokens = 0;
    std::string sha256;  // empty = not computed (stored as NULL)
    // A stream the run made itself (PlanFile::storedWhole, `ponder generate`): its text, token
    // ids and each token's byte offset in the text. Empty for a file read from disk (NULL).
    std::string text;
    std::vector<std::int32_t> tokenIds;
    std::vector<std::uint64_t> tokenStarts;
};

// One gating policy's replay over the run's units: element i belongs to the i-th unit in unit
// order. `specJson` holds its parameters (rate, signal, alpha, calibration, seed, ...).
struct StoredPolicy {
    std::string name;
    std::string specJson;
    std::vector<std::uint8_t> decisions;  // 1 = UPDATE
    std::vector<double> threshold, rateEma;
};

struct RunSummary {
    std::int64_t id = 0;
    std::string startedAt, finishedAt;  // ISO 8601 UTC; finishedAt empty while running
    RunStatus status = RunStatus::Running;
    std::string mode, modelDir, label;
    std::int64_t units = 0;  // unit rows stored so far
    std::int64_t files = 0, tokens = 0;
    double seconds = 0;
    // Filled by listRuns (a history list names runs by them): the inputs as given, Ours'
    // policy and the target rate.
    std::vector<std::string> inputs;
    std::string policy;
    double rate = 0;
};

struct StoredRun {
    RunSummary summary;
    RunDescription description;  // cancelled == (status == Cancelled)
    std::string settingsJson;
    std::uint64_t seed = 0;
    std::vector<StoredInputFile> inputFiles;
    std::vector<UnitRecord> units;       // in unit order, token losses filled when stored
    std::vector<StoredPolicy> policies;  // in the order they were saved
};

// One logged training step (train-base / train-ttt), for loss curves and the model card.
struct TrainingPoint {
    std::int64_t step = 0;
    double loss = 0, ce = 0, lr = 0, gradNorm = 0, tokensPerSecond = 0, seconds = 0;
    double updateRate = std::numeric_limits<double>::quiet_NaN();  // train-gate only
};

struct StoreOptions {
    bool create = true;  // false: a missing file is a StoreError instead of a new database
    // How long a statement waits for another connection's write lock before StoreError
    // "database is locked". Writers hold it for one batch of units, i.e. milliseconds.
    int busyTimeoutMs = 5000;
};

// One connection to a run database. Opening creates or upgrades the schema; every method
// throws StoreError (with a hint) on failure and never leaves a half-written transaction.
// Not thread-safe: each thread (the GUI's worker, its UI) opens its own RunStore; WAL mode
// lets readers load runs while another connection appends units.
class RunStore {
public:
    explicit RunStore(const std::filesystem::path& path, const StoreOptions& options = {});
    ~RunStore();
    RunStore(RunStore&&) noexcept;
    RunStore& operator=(RunStore&&) noexcept;
    RunStore(const RunStore&) = delete;
    RunStore& operator=(const RunStore&) = delete;

    const std::filesystem::path& path() const;
    int schemaVersion() const;  // the file's version after opening (== currentSchemaVersion())

    // Writer. `settingsJson` is a JSON object (mode, chunk, rate, shuffle, causal_k, seed,
    // calibration, policies requested, ...); empty means "{}". Returns the new run's id.
    std::int64_t beginRun(const RunDescription& run, const std::string& settingsJson,
                          std::uint64_t seed, const std::vector<StoredInputFile>& files = {});
    // One transaction per call: a killed process keeps every batch appended before the kill.
    void appendUnits(std::int64_t runId, const std::vector<UnitRecord>& units);
    // Replaces the run's stored policies with `policies`, in one transaction.
    void savePolicies(std::int64_t runId, const std::vector<StoredPolicy>& policies);
    void finishRun(std::int64_t runId, RunStatus status, double seconds, double tokensPerSecond);
    void setLabel(std::int64_t runId, const std::string& label);

    // Training curves: one row per train-base/train-ttt invocation ("base" | "ttt"), points
    // appended in one transaction per call (at each checkpoint).
    std::int64_t beginTraining(const std::string& kind, const std::string& outDir,
                               const std::string& settingsJson, const std::string& device,
                               int threads);
    void appendTrainingPoints(std::int64_t trainingId, const std::vector<TrainingPoint>& points);
    void finishTraining(std::int64_t trainingId, RunStatus status);
    // All points logged for `outDir` by trainings of `kind`, by step (resumed runs joined).
    std::vector<TrainingPoint> trainingCurve(const std::string& kind,
                                             const std::string& outDir) const;

    // Reader.
    std::vector<RunSummary> listRuns() const;  // oldest first
    StoredRun loadRun(std::int64_t runId) const;
    // "latest" or a decimal id; StoreError for an unknown id, an empty database or bad text.
    std::int64_t resolveRunId(const std::string& text) const;
    // SQLite's `PRAGMA integrity_check`: "ok", or its report of the damage.
    std::string integrityCheck() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// The schema version this code writes; a database with a higher one is refused.
int currentSchemaVersion();

// For migration tests only: creates a new database at `path` with migration steps
// 1..version applied, as an older ponder would have left it.
void createStoreAtVersion(const std::filesystem::path& path, int version);

// The input files of a plan, for beginRun; `hash` adds each file's SHA-256 (of its text).
std::vector<StoredInputFile> storedInputFiles(const EvalPlan& plan, bool hash = true);

}  // namespace ponder::core
