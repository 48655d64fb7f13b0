// Reading a model's JSON config (config.json, ttt.json) field by field: every problem names
// its field and becomes the parser's own ModelLoadError (its label and hint), so the GPT-2,
// Gemma 3 and TTT parsers say the same thing the same way.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/util/errors.h"

namespace ponder::core {

class ConfigFields {
public:
    using Fail = std::function<ModelLoadError(const std::string& why)>;
    static constexpr std::int64_t kNoLimit = std::numeric_limits<std::int64_t>::max();

    // Parses `text`: not JSON, or not an object, is `fail`'s error.
    ConfigFields(std::string_view text, Fail fail);
    // An object already parsed (Gemma 3's text_config).
    ConfigFields(nlohmann::json root, Fail fail);

    const nlohmann::json& root() const { return m_root; }
    ConfigFields within(const nlohmann::json& object) const { return {object, m_fail}; }
    bool has(const char* key) const;  // present and not null
    [[noreturn]] void fail(const std::string& why) const;

    // A positive integer at most `limit`; required, or `fallback` when absent.
    std::int64_t positive(const char* key, std::int64_t limit = kNoLimit) const;
    std::int64_t positiveOr(const char* key, std::int64_t fallback,
                            std::int64_t limit = kNoLimit) const;
    // A string; required, or `fallback` when absent.
    std::string text(const char* key) const;
    std::string textOr(const char* key, const std::string& fallback) const;
    const nlohmann::json& field(const char* key) const;  // required, any type

private:
    std::int64_t checkedPositive(const char* key, std::int64_t limit) const;

    nlohmann::json m_root;
    Fail m_fail;
};

}  // namespace ponder::core
