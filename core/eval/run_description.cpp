// describeRun: what the evaluator and the plan know about a run before it starts.
#include "core/eval/run_description.h"

#include <ctime>

#include "core/eval/evaluator.h"
#include "core/model/ttt_config.h"

namespace ponder::core {

RunDescription describeRun(const Evaluator& evaluator, const EvalPlan& plan,
                           const std::string& modelDir) {
    RunDescription run;
    const std::time_t now = std::time(nullptr);
    char startedAt[32];
    std::strftime(startedAt, sizeof startedAt, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    run.startedAt = startedAt;
    run.modelDir = modelDir;
    run.mode = plan.options.mode == EvalMode::Paper ? "paper" : "file";
    run.chunk = plan.options.chunk;
    run.device = evaluator.device();
    run.dtype = evaluator.dtype();
    run.files = plan.files.size();
    run.tokens = plan.totalTokens;
    run.droppedTokens = plan.droppedTokens;
    run.skippedFiles = plan.skipped;
    run.backboneSha256 = evaluator.backboneSha256();
    run.tttSha256 = evaluator.tttSha256();
    run.tttConfigJson = tttConfigJson(evaluator.tttConfig());
    run.causalK = evaluator.tttConfig().causalK;
    for (const auto& file : plan.files)
        run.filePaths.push_back(file.path.string());
    return run;
}

}  // namespace ponder::core
