// An integer field of a JSON file ponder reads. nlohmann's get<std::int64_t>() on a float such
// as 5121e300 converts it out of range, which is undefined behaviour (fuzz_readers found it in
// calibration.json); this throws json::type_error instead, which each reader already reports.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace ponder::core {

inline std::int64_t jsonInteger(const nlohmann::json& value) {
    if (!value.is_number_integer())
        throw nlohmann::json::type_error::create(
            302, "type must be an integer, but is " + std::string(value.type_name()), &value);
    return value.get<std::int64_t>();
}

}  // namespace ponder::core
