// Runs one untrusted Python program under bubblewrap: no network, a read-only file system but
// for a fresh /tmp, its own pid namespace, a non-root kernel uid, rlimits and a seccomp filter;
// the verdict as human-eval writes it. Torch-free. docs/code-benchmarks.md lists what it does
// and does not isolate.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

namespace ponder::core {

struct SandboxLimits {
    double timeoutSeconds = 3.0;  // human-eval's default: the program's own run time
    // Every process of the sample: RLIMIT_AS (address space, so a bit above the heap it gets).
    std::size_t memoryBytes = std::size_t(1024) << 20;
    int maxProcesses = 16;                           // RLIMIT_NPROC: processes and threads
    std::size_t outputBytes = std::size_t(1) << 20;  // stdout + stderr; killed past it
    std::size_t fileBytes = std::size_t(16) << 20;   // RLIMIT_FSIZE: each written file
    int openFiles = 256;                             // RLIMIT_NOFILE
    // Derived: the wall limit (timeout + 1 s, as human-eval joins its worker) and the CPU
    // limit (ceil(timeout) + 1 s; SIGXCPU, then SIGKILL a second later).
    double wallSeconds() const { return timeoutSeconds + 1.0; }
    std::size_t tmpBytes() const { return 4 * fileBytes; }  // the size of the /tmp tmpfs
    long cpuSeconds() const;
};

// What one run gave.
struct SandboxRun {
    std::string result;  // "passed", "timed out" or "failed: <reason>" (human-eval's strings)
    bool passed = false;
    double seconds = 0.0;    // wall time from start to the last process gone
    std::string outputHead;  // the first 4 KiB of stdout, then the first 4 KiB of stderr
    std::size_t outputBytes = 0;
    unsigned uid = 0;  // the kernel uid the program ran as (tests look for leftovers by it)
};

class Sandbox {
public:
    // Finds /usr/bin/bwrap, /usr/bin/python3 and (as root) /usr/bin/setpriv, builds the seccomp
    // filter and runs a self-check program. Throws SandboxError with a hint when the sandbox
    // cannot be set up, so that code is never run unprotected; std::invalid_argument for
    // limits out of range.
    explicit Sandbox(const SandboxLimits& limits = {});
    ~Sandbox();
    Sandbox(const Sandbox&) = delete;
    Sandbox& operator=(const Sandbox&) = delete;

    // Runs `program` (Python source) and returns its verdict; safe to call from several
    // threads at once (each run gets its own uid and namespaces). When `*cancel` turns true
    // the run is killed and CancelledError thrown. Throws SandboxError when the sandbox fails
    // to start (then no program code ran).
    SandboxRun run(const std::string& program, const std::atomic<bool>* cancel = nullptr) const;

    const SandboxLimits& limits() const;
    // One line: "bubblewrap, uid switch with setpriv, seccomp filter" or the user-namespace mode.
    std::string describe() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace ponder::core
