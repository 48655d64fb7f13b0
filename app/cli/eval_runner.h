// The evaluation part shared by `ponder eval`, `calibrate` and `sweep`: model and input
// options, the plan, progress on stderr, Ctrl-C as a clean cancel, and each unit handed to the
// caller as it finishes (`ponder eval` records them with core::RunRecorder).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "app/cli/cli_args.h"
#include "core/dist/rank_session.h"
#include "core/eval/evaluator.h"
#include "core/gating/policies.h"
#include "core/report/eval_json.h"

namespace ponder::app {

// --model --mode --chunk --device --threads --ext --quiet --force-checkpoint --shuffle
// --causal-k; commands append their own options.
std::vector<OptionSpec> evaluationOptionSpecs();

struct EvaluationResult {
    core::RunDescription run;  // filled except policies' rate
    std::vector<core::UnitRecord> units;  // empty unless EvaluationHooks::keepUnits
    std::size_t evaluated = 0;            // units evaluated (kept or not)
    bool cancelled = false;
};

struct EvaluationHooks {
    // Called before the first unit, with the run description (for a store's run row).
    std::function<void(const core::RunDescription&, const core::EvalPlan&)> onStart;
    // Called with each unit, in order, as it finishes.
    std::function<void(const core::UnitRecord&)> onUnit;
    bool keepTokenLosses = false;
    // False when onUnit keeps the units itself (`ponder eval`'s run recorder), so a large run
    // is not held in memory twice; EvaluationResult::units is then empty.
    bool keepUnits = true;
    // `ponder eval --fast`: evaluate on the gated fast path with this policy deciding (one
    // knownBeforeUpdate signal or a learned gate; InputError before any unit otherwise).
    std::optional<core::PolicySpec> fastGate;
    // The fast path computes the SKIP distribution's statistics and gate features also when
    // its gate does not need them (another policy of the run does).
    bool fastStatistics = false;
    // A multi-process run (`--nproc`, torchrun): this rank evaluates its shard of the plan
    // (core::shardPlan) after the ranks agree on binary, model and inputs. Rank 0 gathers every
    // unit, hands each to onUnit as it arrives (not in plan order: core::RunRecorder sorts) and
    // prints the progress of the whole run; the other ranks send theirs to rank 0 and call
    // neither onStart nor onUnit. Never with fastGate (its gate follows the units in order):
    // `ponder eval` refuses --fast with --nproc before any rank starts.
    core::RankSession* session = nullptr;
};

// The evaluator and plan the shared options describe (threads applied; the plan summary
// printed on stderr unless --quiet), for commands that drive the evaluator themselves.
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

// With `session`, rank r's "cuda" is cuda:LOCAL_RANK and only rank 0 prints the summary.
PreparedEvaluation prepareEvaluation(const ParsedArgs& args, bool keepTokenLosses,
                                     const core::RankSession* session = nullptr);

// Parses the shared options, builds the plan and evaluates every unit. Throws UsageError or
// core errors; Ctrl-C stops between units and returns with cancelled = true.
EvaluationResult runEvaluation(const ParsedArgs& args, const EvaluationHooks& hooks = {});

// runEvaluation's part for hooks.session (distributed_eval.cpp): `result.run` already
// describes the whole plan.
void runDistributedEvaluation(PreparedEvaluation& prepared, const EvaluationHooks& hooks,
                              bool quiet, EvaluationResult& result);

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
