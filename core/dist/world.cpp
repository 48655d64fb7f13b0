// torchrun's environment variables and the split of an evaluation plan between ranks.
#include "core/dist/world.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <numeric>

#include "core/eval/eval_plan.h"
#include "core/util/errors.h"
#include "core/util/sha256.h"

namespace ponder::core {

namespace {

const char kEnvHint[] =
    "set RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT as torchrun does, "
    "or use {--nproc}";

// A whole decimal integer within [low, high], or InputError naming the variable.
long long integerVariable(const char* name, const char* text, long long low, long long high) {
    errno = 0;
    char* end = nullptr;
    const long long value = std::strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < low || value > high)
        throw InputError(std::string(name) + "='" + text + "' is not a whole number in [" +
                             std::to_string(low) + ", " + std::to_string(high) + "]",
                         kEnvHint);
    return value;
}

}  // namespace

std::optional<World> worldFromEnvironment(const EnvironmentLookup& lookup) {
    const auto get = [&](const char* name) -> const char* {
        const char* value = lookup ? lookup(name) : std::getenv(name);
        return value && *value ? value : nullptr;
    };
    const char* rank = get("RANK");
    const char* size = get("WORLD_SIZE");
    if (!rank && !size) return std::nullopt;
    if (!rank || !size)
        throw InputError(std::string(rank ? "WORLD_SIZE" : "RANK") + " is unset while " +
                             (rank ? "RANK" : "WORLD_SIZE") + " is set",
                         kEnvHint);
    World world;
    world.size = int(integerVariable("WORLD_SIZE", size, 1, 65536));
    world.rank = int(integerVariable("RANK", rank, 0, world.size - 1));
    world.localRank = world.rank;
    world.localSize = world.size;
    if (const char* local = get("LOCAL_WORLD_SIZE"))
        world.localSize = int(integerVariable("LOCAL_WORLD_SIZE", local, 1, world.size));
    if (const char* local = get("LOCAL_RANK"))
        world.localRank = int(integerVariable("LOCAL_RANK", local, 0, world.size - 1));
    if (const char* addr = get("MASTER_ADDR")) world.masterAddr = addr;
    if (const char* port = get("MASTER_PORT"))
        world.masterPort = int(integerVariable("MASTER_PORT", port, 1, 65535));
    return world;
}

std::vector<std::vector<std::size_t>> shardPlan(const EvalPlan& plan, int ranks) {
    if (ranks < 1) ranks = 1;
    // Groups in order of first appearance: a file (file mode) or a batch (paper mode).
    const bool byFile = plan.options.mode == EvalMode::File;
    std::map<std::int64_t, std::size_t> groupOf;
    std::vector<std::vector<std::size_t>> groups;
    std::vector<std::int64_t> groupTokens;
    for (std::size_t i = 0; i < plan.units.size(); ++i) {
        const auto& unit = plan.units[i];
        const auto key = byFile ? unit.fileIndex : unit.batchIndex;
        const auto [it, inserted] = groupOf.try_emplace(key, groups.size());
        if (inserted) {
            groups.emplace_back();
            groupTokens.push_back(0);
        }
        groups[it->second].push_back(i);
        groupTokens[it->second] += unit.tokens * unit.sequences;
    }
    std::vector<std::size_t> order(groups.size());
    std::iota(order.begin(), order.end(), std::size_t(0));
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return groupTokens[a] > groupTokens[b]; });
    std::vector<std::vector<std::size_t>> shards(static_cast<std::size_t>(ranks));
    std::vector<std::int64_t> load(static_cast<std::size_t>(ranks), 0);
    for (const auto group : order) {
        const auto lightest =
            std::size_t(std::min_element(load.begin(), load.end()) - load.begin());
        load[lightest] += groupTokens[group];
        auto& shard = shards[lightest];
        shard.insert(shard.end(), groups[group].begin(), groups[group].end());
    }
    for (auto& shard : shards)
        std::sort(shard.begin(), shard.end());
    return shards;
}

std::string planDigest(const EvalPlan& plan) {
    std::string bytes;
    const auto add = [&](const void* data, std::size_t size) {
        bytes.append(static_cast<const char*>(data), size);
    };
    for (const auto& unit : plan.units) {
        for (const auto value : {unit.index, unit.fileIndex, unit.batchIndex, unit.chunkIndex,
                                 unit.tokenStart, unit.tokens, unit.sequences})
            add(&value, sizeof value);
    }
    for (const auto& file : plan.files) {
        bytes += file.path.string();
        bytes += '\0';
        add(file.ids.data(), file.ids.size() * sizeof(std::int32_t));
    }
    add(plan.stream.data(), plan.stream.size() * sizeof(std::int32_t));
    return sha256Hex(bytes);
}

}  // namespace ponder::core
