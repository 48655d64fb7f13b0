// Gloo for CPU collectives, NCCL for CUDA ones, and a clear error where NCCL was not built.
#include "core/dist/collective_backend.h"

#include "core/util/errors.h"

namespace ponder::core {

const char* collectiveBackendName(CollectiveBackend backend) {
    return backend == CollectiveBackend::Nccl ? "nccl" : "gloo";
}

bool ncclInThisBuild() {
#ifdef USE_C10D_NCCL
    return true;
#else
    return false;
#endif
}

CollectiveBackend collectiveBackendFor(const std::string& deviceKind, bool ncclBuilt) {
    if (deviceKind != "cuda") return CollectiveBackend::Gloo;
    if (!ncclBuilt)
        throw DistributedError(
            "ranks on {--device cuda} need c10d's NCCL process group, and this build's LibTorch "
            "has none",
            "build against a CUDA LibTorch with NCCL (PyTorch's), or train the ranks on "
            "{--device cpu}");
    return CollectiveBackend::Nccl;
}

}  // namespace ponder::core
