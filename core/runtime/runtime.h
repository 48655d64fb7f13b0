// Process-wide LibTorch set-up and facts: threads, devices, BLAS, measured GEMM speed.
#pragma once

#include <string>
#include <vector>

namespace ponder::core {

// Sets LibTorch's intra-op threads; 0 means all cores (OMP_NUM_THREADS wins when set).
// Must run before any tensor work: LibTorch here defaults to half the cores. Also installs
// the caching CPU allocator (cpu_allocator.h).
int configureThreads(int requested);

struct BlasInfo {
    std::string name;     // "OpenBLAS (openmp)", "reference BLAS", ...
    std::string library;  // resolved path of the libblas.so.3 the process uses
    bool isReference = false;
};
// Which BLAS the process mapped (read from /proc/self/maps after a GEMM has run).
BlasInfo detectBlas();
// The warning and fix to print when the reference BLAS is active.
std::string referenceBlasWarning();

struct RuntimeInfo {
    std::string torchVersion;
    int threads = 1;
    std::vector<std::string> devices;  // "cpu", "cuda:0 (NVIDIA H100 ...)" ...
    bool cudaAvailable = false;
    std::string cudaBuild;  // the CUDA runtime this LibTorch was built with ("12.4"), else empty
    bool nccl = false;      // ranks on CUDA can all-reduce (core/dist/collective_backend.h)
    BlasInfo blas;
};
RuntimeInfo runtimeInfo();

// Measured float32 GEMM rate on the CPU: repeated n x n matmuls for about `seconds`.
double measureGemmGflops(int n = 1024, double seconds = 0.5);

// Parses "auto" | "cpu" | "cuda" | "cuda:N" and checks availability; returns a canonical
// device string. Throws UsageError-like InputError when CUDA is asked for but absent.
std::string resolveDevice(const std::string& requested);

}  // namespace ponder::core
