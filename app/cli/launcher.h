// How a command runs past one process (docs/scaling-out.md): alone, as the launcher of
// --nproc local ranks (this binary started again with torchrun's variables), or as one rank
// of a run started by that launcher, torchrun, srun or a Kubernetes job.
#pragma once

#include <optional>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "core/dist/rank_session.h"
#include "core/dist/world.h"

namespace ponder::app {

// --nproc N --nnodes M --node-rank K --master-addr A --master-port P --rank-timeout S
Options distributedOptionSpecs();

struct DistributedStart {
    enum class Role { Alone, Launcher, Rank };
    Role role = Role::Alone;
    core::World world;  // Rank: this process; Launcher: rank 0's address, port and timeout
    int nproc = 1, nnodes = 1, nodeRank = 0;  // Launcher
};

// From the options and the environment: RANK/WORLD_SIZE set (torchrun, or this launcher's
// children) make a Rank; --nproc with more than one rank in all makes a Launcher; otherwise
// Alone. UsageError for inconsistent options (RANK set and --nproc given, a node rank outside
// --nnodes, several nodes without --master-addr).
DistributedStart distributedStart(const ParsedArgs& args);

// Starts start.nproc copies of `ponder command args` on this machine as ranks
// nodeRank·nproc .. +nproc-1 (each --threads cores/nproc unless given), forwards SIGTERM, and
// waits. When a rank fails the others get world.timeout to stop by themselves before they
// are killed. Returns rank 0's exit status when it failed, else the first failure's, else 0.
int launchRanks(const std::string& command, const Arguments& args, const DistributedStart& start);

// The device a rank of `session` (none: this one process) uses for `requested`: "cuda" is
// cuda:LOCAL_RANK on a rank, anything else stays as asked.
std::string rankDevice(const std::string& requested, const core::RankSession* session);

// A loopback port free right now (29500 if none can be probed), for a one-machine run without
// --master-port.
int freeLoopbackPort();

}  // namespace ponder::app
