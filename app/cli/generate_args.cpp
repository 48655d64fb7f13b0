// Parsing the generation options into core::GenerateOptions and loading the model for them.
#include "app/cli/generate_args.h"

#include <filesystem>

#include "app/cli/eval_runner.h"
#include "app/cli/policy_args.h"
#include "core/util/errors.h"

namespace ponder::app {

Options generateOptionSpecs() {
    const core::GenerateOptions defaults;
    const Options own = {
        option("--model", "DIR", "the model folder (GPT-2 or Gemma 3 with its TTT layer)"),
        option("--max-tokens", "N", "token budget of the written text", shown(defaults.maxTokens)),
        option("--temperature", "T", "sampling temperature; 0 is greedy",
               shown(defaults.sampling.temperature)),
        option("--top-p", "P", "nucleus sampling's probability mass",
               shown(defaults.sampling.topP)),
        repeated("--stop", "TEXT", "end the text before TEXT (not printed)"),
        flag("--no-stop-at-eot", "go on past <|endoftext|>"),
        option("--chunk", "N", "tokens after which the fast weights restart",
               shown(defaults.chunk)),
        option("--decide-every", "chunk|minibatch", "when the gate decides", "chunk"),
        option("--dtype", "f32|bf16", "the backbone's dtype (TTT layer and losses: f32)", "f32"),
        deviceOption("cpu"),
        threadsOption(),
        forceCheckpointOption()};
    return own + policyOptionSpecs();
}

core::GenerateOptions generateOptionsFrom(const ParsedArgs& args, const std::string& modelDir) {
    core::GenerateOptions options;
    options.maxTokens = args.integerOr("--max-tokens", options.maxTokens);
    if (options.maxTokens < 0) throw UsageError("--max-tokens must be 0 or more");
    options.sampling.temperature = args.numberOr("--temperature", options.sampling.temperature);
    options.sampling.topP = args.numberOr("--top-p", options.sampling.topP);
    options.stop = args.values("--stop");
    for (const auto& stop : options.stop)
        if (stop.empty()) throw UsageError("--stop needs a non-empty text");
    options.stopAtEndOfText = !args.flag("--no-stop-at-eot");
    options.chunk = args.integerOr("--chunk", options.chunk);
    const auto every = args.valueOr("--decide-every", "chunk");
    if (every != "chunk" && every != "minibatch")
        throw UsageError("--decide-every must be chunk or minibatch");

    // The one default of a new run (core::resolveSettings): profile when the model has a
    // calibration.json, else paper.
    const auto settings = analysisSettingsFrom(args, {}, modelDir, true);
    if (!settings.extraPolicies.empty())
        throw UsageError("one --policy decides a generation (got " +
                         std::to_string(1 + settings.extraPolicies.size()) + ")");
    options.policy = settings.ours;
    options.sampling.seed = options.policy.seed;
    core::validateGenerationPolicy(options.policy);
    core::validateSampling(options.sampling);
    options.decideEvery = every == "chunk" ? core::GenerateOptions::DecideEvery::Chunk
                                           : core::GenerateOptions::DecideEvery::MiniBatch;
    return options;
}

std::unique_ptr<core::Evaluator> loadGenerationModel(const ParsedArgs& args,
                                                     const std::string& modelDir) {
    return std::make_unique<core::Evaluator>(
        modelDir, modelLoadOptions(args, args.valueOr("--device", "cpu")));
}

}  // namespace ponder::app
