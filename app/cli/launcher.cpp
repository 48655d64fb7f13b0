// The local launcher of `--nproc N`: torchrun's job for one machine, done by fork and exec of
// this very binary, so every rank runs the same code with RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT set.
#include "app/cli/launcher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <thread>

namespace ponder::app {

namespace {

using Clock = std::chrono::steady_clock;

// Marks this launcher's children, whose --nproc is the launcher's and not theirs to act on.
const char kLaunchedVariable[] = "PONDER_LAUNCHED";

std::atomic<bool> g_terminate{false};
extern "C" void onTerminate(int) {
    g_terminate.store(true);
}

std::string describeStatus(int status) {
    if (WIFSIGNALED(status)) {
        const int signal = WTERMSIG(status);
        const char* name = ::strsignal(signal);
        return "was killed by signal " + std::to_string(signal) +
               (name ? std::string(" (") + name + ")" : "");
    }
    return "exited with status " + std::to_string(WEXITSTATUS(status));
}

int exitCode(int status) {
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

bool hasOption(const Arguments& args, const std::string& name) {
    return std::any_of(args.begin(), args.end(), [&](const std::string& arg) {
        return arg == name || arg.rfind(name + "=", 0) == 0;
    });
}

}  // namespace

std::string rankDevice(const std::string& requested, const core::RankSession* session) {
    return session && requested == "cuda" ? "cuda:" + std::to_string(session->world().localRank)
                                          : requested;
}

int freeLoopbackPort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 29500;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t size = sizeof address;
    int port = 29500;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0)
        port = ntohs(address.sin_port);
    ::close(fd);
    return port;
}

Options distributedOptionSpecs() {
    return {option("--nproc", "N", "ranks on this machine (torchrun's variables: leave out)", "1"),
            option("--nnodes", "M", "machines, each running --nproc ranks", "1"),
            option("--node-rank", "K", "this machine's index among --nnodes", "0"),
            option("--master-addr", "A", "rank 0's address", "127.0.0.1"),
            option("--master-port", "P", "rank 0's port", "a free port; 29500 with --nnodes"),
            option("--rank-timeout", "S", "seconds a silent rank may take before all stop",
                   shown(core::World{}.timeout.count()))};
}

DistributedStart distributedStart(const ParsedArgs& args) {
    DistributedStart start;
    const auto timeout = args.integerOr("--rank-timeout", start.world.timeout.count());
    if (timeout < 1 || timeout > 86400)
        throw UsageError("--rank-timeout must be between 1 and 86400 seconds");
    start.world.timeout = std::chrono::seconds(timeout);

    const bool launched = std::getenv(kLaunchedVariable) != nullptr;
    const auto environment = core::worldFromEnvironment();
    if (environment && (launched || !args.value("--nproc"))) {
        const auto keep = start.world.timeout;
        start.world = *environment;
        start.world.timeout = keep;
        start.role =
            start.world.size > 1 ? DistributedStart::Role::Rank : DistributedStart::Role::Alone;
        return start;
    }
    if (!args.value("--nproc")) {
        for (const char* name : {"--nnodes", "--node-rank", "--master-addr", "--master-port"})
            if (args.value(name)) throw UsageError(std::string(name) + " needs --nproc N");
        return start;
    }
    if (environment)
        throw UsageError(
            "RANK and WORLD_SIZE are set (is this torchrun's worker?) and --nproc "
            "is given: use one of them");
    start.nproc = int(args.integerOr("--nproc", 1));
    start.nnodes = int(args.integerOr("--nnodes", 1));
    start.nodeRank = int(args.integerOr("--node-rank", 0));
    if (start.nproc < 1 || start.nproc > 1024) throw UsageError("--nproc must be in 1..1024");
    if (start.nnodes < 1 || start.nnodes > 65536) throw UsageError("--nnodes must be positive");
    if (start.nodeRank < 0 || start.nodeRank >= start.nnodes)
        throw UsageError("--node-rank must be in 0.." + std::to_string(start.nnodes - 1));
    const auto port = args.integerOr("--master-port", 0);
    if (args.value("--master-port") && (port < 1 || port > 65535))
        throw UsageError("--master-port must be in 1..65535");
    if (start.nnodes > 1) {
        if (!args.value("--master-addr"))
            throw UsageError("--nnodes " + std::to_string(start.nnodes) +
                             " needs --master-addr (node 0's address) and --master-port");
        start.world.masterAddr = *args.value("--master-addr");
        start.world.masterPort = port ? int(port) : 29500;
    } else {
        start.world.masterAddr = args.valueOr("--master-addr", "127.0.0.1");
        start.world.masterPort = port ? int(port) : freeLoopbackPort();
    }
    start.world.size = start.nproc * start.nnodes;
    if (start.world.size > 1) start.role = DistributedStart::Role::Launcher;
    return start;
}

namespace {

// `ponder COMMAND ARGS...` for each rank, with the machine's cores shared out unless the user
// chose (--threads or OMP_NUM_THREADS).
std::vector<std::string> rankArgv(const std::string& command, const Arguments& args,
                                  const DistributedStart& start) {
    std::vector<std::string> argv{"ponder", command};
    argv.insert(argv.end(), args.begin(), args.end());
    if (!hasOption(args, "--threads") && !std::getenv("OMP_NUM_THREADS")) {
        const int cores = int(std::thread::hardware_concurrency());
        argv.push_back("--threads");
        argv.push_back(std::to_string(std::max(1, cores / start.nproc)));
    }
    return argv;
}

// In the forked child: torchrun's variables for this rank, then this binary again.
[[noreturn]] void execRank(std::vector<char*>& argv, const DistributedStart& start, int local) {
    const int rank = start.nodeRank * start.nproc + local;
    std::signal(SIGTERM, SIG_DFL);
    std::signal(SIGINT, SIG_DFL);
    ::setenv("RANK", std::to_string(rank).c_str(), 1);
    ::setenv("WORLD_SIZE", std::to_string(start.world.size).c_str(), 1);
    ::setenv("LOCAL_RANK", std::to_string(local).c_str(), 1);
    ::setenv("LOCAL_WORLD_SIZE", std::to_string(start.nproc).c_str(), 1);
    ::setenv("GROUP_RANK", std::to_string(start.nodeRank).c_str(), 1);
    ::setenv("MASTER_ADDR", start.world.masterAddr.c_str(), 1);
    ::setenv("MASTER_PORT", std::to_string(start.world.masterPort).c_str(), 1);
    ::setenv(kLaunchedVariable, "1", 1);
    ::execv("/proc/self/exe", argv.data());
    std::fprintf(stderr, "error: rank %d cannot run this binary again: %s\n", rank,
                 std::strerror(errno));
    std::_Exit(127);
}

// The ranks' pids, or an empty list when one could not start (the others are then killed).
std::vector<pid_t> forkRanks(std::vector<std::string> argv, const DistributedStart& start) {
    std::vector<char*> argvPointers;
    for (auto& arg : argv)
        argvPointers.push_back(arg.data());
    argvPointers.push_back(nullptr);
    std::vector<pid_t> pids(std::size_t(start.nproc), -1);
    for (int local = 0; local < start.nproc; ++local) {
        const pid_t pid = ::fork();
        if (pid == 0) execRank(argvPointers, start, local);
        if (pid < 0) {
            std::cerr << "error: cannot start rank " << start.nodeRank * start.nproc + local << ": "
                      << std::strerror(errno) << "\nhint: lower --nproc\n";
            for (const auto started : pids)
                if (started > 0) ::kill(started, SIGKILL);
            for (const auto started : pids)
                if (started > 0) ::waitpid(started, nullptr, 0);
            return {};
        }
        pids[std::size_t(local)] = pid;
    }
    return pids;
}

struct RanksEnded {
    std::vector<int> statuses;  // waitpid's, per local rank
    int firstFailure = -1;      // the local rank that failed first; -1: none
};

// Waits for every rank, forwarding SIGTERM; after the first failure the others get the
// world's timeout (plus 10 s) to stop by themselves before they are killed.
RanksEnded waitForRanks(std::vector<pid_t> pids, const DistributedStart& start) {
    RanksEnded ended;
    ended.statuses.assign(pids.size(), 0);
    const auto rankOf = [&](std::size_t local) {
        return start.nodeRank * start.nproc + int(local);
    };
    std::size_t running = pids.size();
    std::optional<Clock::time_point> killAt;
    bool forwarded = false, killed = false;
    while (running > 0) {
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            const auto found = std::find(pids.begin(), pids.end(), pid);
            if (found == pids.end()) continue;
            const auto local = std::size_t(found - pids.begin());
            *found = -1;
            --running;
            ended.statuses[local] = status;
            const bool failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
            if (failed && ended.firstFailure < 0) {
                ended.firstFailure = int(local);
                killAt = Clock::now() + start.world.timeout + std::chrono::seconds(10);
            }
            // A rank that exits with a status has said why; a signal leaves it unsaid.
            if (WIFSIGNALED(status) && !killed)
                std::cerr << "error: rank " << rankOf(local) << " (pid " << pid << ") "
                          << describeStatus(status) << "\n";
            continue;
        }
        if (pid < 0 && errno != EINTR && errno != ECHILD) break;
        if (g_terminate.load() && !forwarded) {
            forwarded = true;
            for (const auto child : pids)
                if (child > 0) ::kill(child, SIGTERM);
        }
        if (killAt && Clock::now() > *killAt && !killed) {
            killed = true;
            for (std::size_t local = 0; local < pids.size(); ++local)
                if (pids[local] > 0) {
                    std::cerr << "error: rank " << rankOf(local) << " did not stop within "
                              << start.world.timeout.count() + 10 << " s of rank "
                              << rankOf(std::size_t(ended.firstFailure)) << "'s failure; killed\n";
                    ::kill(pids[local], SIGKILL);
                }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return ended;
}

}  // namespace

int launchRanks(const std::string& command, const Arguments& args, const DistributedStart& start) {
    g_terminate.store(false);
    const auto previousTerm = std::signal(SIGTERM, onTerminate);
    // The terminal sends Ctrl-C to every rank itself.
    const auto previousInt = std::signal(SIGINT, SIG_IGN);
    std::cout.flush();
    std::cerr.flush();
    const auto pids = forkRanks(rankArgv(command, args, start), start);
    const auto ended = pids.empty() ? RanksEnded{} : waitForRanks(pids, start);
    std::signal(SIGTERM, previousTerm);
    std::signal(SIGINT, previousInt);
    if (pids.empty()) return 1;
    if (ended.firstFailure < 0) return 0;
    if (start.nodeRank == 0 && exitCode(ended.statuses[0]) != 0) return exitCode(ended.statuses[0]);
    const int code = exitCode(ended.statuses[std::size_t(ended.firstFailure)]);
    return code == 0 ? 1 : code;
}

}  // namespace ponder::app
