// Private (includes LibTorch): the c10d process groups of a RankSession's ranks (rendezvous
// through the session's TCPStore), created on first use, for training's all-reduce: Gloo over
// TCP for CPU tensors, NCCL for CUDA ones (collective_backend.h).
#pragma once

#include <string>

#include "core/dist/rank_session.h"
#include "core/runtime/torch_compat_impl.h"

#if PONDER_TORCH_AT_LEAST(2, 0)
#include <torch/csrc/distributed/c10d/Backend.hpp>
#else
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#endif

namespace ponder::core {

// Gloo's and NCCL's groups derive from c10d::Backend since LibTorch 2.0, from ProcessGroup before.
#if PONDER_TORCH_AT_LEAST(2, 0)
using CollectiveGroup = c10d::Backend;
#else
using CollectiveGroup = c10d::ProcessGroup;
#endif

struct RankSessionAccess {
    // The group for collectives on tensors of `deviceKind` ("cpu", "cuda"). DistributedError
    // when this build lacks its backend.
    static CollectiveGroup& processGroup(RankSession& session, const std::string& deviceKind);
};

}  // namespace ponder::core
