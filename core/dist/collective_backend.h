// Which c10d backend carries training's collectives: Gloo for CPU tensors, NCCL for CUDA ones
// (PyTorch's default "cpu:gloo,cuda:nccl"; docs/scaling-out.md).
#pragma once

#include <string>

namespace ponder::core {

enum class CollectiveBackend { Gloo, Nccl };
const char* collectiveBackendName(CollectiveBackend backend);

// Whether the LibTorch this binary was built against has c10d's NCCL process group (a CUDA
// build with NCCL defines USE_C10D_NCCL).
bool ncclInThisBuild();

// The backend for tensors on a device of kind `deviceKind` ("cpu", "cuda"). Throws
// DistributedError when it is NCCL and `ncclBuilt` is false.
CollectiveBackend collectiveBackendFor(const std::string& deviceKind,
                                       bool ncclBuilt = ncclInThisBuild());

}  // namespace ponder::core
