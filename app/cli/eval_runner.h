// The evaluation options shared by `ponder eval`, `calibrate` and `sweep`, parsed into core's
// run request (core/eval/eval_session.h), and the command-line side of running one: progress
// on stderr and Ctrl-C as a clean cancel. Everything that decides a number happens in core.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "app/cli/cli_args.h"
#include "core/eval/eval_session.h"
#include "core/eval/evaluator.h"

namespace ponder::app {

// --model --mode --chunk --device --threads --ext --quiet --force-checkpoint --shuffle
// --causal-k; commands append their own options.
Options evaluationOptionSpecs();

// The request the shared options describe: model, inputs, units, device and load options.
// Gating, store and fast path are the commands' own (they set request.gating etc.).
core::EvalRequest evalRequestFrom(const ParsedArgs& args);

// Runs `request` through core's run session as a command does: the plan's lines and progress
// on stderr (unless --quiet), Ctrl-C or SIGTERM as a clean cancel, "cancelled after N units".
// Throws UsageError or core errors.
core::EvalOutcome runEvaluation(const ParsedArgs& args, core::EvalRequest request,
                                const core::EvalCallbacks& extra = {});
inline core::EvalOutcome runEvaluation(const ParsedArgs& args) {
    return runEvaluation(args, evalRequestFrom(args));
}

// The evaluator and plan the shared options describe (threads applied; the plan summary
// printed on stderr unless --quiet), for the benchmarks that drive the evaluator themselves.
struct PreparedEvaluation {
    std::string modelDir, modeName;
    std::int64_t chunk = 0;
    int threads = 0;
    core::EvalOptions options;
    std::unique_ptr<core::Evaluator> evaluator;
    core::EvalPlan plan;
};
// What every command that loads a model reads: --force-checkpoint and --dtype f32|bf16 (a
// UsageError for another), on `device`.
core::EvalOptions modelLoadOptions(const ParsedArgs& args, const std::string& device);

PreparedEvaluation prepareEvaluation(const ParsedArgs& args, bool keepTokenLosses);

// The progress line on stderr: at most every 2 s, and once at the end; nothing when quiet.
class ProgressLine {
public:
    explicit ProgressLine(bool quiet) : m_quiet(quiet) {}
    void show(const core::EvalProgress& progress);

private:
    bool m_quiet;
    double m_lastPrinted = -10.0;
};

// While alive, Ctrl-C (SIGINT) or SIGTERM (`kill`, `timeout`, a job scheduler) sets flag()
// (checked between units or steps, so the work stops in a consistent state and the run is
// marked cancelled); a second one falls back to the default handler and ends the process.
class InterruptGuard {
public:
    InterruptGuard();
    ~InterruptGuard();
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;
    static const std::atomic<bool>* flag();

private:
    void (*m_previousInt)(int) = nullptr;
    void (*m_previousTerm)(int) = nullptr;
};

}  // namespace ponder::app
