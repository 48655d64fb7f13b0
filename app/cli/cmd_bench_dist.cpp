// `ponder bench --nproc 1,2`: the same evaluation in one process and over N local ranks
// (threads shared out: cores/N each), as child `ponder eval` runs, their throughput ratio; and
// the cost of gathering one unit to rank 0 (encode, the store's round trip, decode), measured
// over loopback in this process.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "app/cli/eval_runner.h"
#include "app/cli/launcher.h"
#include "core/dist/rank_session.h"
#include "core/dist/unit_wire.h"
#include "core/util/errors.h"

extern char** environ;

namespace ponder::app {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::vector<int> rankCounts(const std::string& list) {
    std::vector<int> counts;
    for (const auto& item : commaList(list, true)) {
        try {
            std::size_t used = 0;
            const int count = std::stoi(item, &used);
            if (used != item.size() || count < 1 || count > 64) throw std::invalid_argument(item);
            counts.push_back(count);
        } catch (const std::exception&) {
            throw UsageError("--nproc takes a list of rank counts like 1,2 (each 1..64)");
        }
    }
    if (counts.empty()) throw UsageError("--nproc takes a list of rank counts like 1,2");
    return counts;
}

// Runs this binary with `args`, its stdout discarded; returns its exit status.
int runSelf(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"ponder"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> pointers;
    for (auto& arg : argv)
        pointers.push_back(arg.data());
    pointers.push_back(nullptr);
    // Its summary table is not the benchmark's output; its errors still reach stderr.
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    const int spawned =
        ::posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, pointers.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) return 127;
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct Measured {
    double tokensPerSecond = 0, seconds = 0;
    std::size_t units = 0;
};

Measured evaluate(const ParsedArgs& args, int ranks, int threads, const fs::path& json) {
    std::vector<std::string> eval{"eval",    "--model",    *args.value("--model"),
                                  "--quiet", "--threads",  std::to_string(threads),
                                  "--json",  json.string()};
    for (const char* name : {"--mode", "--chunk", "--max-units"})
        if (const auto value = args.value(name)) eval.insert(eval.end(), {name, *value});
    if (ranks > 1) eval.insert(eval.end(), {"--nproc", std::to_string(ranks)});
    eval.insert(eval.end(), args.positionals().begin(), args.positionals().end());
    if (const int status = runSelf(eval); status != 0)
        throw core::DistributedError("the evaluation over " + std::to_string(ranks) +
                                         " rank(s) exited with status " + std::to_string(status),
                                     "run the same `ponder eval` by hand to see its error");
    const auto run = nlohmann::json::parse(std::ifstream(json));
    Measured measured;
    measured.tokensPerSecond = run.at("run").at("tokens_per_second").get<double>();
    measured.seconds = run.at("run").at("seconds").get<double>();
    measured.units = run.at("units").size();
    return measured;
}

// Seconds to gather one unit of `tokens` tokens (token losses included) from rank 1 to rank
// 0 over loopback: encode, post, take, decode; the mean over `count` units sent in a row.
double gatherSeconds(std::int64_t tokens, int count) {
    core::UnitRecord unit;
    unit.file = "a/file/path.py";
    unit.tokens = tokens;
    unit.gateFeatures.assign(28, 0.5f);
    unit.tokenLossSkip.assign(std::size_t(std::max<std::int64_t>(tokens - 1, 0)), 1.25f);
    unit.tokenLossUpdate = unit.tokenLossSkip;
    core::World world;
    world.size = 2;
    world.masterPort = freeLoopbackPort();
    world.timeout = std::chrono::seconds(30);
    auto sender = std::async(std::launch::async, [&] {
        auto peer = world;
        peer.rank = peer.localRank = 1;
        core::RankSession session(peer);
        for (int i = 0; i < count; ++i) {
            unit.unit = i;
            session.post("unit/" + std::to_string(i), core::encodeUnit(unit));
        }
        session.leave();
    });
    core::RankSession root(world);
    const auto start = Clock::now();
    for (int i = 0; i < count; ++i) {
        std::optional<std::string> bytes;
        while (!(bytes = root.take("unit/" + std::to_string(i))))
            root.throwIfFailed();
        if (core::decodeUnit(*bytes).unit != i)
            throw core::DistributedError("units out of order", "");
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    sender.get();
    return seconds / count;
}

}  // namespace

CommandForm benchNprocForm() {
    return {"--nproc 1,2 --model DIR FILE|DIR...",
            Options{option("--nproc", "N,N,...", "the numbers of local ranks compared"),
                    option("--threads", "CORES", "cores shared out among the ranks", "all")} +
                only(evaluationOptionSpecs(), {"--model", "--mode", "--chunk", "--max-units"}),
            "The same `ponder eval` with each number of local ranks (CORES/N threads each):\n"
            "tokens/s and the ratio to the first; then the time to gather one unit to rank 0."};
}

int runBenchDistributed(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, benchNprocForm().options);
    if (!args.value("--model") || args.positionals().empty())
        throw UsageError("bench --nproc needs --model DIR and FILE|DIR... to evaluate");
    const auto counts = rankCounts(args.valueOr("--nproc", "1,2"));
    const int requestedCores = int(args.integerOr("--threads", 0));
    const int cores =
        requestedCores > 0 ? requestedCores : std::max(1, int(std::thread::hardware_concurrency()));
    const auto scratch =
        fs::temp_directory_path() / ("ponder_bench_nproc_" + std::to_string(::getpid()));
    fs::create_directories(scratch);
    std::cout << cores << " cores shared out: each of N ranks gets " << cores << "/N threads\n";
    std::cout << "ranks  threads/rank  units  seconds  tokens/s  vs 1st\n";
    std::vector<Measured> results;
    try {
        for (const int ranks : counts) {
            const int threads = std::max(1, cores / ranks);
            results.push_back(evaluate(args, ranks, threads,
                                       scratch / ("ranks-" + std::to_string(ranks) + ".json")));
            const auto& m = results.back();
            char line[160];
            std::snprintf(line, sizeof line, "%5d  %12d  %5zu  %7.2f  %8.0f  %5.2fx\n", ranks,
                          threads, m.units, m.seconds, m.tokensPerSecond,
                          m.tokensPerSecond / results.front().tokensPerSecond);
            std::cout << line << std::flush;
        }
    } catch (...) {
        fs::remove_all(scratch);
        throw;
    }
    fs::remove_all(scratch);
    const auto chunk = args.integerOr("--chunk", core::EvalRequest{}.chunk);
    const double gather = gatherSeconds(chunk, 200);
    const auto& first = results.front();
    const double unitSeconds = first.seconds / double(std::max<std::size_t>(first.units, 1));
    std::cout << "gather to rank 0: " << fixed(gather * 1e3, 3) << " ms per unit of " << chunk
              << " tokens (encode, TCPStore round trip, decode; 200 units over loopback) = "
              << fixed(100 * gather / unitSeconds, 2) << "% of a unit's "
              << fixed(unitSeconds * 1e3, 1) << " ms with " << counts.front() << " rank(s)\n";
    return 0;
}

}  // namespace ponder::app
