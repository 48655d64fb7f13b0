// Generating benchmark completions per policy with the streaming gate, then scoring them.
#include "app/cli/bench_code_model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "app/cli/bench_code_report.h"
#include "app/cli/eval_runner.h"
#include "app/cli/generate_args.h"
#include "core/codebench/problems.h"
#include "core/codebench/samples.h"
#include "core/codebench/sandbox.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"

namespace ponder::app {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// The Codex paper's stop sequences (Chen et al. 2021): the function body ends where
// unindented code begins.
const std::vector<std::string> kDefaultStops = {"\nclass", "\ndef", "\n#", "\nif", "\nprint"};

struct PolicyOutcome {
    std::string name, method;
    double rate = 0;  // the policy's target rate (Random: Ours' realized rate)
    std::vector<core::Sample> samples;
    std::int64_t segments = 0, updates = 0, tokens = 0;
    double generateSeconds = 0, scoreSeconds = 0;
    core::PassAtK passAtK;
    fs::path samplesFile, resultsFile;
    double updateRate() const { return segments ? double(updates) / double(segments) : 0.0; }
};

std::string methodOf(const std::string& policy, const std::string& ours) {
    if (policy == "skip") return "SKIP";
    if (policy == "update") return "UPDATE_1";
    if (policy == "random") return "Random";
    return policy == ours ? "Ours (" + policy + ")" : policy;
}

std::vector<std::string> policyList(const ParsedArgs& args, const std::string& ours) {
    auto names = commaList(args.valueOr("--policies", "skip,update," + ours + ",random"));
    if (names.empty()) throw UsageError("--policies needs at least one policy");
    // Random takes Ours' realized rate, so Ours runs first whatever the order given.
    std::stable_partition(names.begin(), names.end(), [](const auto& n) { return n != "random"; });
    return names;
}

// A table row: the label, then pass@k for every k (the column names when `header`).
std::string row(const std::string& label, const core::PassAtK& passAtK, bool header) {
    char cell[32];
    std::snprintf(cell, sizeof cell, "%-20s", label.c_str());
    std::string out = cell;
    for (const auto& [k, value] : passAtK.values) {
        if (!header)
            std::snprintf(cell, sizeof cell, "  %8.4f", value);
        else
            std::snprintf(cell, sizeof cell, "  %8s", ("pass@" + std::to_string(k)).c_str());
        out += cell;
    }
    return out;
}

void writeSamples(const fs::path& path, const std::vector<core::Sample>& samples) {
    core::writeFileAtomic(path, [&](std::ostream& out) {
        for (const auto& sample : samples)
            out << sample.sourceJson << "\n";
    });
}

}  // namespace

std::vector<OptionSpec> benchCodeModelOptionSpecs() {
    auto specs = generateOptionSpecs();
    specs.push_back({"--samples", true});
    specs.push_back({"--policies", true});
    specs.push_back({"--out", true});
    return specs;
}

int runBenchCodeWithModel(const ParsedArgs& args) {
    const auto modelDir = *args.value("--model");
    const auto problemsFile = args.value("--problems");
    if (!problemsFile) throw UsageError("--problems FILE.jsonl is required");
    const auto outValue = args.value("--out");
    if (!outValue)
        throw UsageError("--out DIR is required with --model (samples and results go there)");
    const fs::path outDir = *outValue;
    const auto samplesPerProblem = args.integerOr("--samples", 1);
    if (samplesPerProblem < 1 || samplesPerProblem > 10000)
        throw UsageError("--samples must be between 1 and 10000");
    auto settings = benchCodeSettings(args);
    const auto jsonPath = settings.jsonPath;
    settings.jsonPath.reset();  // one JSON for all policies, written below

    // Everything that can be refused is refused before the model loads.
    const auto problems = core::loadProblems(*problemsFile);
    auto options = generateOptionsFrom(args, modelDir);
    if (options.stop.empty()) options.stop = kDefaultStops;
    // A completion is usually shorter than one chunk: deciding at chunk boundaries would leave
    // the gate nothing to decide, so benchmarks decide after every mini-batch unless told.
    if (!args.value("--decide-every"))
        options.decideEvery = core::GenerateOptions::DecideEvery::MiniBatch;
    const auto ours = options.policy.name;
    const auto policies = policyList(args, ours);
    for (const auto& name : policies) {
        auto spec = options.policy;
        spec.name = name;
        core::validateGenerationPolicy(spec);
    }
    { const core::Sandbox check(settings.limits); }  // SandboxError now, not after generating
    std::error_code error;
    fs::create_directories(outDir, error);
    core::checkWritableFolder(outDir / "samples.jsonl", "--out");
    if (jsonPath) core::checkWritableFolder(*jsonPath, "--json");
    const int threads = applyThreads(args);

    auto evaluator = loadGenerationModel(args, modelDir);
    core::Generator generator(*evaluator);
    const auto baseSeed = options.sampling.seed;
    std::cout << "bench-code: " << problems.size() << " problems x " << samplesPerProblem
              << " samples x " << policies.size() << " policies, model " << modelDir << ", "
              << threads << " threads, temperature " << fixed(options.sampling.temperature, 2)
              << ", top-p " << fixed(options.sampling.topP, 2) << ", max " << options.maxTokens
              << " tokens\n";

    const bool showProgress = !settings.quiet && ::isatty(STDERR_FILENO);
    std::vector<PolicyOutcome> outcomes;
    std::optional<double> oursRate;
    InterruptGuard interruptGuard;
    for (const auto& name : policies) {
        PolicyOutcome outcome;
        outcome.name = name;
        outcome.method = methodOf(name, ours);
        auto run = options;
        run.policy.name = name;
        if (name == "random" && oursRate) run.policy.rate = *oursRate;
        outcome.rate = run.policy.rate;
        const auto started = Clock::now();
        std::size_t index = 0;
        for (const auto& problem : problems.problems()) {
            for (std::int64_t s = 0; s < samplesPerProblem; ++s, ++index) {
                // The same seed for sample s of a problem under every policy: paired samples.
                run.sampling.seed = baseSeed + std::uint64_t(s);
                run.policy.seed = baseSeed + std::uint64_t(s) * 1000003u + index;
                const auto g = generator.generate(problem.prompt, run, {}, InterruptGuard::flag());
                if (g.stopReason == "cancelled")
                    throw core::CancelledError("bench-code cancelled while generating",
                                               "run it again to finish");
                for (const auto& segment : g.segments) {
                    ++outcome.segments;
                    outcome.updates += segment.decision;
                }
                outcome.tokens += g.generatedTokens();
                core::Sample sample;
                sample.taskId = problem.taskId;
                sample.completion = g.generatedText;
                sample.sourceJson = nlohmann::json{
                    {"task_id", problem.taskId},
                    {"completion", g.generatedText},
                    {"policy", name},
                    {"sample", s},
                    {"generated_tokens", g.generatedTokens()},
                    {"update_rate", g.updateRate()},
                    {"stop_reason",
                     g.stopReason}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
                outcome.samples.push_back(std::move(sample));
                if (showProgress)
                    std::cerr << "\r" << outcome.method << ": " << outcome.samples.size() << "/"
                              << problems.size() * std::size_t(samplesPerProblem) << " samples"
                              << std::flush;
            }
        }
        outcome.generateSeconds = std::chrono::duration<double>(Clock::now() - started).count();
        if (showProgress) std::cerr << "\n";
        if (name == ours) oursRate = outcome.updateRate();
        outcome.samplesFile = outDir / ("samples_" + name + ".jsonl");
        outcome.resultsFile = core::resultsPathFor(outcome.samplesFile);
        writeSamples(outcome.samplesFile, outcome.samples);
        std::cout << "\n== " << outcome.method << ": " << outcome.tokens << " tokens in "
                  << fixed(outcome.generateSeconds, 1) << " s, update rate "
                  << fixed(outcome.updateRate(), 2) << "\n";
        const auto scoreStart = Clock::now();
        outcome.passAtK = scoreAndReport(problems, outcome.samples, outcome.resultsFile, settings,
                                         *problemsFile, outcome.samplesFile.string());
        outcome.scoreSeconds = std::chrono::duration<double>(Clock::now() - scoreStart).count();
        outcomes.push_back(std::move(outcome));
    }

    std::cout << "\n"
              << row("method", outcomes.front().passAtK, true)
              << "  update rate  tokens  generate s  tokens/s\n";
    for (const auto& o : outcomes) {
        char tail[96];
        std::snprintf(tail, sizeof tail, "  %11.2f  %6lld  %10.1f  %8.1f", o.updateRate(),
                      static_cast<long long>(o.tokens), o.generateSeconds,
                      o.generateSeconds > 0 ? double(o.tokens) / o.generateSeconds : 0.0);
        std::cout << row(o.method, o.passAtK, false) << tail << "\n";
    }
    if (jsonPath) {
        nlohmann::ordered_json json;
        json["model"] = modelDir;
        json["problems_file"] = *problemsFile;
        json["problems"] = problems.size();
        json["samples_per_problem"] = samplesPerProblem;
        json["generation"] = {{"max_tokens", options.maxTokens},
                              {"temperature", options.sampling.temperature},
                              {"top_p", options.sampling.topP},
                              {"seed", baseSeed},
                              {"stop", options.stop},
                              {"chunk", options.chunk}};
        for (const auto& o : outcomes) {
            nlohmann::ordered_json values = nlohmann::ordered_json::object();
            for (const auto& [k, value] : o.passAtK.values)
                values["pass@" + std::to_string(k)] = value;
            json["policies"][o.name] = {{"method", o.method},
                                        {"target_rate", o.rate},
                                        {"update_rate", o.updateRate()},
                                        {"pass_at_k", values},
                                        {"generated_tokens", o.tokens},
                                        {"generate_seconds", o.generateSeconds},
                                        {"score_seconds", o.scoreSeconds},
                                        {"samples_file", o.samplesFile.string()},
                                        {"results_file", o.resultsFile.string()}};
        }
        core::writeFileAtomic(*jsonPath, json.dump(2) + "\n");
        std::cout << "wrote " << jsonPath->string() << "\n";
    }
    return 0;
}

}  // namespace ponder::app
