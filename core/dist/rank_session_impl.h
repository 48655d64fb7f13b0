// Private (includes LibTorch): the c10d process group of a RankSession's ranks (Gloo over
// TCP, rendezvous through the session's TCPStore), created on first use, for training's
// all-reduce.
#pragma once

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include "core/dist/rank_session.h"

namespace ponder::core {

struct RankSessionAccess {
    static c10d::ProcessGroup& processGroup(RankSession& session);
};

}  // namespace ponder::core
