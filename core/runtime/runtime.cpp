// LibTorch process set-up: thread count, device choice, and which BLAS is really in use
// (a fresh Debian machine has the reference BLAS, ~30x slower than OpenBLAS).
#include "core/runtime/runtime.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/torch.h>
#include <torch/version.h>

#include "core/dist/collective_backend.h"
#include "core/runtime/cpu_allocator_impl.h"
#include "core/util/errors.h"

namespace ponder::core {

int configureThreads(int requested) {
    int threads = requested;
    if (threads <= 0) {
        if (const char* env = std::getenv("OMP_NUM_THREADS")) threads = std::atoi(env);
        if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
        if (threads <= 0) threads = 1;
    }
    at::set_num_threads(threads);
    installCachingCpuAllocator();
    return at::get_num_threads();
}

BlasInfo detectBlas() {
    BlasInfo info;
    std::string openblasPath;
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        const auto slash = line.find('/');
        if (slash == std::string::npos) continue;
        const std::string path = line.substr(slash);
        const std::string file = path.substr(path.rfind('/') + 1);
        if (file.rfind("libblas.so", 0) == 0 && info.library.empty()) info.library = path;
        if (file.rfind("libopenblas", 0) == 0 && openblasPath.empty()) openblasPath = path;
    }
    const auto flavourOf = [](const std::string& path) {
        if (path.find("openmp") != std::string::npos) return std::string("OpenBLAS (openmp)");
        if (path.find("pthread") != std::string::npos) return std::string("OpenBLAS (pthread)");
        if (path.find("serial") != std::string::npos) return std::string("OpenBLAS (serial)");
        return std::string("OpenBLAS");
    };
    if (info.library.empty()) {
        info.library = openblasPath;
        info.name =
            openblasPath.empty() ? "unknown (no BLAS library mapped)" : flavourOf(openblasPath);
    } else if (info.library.find("openblas") != std::string::npos) {
        info.name = flavourOf(info.library);
    } else if (info.library.find("/blas/") != std::string::npos) {
        info.name = "reference BLAS (netlib)";
        info.isReference = true;
    } else {
        info.name = "other BLAS";
    }
    return info;
}

std::string referenceBlasWarning() {
    return "warning: the reference BLAS is active, so matrix products run ~30x slower.\n"
           "hint: `sudo apt-get install libopenblas0-openmp` (it switches the libblas.so.3 "
           "alternative), or `sudo update-alternatives --config libblas.so.3-x86_64-linux-gnu`";
}

namespace {
// The CUDA runtime version ATen's CUDA library was compiled with; known without a device, and
// empty where that library is absent (a CPU LibTorch: its hooks throw).
std::string builtCudaVersion() {
    try {
        const auto version = at::detail::getCUDAHooks().versionCUDART();  // e.g. 12040
        return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
    } catch (const std::exception&) {
        return "";
    }
}
}  // namespace

RuntimeInfo runtimeInfo() {
    RuntimeInfo info;
    info.torchVersion = TORCH_VERSION;
    info.threads = at::get_num_threads();
    info.devices.push_back("cpu");
    info.cudaAvailable = torch::cuda::is_available();
    info.cudaBuild = builtCudaVersion();
    info.nccl = ncclInThisBuild();
    if (info.cudaAvailable)
        for (std::size_t i = 0; i < torch::cuda::device_count(); ++i)
            info.devices.push_back("cuda:" + std::to_string(i));
    info.blas = detectBlas();
    return info;
}

double measureGemmGflops(int n, double seconds) {
    torch::NoGradGuard noGrad;
    torch::manual_seed(0);
    const auto a = torch::randn({n, n}), b = torch::randn({n, n});
    auto c = torch::mm(a, b);  // warm-up: thread pool and BLAS buffers
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    int runs = 0;
    double elapsed = 0.0;
    do {
        c = torch::mm(a, b);
        ++runs;
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < seconds);
    return 2.0 * double(n) * n * n * runs / elapsed / 1e9;
}

std::string resolveDevice(const std::string& requested) {
    const bool cuda = torch::cuda::is_available();
    if (requested.empty() || requested == "auto") return cuda ? "cuda:0" : "cpu";
    if (requested == "cpu") return "cpu";
    if (requested.rfind("cuda", 0) == 0) {
        if (!cuda)
            throw InputError("CUDA was requested but this LibTorch has no usable CUDA device",
                             "use {--device cpu}, or build against a CUDA-enabled LibTorch");
        try {
            torch::Device device(requested);
            const auto index = device.has_index() ? device.index() : 0;
            if (index >= static_cast<int>(torch::cuda::device_count()))
                throw InputError("no CUDA device " + std::to_string(index),
                                 "this machine has " + std::to_string(torch::cuda::device_count()));
            return "cuda:" + std::to_string(index);
        } catch (const c10::Error&) {
        }
    }
    throw InputError("unknown device '" + requested + "'", "use auto, cpu, cuda or cuda:N");
}

}  // namespace ponder::core
