// human-eval's samples JSONL and its `<samples>_results.jsonl`.
#include "core/codebench/samples.h"

#include <sstream>

#include <nlohmann/json.hpp>

#include "core/codebench/jsonl_lines.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"

namespace ponder::core {

using codebench_detail::where;

std::vector<Sample> parseSamples(std::string_view text, const std::string& source,
                                 const ProblemSet& problems) {
    std::vector<Sample> samples;
    codebench_detail::forEachJsonLine(
        text, source, "sample",
        [&](const nlohmann::json& object, std::size_t line, std::string_view rawLine) {
            Sample sample;
            sample.taskId = codebench_detail::taskIdOf(object, source, line);
            const auto completion = object.find("completion");
            if (completion == object.end())
                throw InputError(where(source, line) + " has no \"completion\"",
                                 "each line needs task_id and completion (human-eval's samples "
                                 "format)");
            if (!completion->is_string())
                throw InputError(where(source, line) + ": \"completion\" is " +
                                     std::string(completion->type_name()) + ", not a string",
                                 "the completion is the code that follows the prompt, as text");
            if (!problems.find(sample.taskId))
                throw InputError(where(source, line) + ": unknown task_id \"" + sample.taskId +
                                     "\" (not in the problem file)",
                                 "score the samples against the problem file they were made for");
            sample.completion = completion->get<std::string>();
            sample.sourceJson = std::string(rawLine);
            sample.line = line;
            samples.push_back(std::move(sample));
        });
    if (samples.empty())
        throw InputError(source + " holds no samples",
                         "write one {\"task_id\": ..., \"completion\": ...} object per line");
    return samples;
}

std::vector<Sample> loadSamples(const std::filesystem::path& path, const ProblemSet& problems) {
    return parseSamples(readFileBytes(path), path.string(), problems);
}

std::filesystem::path resultsPathFor(const std::filesystem::path& samplesPath) {
    return std::filesystem::path(samplesPath.string() + "_results.jsonl");
}

void writeResults(const std::filesystem::path& path, const std::vector<Sample>& samples,
                  const std::vector<SampleResult>& results) {
    if (samples.size() != results.size())
        throw std::logic_error("writeResults: " + std::to_string(samples.size()) + " samples but " +
                               std::to_string(results.size()) + " results");
    std::ostringstream out;
    for (std::size_t i = 0; i < samples.size(); ++i)
        out << resultsLine(samples[i], results[i]) << "\n";
    writeFileAtomic(path, out.str());
}

std::string resultsLine(const Sample& sample, const SampleResult& result) {
    nlohmann::ordered_json line;
    if (!sample.sourceJson.empty()) {
        line = nlohmann::ordered_json::parse(sample.sourceJson);
    } else {
        line["task_id"] = sample.taskId;
        line["completion"] = sample.completion;
    }
    line["result"] = result.result;
    line["passed"] = result.passed;
    // Invalid UTF-8 in a program's message is replaced rather than failing the write.
    return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace ponder::core
