// JSONL reading shared by the problem and sample readers: one JSON object per line, with
// errors that name the file and the line. Internal to core/codebench.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ponder::core::codebench_detail {

// Calls `onObject(object, line, rawLine)` for each non-blank line of `text` (CR before LF
// dropped). Throws InputError for gzip data, invalid UTF-8 (naming the line) and a line that is
// not a JSON object. `what` says what a line holds ("problem", "sample") for the hints.
void forEachJsonLine(std::string_view text, const std::string& source, const std::string& what,
                     const std::function<void(const nlohmann::json& object, std::size_t line,
                                              std::string_view rawLine)>& onObject);

// "FILE line N".
std::string where(const std::string& source, std::size_t line);

// A task_id field as text: a string as it is, an integer (MBPP) in decimal. Throws InputError
// when it is missing or of another type.
std::string taskIdOf(const nlohmann::json& object, const std::string& source, std::size_t line);

}  // namespace ponder::core::codebench_detail
