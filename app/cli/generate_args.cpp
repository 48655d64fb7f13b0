// Parsing the generation options into core::GenerateOptions and loading the model for them.
#include "app/cli/generate_args.h"

#include <filesystem>

#include "app/cli/eval_runner.h"
#include "app/cli/policy_args.h"
#include "core/util/errors.h"

namespace ponder::app {

std::vector<OptionSpec> generateOptionSpecs() {
    std::vector<OptionSpec> specs = {
        {"--model", true},   {"--max-tokens", true},        {"--temperature", true},
        {"--top-p", true},   {"--stop", true, true},        {"--no-stop-at-eot", false},
        {"--chunk", true},   {"--decide-every", true},      {"--device", true},
        {"--threads", true}, {"--force-checkpoint", false}, {"--dtype", true}};
    for (const auto& spec : policyOptionSpecs())
        specs.push_back(spec);
    return specs;
}

core::GenerateOptions generateOptionsFrom(const ParsedArgs& args, const std::string& modelDir) {
    core::GenerateOptions options;
    options.maxTokens = args.integerOr("--max-tokens", 256);
    if (options.maxTokens < 0) throw UsageError("--max-tokens must be 0 or more");
    options.sampling.temperature = args.numberOr("--temperature", 0.0);
    options.sampling.topP = args.numberOr("--top-p", 1.0);
    options.stop = args.values("--stop");
    for (const auto& stop : options.stop)
        if (stop.empty()) throw UsageError("--stop needs a non-empty text");
    options.stopAtEndOfText = !args.flag("--no-stop-at-eot");
    options.chunk = args.integerOr("--chunk", 512);
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
