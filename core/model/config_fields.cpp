// ConfigFields: typed reads of a model config's JSON fields with the messages every parser uses.
#include "core/model/config_fields.h"

namespace ponder::core {

using nlohmann::json;

ConfigFields::ConfigFields(std::string_view text, Fail fail) : m_fail(std::move(fail)) {
    try {
        m_root = json::parse(text);
    } catch (const json::exception& error) {
        this->fail(std::string("not valid JSON (") + error.what() + ")");
    }
    if (!m_root.is_object()) this->fail("not a JSON object");
}

ConfigFields::ConfigFields(json root, Fail fail)
    : m_root(std::move(root)), m_fail(std::move(fail)) {}

bool ConfigFields::has(const char* key) const {
    return m_root.contains(key) && !m_root[key].is_null();
}

void ConfigFields::fail(const std::string& why) const {
    throw m_fail(why);
}

const json& ConfigFields::field(const char* key) const {
    if (!has(key)) fail(std::string("missing field ") + key);
    return m_root[key];
}

std::int64_t ConfigFields::checkedPositive(const char* key, std::int64_t limit) const {
    const auto& value = m_root[key];
    if (!value.is_number_integer() || value.get<std::int64_t>() <= 0)
        fail(std::string(key) + " must be a positive integer, got " + value.dump());
    if (value.get<std::int64_t>() > limit)
        fail(std::string(key) + " is " + value.dump() + ", above the limit " +
             std::to_string(limit));
    return value.get<std::int64_t>();
}

std::int64_t ConfigFields::positive(const char* key, std::int64_t limit) const {
    field(key);
    return checkedPositive(key, limit);
}

std::int64_t ConfigFields::positiveOr(const char* key, std::int64_t fallback,
                                      std::int64_t limit) const {
    return has(key) ? checkedPositive(key, limit) : fallback;
}

std::string ConfigFields::text(const char* key) const {
    const auto& value = field(key);
    if (!value.is_string()) fail(std::string(key) + " must be a string, got " + value.dump());
    return value.get<std::string>();
}

std::string ConfigFields::textOr(const char* key, const std::string& fallback) const {
    return has(key) ? text(key) : fallback;
}

}  // namespace ponder::core
