// Where this process stands in a multi-process run, by torchrun's conventions (RANK,
// WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), and how an evaluation plan is split
// between the ranks. Torch-free.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ponder::core {

struct EvalPlan;

struct World {
    int rank = 0, size = 1;            // global rank in [0, size)
    int localRank = 0, localSize = 1;  // on this machine (cuda:localRank)
    std::string masterAddr = "127.0.0.1";
    int masterPort = 29500;  // rank 0's TCPStore
    // A rank silent this long (no heartbeat) stops the whole run.
    std::chrono::seconds timeout{60};
    bool distributed() const { return size > 1; }
};

// The run's World from torchrun's variables (read through `lookup`, default getenv), or
// nullopt when RANK and WORLD_SIZE are both unset. InputError naming the variable when one is
// malformed or out of range (RANK >= WORLD_SIZE, a port outside 1..65535, ...).
using EnvironmentLookup = std::function<const char*(const char*)>;
std::optional<World> worldFromEnvironment(const EnvironmentLookup& lookup = {});

// The plan's units for each of `ranks` ranks, as positions in plan.units: whole files (file
// mode) or whole batches (paper mode) at a time, so a chunk never leaves its file or window;
// groups go largest first to the rank with the fewest tokens so far (ties: lower rank), and
// each rank keeps its units in plan order. Deterministic: every rank computes the same split.
std::vector<std::vector<std::size_t>> shardPlan(const EvalPlan& plan, int ranks);

// A digest of what the plan evaluates (units, their token ids, file names), which every rank
// must agree on before it starts.
std::string planDigest(const EvalPlan& plan);

}  // namespace ponder::core
