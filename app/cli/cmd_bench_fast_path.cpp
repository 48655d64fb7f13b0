// `ponder bench --gated`: wall-clock of SKIP, UPDATE_1, both paths and the gated fast path at
// several target rates on real files, with the loss the earlier signal costs next to the
// published recon_step0 gate (which needs both paths).
#include <cstdio>
#include <iostream>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "app/cli/eval_runner.h"
#include "app/cli/policy_args.h"
#include "core/gating/calibration.h"
#include "core/gating/run_analysis.h"
#include "core/runtime/fast_path_bench.h"
#include "core/util/errors.h"

namespace ponder::app {

namespace {

const char* const kDefaultRates = "0.3,0.5,0.7";

std::vector<double> parseRates(const std::string& text) {
    std::vector<double> rates;
    for (const auto& item : commaList(text, true)) {
        char* end = nullptr;
        const double rate = std::strtod(item.c_str(), &end);
        if (item.empty() || *end != '\0' || !(rate >= 0.0 && rate <= 1.0))
            throw UsageError("--rates takes rates in [0, 1] separated by commas, e.g. 0.3,0.5,0.7");
        rates.push_back(rate);
    }
    if (rates.empty()) throw UsageError("--rates needs at least one rate");
    return rates;
}

void printTimings(const core::FastPathBenchmark& result) {
    const double both = result.timings[2].seconds;
    std::cout << "path              seconds   tokens/s   time vs both paths\n";
    for (const auto& timing : result.timings) {
        const std::string name =
            timing.name == "gated" ? "gated @ " + fixed(timing.rate, 2) : timing.name;
        std::printf("%-16s %8.2f %10.0f   %6.3f\n", name.c_str(), timing.seconds,
                    timing.tokensPerSecond, timing.seconds / both);
    }
}

void printLosses(const core::FastPathBenchmark& result, const std::string& gate) {
    std::cout << "\nloss (nats) per target rate: the gated fast path on " << gate
              << " as it measured itself, recon-ema on recon_step0 replayed from the both-paths"
                 " run (the published gate), Random (expected) and Oracle; last columns check the"
                 " fast path against a replay of its own gate\n";
    std::cout << "rate  | gated: loss   rate  recovery | recon_step0: loss   rate  recovery |"
                 " random   oracle  | decisions differing, max |loss diff|\n";
    for (const auto& row : result.rates)
        std::printf(
            "%.2f  |        %.4f  %.3f  %6.1f%% |              %.4f  %.3f  %6.1f%% |"
            " %.4f   %.4f  | %zu, %.1e\n",
            row.rate, row.gated.loss, row.gated.rate, 100 * row.gated.recovery, row.published.loss,
            row.published.rate, 100 * row.published.recovery, row.randomLoss, row.oracleLoss,
            row.decisionMismatches, row.maxLossDifference);
}

}  // namespace

CommandForm benchGatedForm() {
    return {"--gated --model DIR FILE|DIR...",
            Options{flag("--gated", "time the gated fast path"),
                    option("--rates", "R,R,...", "the target rates timed", kDefaultRates)} +
                evaluationOptionSpecs() + policyOptionSpecs(),
            "The gated fast path: deciding from a signal known before the update (recon_init by\n"
            "default, entropy, confidence or loss_skip) so a SKIP unit never runs the TTT layer\n"
            "or the second LM head. Times SKIP, UPDATE_1, both paths (the published way) and the\n"
            "gated path at each rate, interleaved unit by unit, and compares its loss and Oracle\n"
            "Recovery with the published recon_step0 gate replayed over the both-paths run."};
}

int runBenchFastPath(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, benchGatedForm().options);
    auto prepared = prepareEvaluation(args, false);
    if (prepared.plan.units.empty())
        throw core::InputError("no evaluation units in the given files",
                               "pass files of at least one chunk, or a smaller --chunk");

    core::FastPathOptions options;
    options.rates = parseRates(args.valueOr("--rates", kDefaultRates));
    core::AnalysisSettings defaults;
    defaults.ours.signal = core::Signal::ReconInit;  // the fast path's own default
    const auto settings = analysisSettingsFrom(args, defaults, prepared.modelDir);
    options.gate = settings.ours;
    options.calibration = settings.calibration.get();  // profile: τ0 per rate, as resolved
    const bool learned = core::isGatePolicy(options.gate.name);
    const auto gate = learned ? core::methodName(options.gate.name) +
                                    " (its own trained rate; "
                                    "Random, Oracle and recon_step0 at the rate it realized)"
                              : core::signalName(options.gate.signal);
    std::cout << "fast path: " << prepared.plan.units.size() << " units, "
              << prepared.plan.totalTokens << " tokens, " << options.gate.name << " on " << gate;
    if (!learned) std::cout << " (" << options.gate.calibration << " calibration)";
    std::cout << ", " << prepared.threads << " threads, device " << prepared.evaluator->device()
              << "\n";
    const auto result = core::benchmarkFastPath(*prepared.evaluator, prepared.plan, options);
    printTimings(result);
    printLosses(result, gate);
    return 0;
}

}  // namespace ponder::app
