// The calls whose LibTorch API changed between the versions we build against
// (torch_compat_impl.h).
#include "core/runtime/torch_compat_impl.h"

#include <ATen/autocast_mode.h>

namespace ponder::core {

bool autocastEnabled(bool cuda) {
#if PONDER_TORCH_AT_LEAST(2, 4)
    return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU);
#else
    return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

void setBf16Autocast(bool cuda, bool enabled) {
#if PONDER_TORCH_AT_LEAST(2, 4)
    const auto device = cuda ? at::kCUDA : at::kCPU;
    if (enabled) at::autocast::set_autocast_dtype(device, at::kBFloat16);
    at::autocast::set_autocast_enabled(device, enabled);
#else
    if (cuda) {
        if (enabled) at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
        at::autocast::set_enabled(enabled);
    } else {
        if (enabled) at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
        at::autocast::set_cpu_enabled(enabled);
    }
#endif
}

}  // namespace ponder::core
