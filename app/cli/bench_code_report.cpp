// Scoring, the pass@k printout and the JSON summary of `ponder bench-code` (bench_code_report.h).
#include "app/cli/bench_code_report.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <set>

#include <nlohmann/json.hpp>

#include "app/cli/eval_runner.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"

namespace ponder::app {

Options benchCodeOptionSpecs() {
    const BenchCodeSettings defaults;
    std::string ks;
    for (const int k : defaults.ks)
        ks += (ks.empty() ? "" : ",") + std::to_string(k);
    return {option("--problems", "FILE.jsonl", "HumanEval or MBPP problems"),
            option("--k", "K,K,...", "pass@k for these k", ks),
            option("--timeout", "S", "seconds each program may run",
                   shown(defaults.limits.timeoutSeconds)),
            option("--memory-mb", "MB", "address space of each program's processes",
                   shown(defaults.limits.memoryBytes >> 20)),
            option("--workers", "N", "sandboxes run at once", shown(defaults.workers)),
            jsonOption("pass@k and every sample's result"),
            quietOption()};
}

BenchCodeSettings benchCodeSettings(const ParsedArgs& args) {
    BenchCodeSettings settings;
    if (const auto text = args.value("--k")) {
        settings.ks.clear();
        for (const auto& item : commaList(*text, true)) {
            std::size_t used = 0;
            long value = 0;
            try {
                value = std::stol(item, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (item.empty() || used != item.size() || value < 1 || value > 1000000)
                throw UsageError("--k expects positive integers separated by commas, got '" +
                                 *text + "'");
            settings.ks.push_back(static_cast<int>(value));
        }
        if (settings.ks.empty()) throw UsageError("--k expects at least one value");
    }
    settings.limits.timeoutSeconds = args.numberOr("--timeout", settings.limits.timeoutSeconds);
    if (!(settings.limits.timeoutSeconds > 0.0) || settings.limits.timeoutSeconds > 3600.0)
        throw UsageError("--timeout must be in (0, 3600] seconds");
    const long long memoryMb =
        args.integerOr("--memory-mb", static_cast<long long>(settings.limits.memoryBytes >> 20));
    if (memoryMb < 64 || memoryMb > (1LL << 20))
        throw UsageError("--memory-mb must be between 64 and 1048576");
    settings.limits.memoryBytes = static_cast<std::size_t>(memoryMb) << 20;
    const long long workers = args.integerOr("--workers", settings.workers);
    if (workers < 1 || workers > 64) throw UsageError("--workers must be between 1 and 64");
    settings.workers = static_cast<int>(workers);
    if (const auto json = args.value("--json")) settings.jsonPath = *json;
    settings.quiet = args.flag("--quiet");
    return settings;
}

namespace {

std::string decimals(double value, int digits) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", digits, value);
    return text;
}

// Scores every sample in the sandbox; a running count on a terminal, Ctrl-C stops.
std::vector<core::SampleResult> scoreWithProgress(const core::ProblemSet& problems,
                                                  const std::vector<core::Sample>& samples,
                                                  const core::Sandbox& sandbox,
                                                  const BenchCodeSettings& settings) {
    const bool showProgress = !settings.quiet && ::isatty(STDERR_FILENO);
    const auto clearLine = [&] {
        if (showProgress) std::cerr << "\r" << std::string(40, ' ') << "\r" << std::flush;
    };
    std::size_t passedSoFar = 0;
    core::ScoreProgress progress = [&](std::size_t done, std::size_t total, std::size_t,
                                       const core::SampleResult& result) {
        if (result.passed) ++passedSoFar;
        if (showProgress)
            std::cerr << "\rscored " << done << "/" << total << " (" << passedSoFar << " passed)"
                      << std::flush;
    };
    std::vector<core::SampleResult> results;
    {
        InterruptGuard guard;  // Ctrl-C kills the samples in flight and stops
        try {
            results = core::scoreSamples(problems, samples, sandbox, settings.workers, progress,
                                         InterruptGuard::flag());
        } catch (...) {
            clearLine();
            throw;
        }
    }
    clearLine();
    return results;
}

struct Outcomes {
    std::size_t passed = 0, failed = 0, timedOut = 0;
};

Outcomes countOutcomes(const std::vector<core::SampleResult>& results) {
    Outcomes counts;
    for (const auto& result : results) {
        if (result.passed)
            ++counts.passed;
        else if (result.result == "timed out")
            ++counts.timedOut;
        else
            ++counts.failed;
    }
    return counts;
}

void writeBenchCodeJson(const std::filesystem::path& path, const core::ProblemSet& problems,
                        const core::PassAtK& passAtK, const Outcomes& counts, std::size_t samples,
                        double seconds, const BenchCodeSettings& settings,
                        const std::string& problemsFile, const std::string& samplesFile,
                        const std::filesystem::path& resultsPath) {
    nlohmann::ordered_json json;
    json["problems_file"] = problemsFile;
    json["samples_file"] = samplesFile;
    json["results_file"] = resultsPath.string();
    json["problems"] = problems.size();
    json["problems_scored"] = passAtK.problems;
    json["samples"] = samples;
    json["passed"] = counts.passed;
    json["failed"] = counts.failed;
    json["timed_out"] = counts.timedOut;
    nlohmann::ordered_json values = nlohmann::ordered_json::object();
    for (const auto& [k, value] : passAtK.values)
        values["pass@" + std::to_string(k)] = value;
    json["pass_at_k"] = values;
    json["skipped_k"] = passAtK.skipped;
    json["seconds"] = seconds;
    json["workers"] = settings.workers;
    json["limits"] = {{"timeout_s", settings.limits.timeoutSeconds},
                      {"memory_mb", settings.limits.memoryBytes >> 20},
                      {"processes", settings.limits.maxProcesses},
                      {"output_bytes", settings.limits.outputBytes},
                      {"file_bytes", settings.limits.fileBytes}};
    core::writeFileAtomic(path, json.dump(2) + "\n");
}

}  // namespace

core::PassAtK scoreAndReport(const core::ProblemSet& problems,
                             const std::vector<core::Sample>& samples,
                             const std::filesystem::path& resultsPath,
                             const BenchCodeSettings& settings, const std::string& problemsFile,
                             const std::string& samplesFile) {
    const auto started = std::chrono::steady_clock::now();
    const core::Sandbox sandbox(settings.limits);  // refuses (SandboxError) before any sample
    std::set<std::string> tasks;
    for (const auto& sample : samples)
        tasks.insert(sample.taskId);
    std::cout << "bench-code: " << samples.size() << " samples of " << tasks.size() << " of "
              << problems.size() << " problems, " << settings.workers << " worker"
              << (settings.workers == 1 ? "" : "s") << ", timeout "
              << decimals(settings.limits.timeoutSeconds, 1) << " s, memory "
              << (settings.limits.memoryBytes >> 20) << " MB\n"
              << "sandbox: " << sandbox.describe() << "\n"
              << std::flush;
    const auto results = scoreWithProgress(problems, samples, sandbox, settings);
    core::writeResults(resultsPath, samples, results);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    const auto passAtK = core::passAtK(results, settings.ks);
    const auto counts = countOutcomes(results);
    for (const auto& [k, value] : passAtK.values)
        std::cout << "pass@" << k << ": " << decimals(value, 4) << "\n";
    for (const int k : passAtK.skipped)
        std::cout << "pass@" << k << ": n/a (needs " << k
                  << " samples of every problem; the fewest is " << passAtK.fewestSamples << ")\n";
    std::cout << "samples: " << counts.passed << " passed, " << counts.failed << " failed, "
              << counts.timedOut << " timed out of " << results.size() << "; "
              << decimals(seconds, 1) << " s ("
              << decimals(results.empty() ? 0.0 : seconds / double(results.size()), 2)
              << " s per sample)\n"
              << "wrote " << resultsPath.string() << "\n";
    if (settings.jsonPath) {
        writeBenchCodeJson(*settings.jsonPath, problems, passAtK, counts, results.size(), seconds,
                           settings, problemsFile, samplesFile, resultsPath);
        std::cout << "wrote " << settings.jsonPath->string() << "\n";
    }
    return passAtK;
}

}  // namespace ponder::app
