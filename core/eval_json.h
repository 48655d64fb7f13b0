// The JSON contract of `ponder eval --json` (design.md §9): {"run", "units", "policies"}.
#pragma once

#include <string>
#include <vector>

#include "core/evaluator.h"
#include "core/policies.h"

namespace ponder::core {

struct RunDescription {
    std::string modelDir;
    std::string mode;  // "file" | "paper"
    std::int64_t chunk = 512;
    std::string device;
    int threads = 1;
    std::vector<std::string> inputs;
    std::size_t files = 0;
    std::int64_t tokens = 0, droppedTokens = 0;
    std::vector<std::string> skippedFiles;
    double seconds = 0;
    double tokensPerSecond = 0;
    double rate = 0.5;  // target update rate of the rate-driven policies
    std::string backboneSha256;
    std::string tttConfigJson;
    std::string startedAt;  // ISO 8601 UTC
    bool cancelled = false;
};

// Pretty-printed JSON text; non-finite numbers become null.
std::string evalJson(const RunDescription& run, const std::vector<UnitRecord>& units,
                     const std::vector<PolicyOutcome>& policies);

// The four policies `policies` always holds: skip, update, random (seed), oracle.
std::vector<PolicyOutcome> basicPolicies(const std::vector<UnitRecord>& units, double rate,
                                         std::uint64_t seed = 42);

}  // namespace ponder::core
