// `ponder eval`: SKIP/UPDATE evaluation of files or folders, streamed unit by unit into the
// run store (--db), then every requested policy replayed and summarised, and the JSON contract
// of design.md §9 written on request.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include "app/cli/commands.h"
#include "app/cli/eval_runner.h"
#include "app/cli/launcher.h"
#include "app/cli/policy_args.h"
#include "core/dist/rank_session.h"
#include "core/report/eval_json.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"

namespace ponder::app {

namespace {

std::string formatted(const char* format, double value) {
    if (!std::isfinite(value)) return "n/a";
    char text[64];
    std::snprintf(text, sizeof text, format, value);
    return text;
}

void printRow(const std::string& label, std::size_t width, const core::PolicySummary& s,
              const std::string& note) {
    std::string name = label;
    name.resize(std::max(name.size(), width), ' ');
    std::cout << name << "  " << formatted("%.4f", s.loss) << "   " << formatted("%.2f", s.rate)
              << "   " << formatted("%.2f", s.cost) << "   "
              << formatted("%6.1f%%", 100 * s.recovery) << "   "
              << formatted("%6.1f%%", 100 * s.agreement) << note << "\n";
}

// core's summary rows, the studio's too: Random at its expectation (labelled so) with the
// seeded draw the JSON and the store keep beside it; a policy that spends its own budget says
// it is compared at the rate it realized.
void printSummary(const core::RunAnalysis& analysis) {
    const auto rows = core::summaryRows(analysis);
    std::size_t width = 24;  // the labels' column: as wide as the longest
    for (const auto& row : rows)
        width = std::max(width, row.label.size());
    std::cout << "\n"
              << std::string("method").append(width - 6, ' ')
              << "  loss     rate   cost   recovery  agreement   (" << analysis.table.size()
              << " units)\n";
    for (const auto& row : rows) {
        std::string note;
        if (row.seededDraw)
            note = "   seeded draw " + formatted("%.4f", row.seededDraw->loss) + " at rate " +
                   formatted("%.2f", row.seededDraw->rate);
        if (row.ownRate) note = "   own rate: against Random and the Oracle at that rate";
        printRow(row.label, width, row.summary, note);
    }
    const auto split = core::advantageSplit(analysis.table);
    if (std::isfinite(split.advantage))
        std::cout << "advantage " << formatted("%.4f", split.advantage) << " = static "
                  << formatted("%.4f", split.advStatic) << " + inner loop "
                  << formatted("%.4f", split.advInner) << " (inner share "
                  << formatted("%.1f%%", 100 * split.innerShare) << ")\n";
}

}  // namespace

Command evalCommand() {
    const Options own = {
        databaseOption("the run, one transaction per batch of units"),
        option("--label", "TEXT", "a label stored with the run"),
        jsonOption("the run as design.md section 9's JSON contract"),
        flag("--token-losses", "store every token's loss on both paths"),
        flag("--fast", "the gated fast path: only UPDATE units run the TTT layer"),
        flag("--static-path", "also evaluate the TTT layer without its inner loop")};
    return {
        "eval",
        "SKIP/UPDATE evaluation of code files, gated by the chosen policies",
        {{"--model DIR FILE|DIR...",
          evaluationOptionSpecs() + policyOptionSpecs() + own + distributedOptionSpecs(),
          "File mode: each file in chunks of --chunk tokens (a tail of >= 64 tokens is kept,\n"
          "trimmed to a multiple of 16). Paper mode: files joined by <|endoftext|>, 2-chunk\n"
          "windows, 16 windows per unit. Prints SKIP, UPDATE_1, Random, Oracle and Ours (the\n"
          "first --policy) with loss, rate, cost, Oracle Recovery and agreement (Random at its\n"
          "expectation for the rate, the seeded draw beside it). A run whose evaluation fails\n"
          "is stored as failed. --shuffle and --causal-k -1 are the paper's sanity ablations.\n"
          "Ctrl-C or SIGTERM cancels.\n"
          "--fast: Ours decides before each update (signal recon_init, entropy, confidence or\n"
          "loss_skip, or --policy gate:DIR); only its UPDATE units run the TTT layer, the\n"
          "others' UPDATE values are stored as not computed, and what needs them (Oracle,\n"
          "recovery, agreement, other gates) prints n/a.\n"
          "--lookahead replays gate:DIR policies with the published non-causal threshold (the\n"
          "100(1 - rate) percentile of q over 16 sequences at each chunk position; not with\n"
          "--fast).\n"
          "--nproc N: N local ranks (this binary started N times, --threads cores/N each);\n"
          "with --nnodes, N on each of M machines, rank 0's at --master-addr:--master-port.\n"
          "Under torchrun, srun or a job that sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR\n"
          "and MASTER_PORT, leave --nproc out. Each rank evaluates whole files (whole paper\n"
          "batches) balanced by tokens; rank 0 alone stores, prints and writes the JSON, the\n"
          "same run as one process (bit for bit at the same --threads). A rank silent for\n"
          "--rank-timeout seconds stops every rank; the run is stored failed with the units\n"
          "that reached rank 0. Not with --fast."}},
        runEval};
}

int runEval(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, evalCommand().forms.front().options);
    auto request = evalRequestFrom(args);
    // Settings are checked before any model work, so a typo costs nothing.
    request.gating = newRunGating(args, request.modelDir.string());
    request.keepTokenLosses = args.flag("--token-losses");
    request.fast = args.flag("--fast");
    request.staticPath = args.flag("--static-path");
    if (request.fast && request.staticPath)
        throw UsageError(
            "--static-path needs both paths of every unit; the gated fast path "
            "skips UPDATE: drop --fast or --static-path");
    if (const auto db = args.value("--db")) request.database = *db;
    request.label = args.valueOr("--label", "");
    const auto start = distributedStart(args);
    if (start.role != DistributedStart::Role::Alone && request.fast)
        throw UsageError(
            "--fast decides each unit from the units before it, so it runs in one "
            "process: drop --fast or --nproc");
    if (start.role == DistributedStart::Role::Launcher) return launchRanks("eval", rawArgs, start);
    std::unique_ptr<core::RankSession> ranks;
    if (start.role == DistributedStart::Role::Rank) {
        ranks = std::make_unique<core::RankSession>(start.world);
        request.ranks = ranks.get();
    }
    try {
        const auto jsonPath = args.value("--json");
        const bool quiet = args.flag("--quiet");
        const auto database = request.database;
        auto outcome = runEvaluation(args, std::move(request));
        if (ranks && !ranks->isRoot()) return outcome.cancelled ? 1 : 0;  // rank 0 reports
        const bool stored = outcome.runId.has_value();
        if (stored && !quiet)
            std::cerr << "stored as run " << *outcome.runId << " in " << database.string() << "\n";
        if (!outcome.units.empty()) printSummary(outcome.analysis);
        if (jsonPath) {
            core::writeFileAtomic(*jsonPath,
                                  core::evalJson(outcome.run, outcome.units, outcome.analysis));
            if (!quiet) std::cerr << "wrote " << *jsonPath << "\n";
        }
        if (outcome.cancelled) {
            std::cerr << "error: cancelled after " << outcome.units.size() << " units"
                      << (stored ? " (they are stored)" : "") << "\nhint: run it again to finish\n";
            return 1;
        }
        return 0;
    } catch (...) {
        if (ranks && ranks->isRoot() && !ranks->failure())
            ranks->abort("rank 0 failed: " + core::describeError(std::current_exception()).what);
        throw;
    }
}

}  // namespace ponder::app
