// JSONL reading shared by the problem and sample readers (core/codebench/jsonl_lines.h).
#include "core/codebench/jsonl_lines.h"

#include "core/text/text_input.h"
#include "core/util/errors.h"

namespace ponder::core::codebench_detail {

std::string where(const std::string& source, std::size_t line) {
    return source + " line " + std::to_string(line);
}

void forEachJsonLine(
    std::string_view text, const std::string& source, const std::string& what,
    const std::function<void(const nlohmann::json&, std::size_t, std::string_view)>& onObject) {
    if (text.size() >= 2 && static_cast<unsigned char>(text[0]) == 0x1f &&
        static_cast<unsigned char>(text[1]) == 0x8b)
        throw InputError(source + " is gzip-compressed",
                         "decompress it first (gunzip -k FILE), then pass the .jsonl file");
    std::size_t start = 0, lineNumber = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(start, end - start);
        start = end + 1;
        ++lineNumber;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.find_first_not_of(" \t\r\f\v") == std::string_view::npos) continue;
        if (const auto bad = findInvalidUtf8(line); bad != std::string_view::npos)
            throw InputError(where(source, lineNumber) +
                                 " is not valid UTF-8 (bad byte at column " +
                                 std::to_string(bad + 1) + ")",
                             "JSONL files are UTF-8; convert it, e.g. iconv -f latin1 -t utf-8");
        nlohmann::json object;
        try {
            object = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception& error) {  // parse_error, or out_of_range
            // for 1e999. "[json.exception.parse_error.101] parse error at line 1, column 5:
            // syntax error while parsing value - ..." -> "column 5: syntax error while parsing
            // value - ..."; "[json.exception.out_of_range.406] number overflow parsing '1e999'"
            // -> "number overflow parsing '1e999'".
            std::string reason = error.what();
            if (const auto bracket = reason.find("] "); bracket != std::string::npos)
                reason = reason.substr(bracket + 2);
            if (const auto column = reason.find("column "); column != std::string::npos)
                reason = reason.substr(column);
            throw InputError(where(source, lineNumber) + " is not JSON (" + reason + ")",
                             "each line must be one JSON object (a " + what + "), as in JSONL");
        }
        if (!object.is_object())
            throw InputError(where(source, lineNumber) + " is JSON but not an object",
                             "each line must be one JSON object (a " + what + ")");
        onObject(object, lineNumber, line);
    }
}

std::string taskIdOf(const nlohmann::json& object, const std::string& source, std::size_t line) {
    const auto it = object.find("task_id");
    if (it == object.end())
        throw InputError(where(source, line) + " has no \"task_id\"",
                         "every line needs a task_id (a string, or an integer for MBPP)");
    if (it->is_string()) {
        if (it->get_ref<const std::string&>().empty())
            throw InputError(where(source, line) + " has an empty \"task_id\"",
                             "give every line a non-empty task_id");
        return it->get<std::string>();
    }
    if (it->is_number_integer()) return std::to_string(it->get<long long>());
    if (it->is_number_unsigned()) return std::to_string(it->get<unsigned long long>());
    throw InputError(where(source, line) + ": \"task_id\" is " + std::string(it->type_name()) +
                         ", not a string or an integer",
                     "use a string task_id (HumanEval) or an integer one (MBPP)");
}

}  // namespace ponder::core::codebench_detail
