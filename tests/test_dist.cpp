// Running past one process (docs/scaling-out.md): torchrun's variables, the split of a plan
// between ranks, units on the wire, the ranks' session over c10d's TCPStore on loopback
// (joining, agreeing, messages, heartbeats, aborts, one-line errors) and data-parallel
// gradient sums. Ranks are threads of this test here; tests/cli/distributed.sh runs processes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <future>
#include <iterator>
#include <limits>
#include <map>
#include <thread>

#include "core/dist/collective_backend.h"
#include "core/dist/data_parallel_impl.h"
#include "core/dist/rank_session.h"
#include "core/dist/unit_wire.h"
#include "core/dist/world.h"
#include "core/eval/eval_plan.h"
#include "core/util/errors.h"

// LibTorch's glog defines CHECK; Catch's is meant here.
#undef CHECK
#include <catch2/catch.hpp>

using namespace ponder::core;
using Catch::Matchers::Contains;

namespace {

// A loopback socket bound to a free port; listening when asked (a port in use).
struct PortHolder {
    int fd = -1, port = 0;
    explicit PortHolder(bool listening) {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof address;
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0);
        port = ntohs(address.sin_port);
        if (listening) REQUIRE(::listen(fd, 4) == 0);
    }
    ~PortHolder() { release(); }
    void release() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
};

int freePort() {
    PortHolder holder(false);
    return holder.port;
}

World worldOf(int rank, int size, int port, int timeoutSeconds = 10) {
    World world;
    world.rank = world.localRank = rank;
    world.size = world.localSize = size;
    world.masterPort = port;
    world.timeout = std::chrono::seconds(timeoutSeconds);
    return world;
}

// Runs `body(session)` as rank 1 in a thread while the caller is rank 0.
template <typename Body>
std::future<void> asRank1(int port, Body body, int timeoutSeconds = 10) {
    return std::async(std::launch::async, [=] {
        RankSession session(worldOf(1, 2, port, timeoutSeconds));
        body(session);
    });
}

template <typename Predicate>
bool within(std::chrono::seconds limit, Predicate done) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
}

PlanUnit unitOf(std::int64_t index, std::int64_t file, std::int64_t batch, std::int64_t tokens) {
    PlanUnit unit;
    unit.index = index;
    unit.fileIndex = file;
    unit.batchIndex = batch;
    unit.tokens = tokens;
    return unit;
}

bool sameBits(double a, double b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

}  // namespace

TEST_CASE("dist: torchrun's variables make the world and a malformed one is named", "[dist]") {
    std::map<std::string, std::string> env;
    const auto lookup = [&](const char* name) -> const char* {
        const auto found = env.find(name);
        return found == env.end() ? nullptr : found->second.c_str();
    };
    CHECK_FALSE(worldFromEnvironment(lookup).has_value());

    env = {{"RANK", "3"},
           {"WORLD_SIZE", "4"},
           {"LOCAL_RANK", "1"},
           {"LOCAL_WORLD_SIZE", "2"},
           {"MASTER_ADDR", "node0"},
           {"MASTER_PORT", "29555"}};
    const auto world = worldFromEnvironment(lookup);
    REQUIRE(world.has_value());
    CHECK(world->rank == 3);
    CHECK(world->size == 4);
    CHECK(world->localRank == 1);
    CHECK(world->localSize == 2);
    CHECK(world->masterAddr == "node0");
    CHECK(world->masterPort == 29555);
    CHECK(world->distributed());

    env = {{"RANK", "4"}, {"WORLD_SIZE", "4"}};
    CHECK_THROWS_WITH(worldFromEnvironment(lookup), Contains("RANK='4'"));
    env = {{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "80x"}};
    CHECK_THROWS_WITH(worldFromEnvironment(lookup), Contains("MASTER_PORT='80x'"));
    env = {{"RANK", "0"}};
    CHECK_THROWS_WITH(worldFromEnvironment(lookup), Contains("WORLD_SIZE is unset"));
}

TEST_CASE("dist: Gloo carries CPU collectives, NCCL CUDA ones, and a build without NCCL says so",
          "[dist]") {
    CHECK(collectiveBackendFor("cpu", false) == CollectiveBackend::Gloo);
    CHECK(collectiveBackendFor("cpu", true) == CollectiveBackend::Gloo);
    CHECK(collectiveBackendFor("cuda", true) == CollectiveBackend::Nccl);
    CHECK(std::string(collectiveBackendName(CollectiveBackend::Nccl)) == "nccl");
    CHECK(std::string(collectiveBackendName(CollectiveBackend::Gloo)) == "gloo");
    try {
        collectiveBackendFor("cuda", false);
        FAIL("a CUDA collective without NCCL was accepted");
    } catch (const DistributedError& error) {
        CHECK(std::string(error.what()).find("NCCL") != std::string::npos);
        CHECK_THAT(inCommandLineWords(error.rawHint()), Contains("--device cpu"));
    }
    // This CPU build has no NCCL, so the default is the refusal.
    if (!ncclInThisBuild()) CHECK_THROWS_AS(collectiveBackendFor("cuda"), DistributedError);
}

TEST_CASE("dist: a plan is split by whole files or batches, balanced by tokens", "[dist]") {
    EvalPlan plan;
    plan.options.mode = EvalMode::File;
    // Files 0..3 with 3, 1, 2 and 1 units: 1536, 512, 1024 and 100 tokens.
    const std::int64_t files[] = {0, 0, 0, 1, 2, 2, 3};
    for (std::int64_t i = 0; i < 7; ++i)
        plan.units.push_back(unitOf(i, files[i], 0, files[i] == 3 ? 100 : 512));

    const auto shards = shardPlan(plan, 2);
    REQUIRE(shards.size() == 2);
    // Largest first to the lighter rank: 0 <- file 0, 1 <- file 2, 1 <- file 1, then (a tie
    // at 1536 each) 0 <- file 3.
    CHECK(shards[0] == std::vector<std::size_t>{0, 1, 2, 6});
    CHECK(shards[1] == std::vector<std::size_t>{3, 4, 5});
    CHECK(shardPlan(plan, 1)[0] == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6});
    // More ranks than files: each file on a rank of its own, the rest idle.
    const auto wide = shardPlan(plan, 6);
    std::size_t assigned = 0, idle = 0;
    for (const auto& shard : wide) {
        assigned += shard.size();
        idle += shard.empty();
    }
    CHECK(assigned == 7);
    CHECK(idle == 2);

    // Paper mode keeps a batch (its chunk 0 and 1) together, whatever its file index.
    EvalPlan paper;
    paper.options.mode = EvalMode::Paper;
    for (std::int64_t i = 0; i < 6; ++i)
        paper.units.push_back(unitOf(i, -1, i / 2, 512));
    const auto batches = shardPlan(paper, 2);
    CHECK(batches[0] == std::vector<std::size_t>{0, 1, 4, 5});
    CHECK(batches[1] == std::vector<std::size_t>{2, 3});
}

TEST_CASE("dist: the plan digest changes with any unit or token", "[dist]") {
    EvalPlan plan;
    plan.units.push_back(unitOf(0, 0, 0, 512));
    plan.files.resize(1);
    plan.files[0].path = "a.py";
    plan.files[0].ids = {1, 2, 3};
    const auto digest = planDigest(plan);
    CHECK(digest.size() == 64);
    auto other = plan;
    other.files[0].ids[2] = 4;
    CHECK(planDigest(other) != digest);
    other = plan;
    other.units[0].tokens = 496;
    CHECK(planDigest(other) != digest);
    other = plan;
    other.files[0].path = "b.py";
    CHECK(planDigest(other) != digest);
}

TEST_CASE("dist: a unit crosses the wire bit for bit, NaN included", "[dist]") {
    UnitRecord unit;
    unit.unit = 7, unit.fileIndex = 2, unit.file = "src/a.py", unit.batchIndex = 3;
    unit.chunkIndex = 1, unit.tokenStart = 1024, unit.tokens = 512, unit.sequences = 16;
    unit.lineStart = 40, unit.lineEnd = 80;
    unit.lossSkip = 1.0 / 3.0, unit.lossUpdate = 0.1, unit.advantage = -0.2;
    unit.lossStatic = 0.3;
    unit.reconStep0 = 3.3, unit.reconInit = 4.4, unit.reconStep1 = 5.5, unit.improvement = -2.2;
    unit.entropy = 6.6, unit.confidence = 0.7;
    unit.entropyUpdate = std::numeric_limits<double>::quiet_NaN(), unit.confidenceUpdate = 0.8;
    unit.gateFeatures = {1.5f, -2.5f, std::numeric_limits<float>::infinity()};
    unit.blendSlopeSkip = 0.9, unit.blendSlopeUpdate = -0.9;
    unit.tokenLossSkip = {0.25f, 0.5f}, unit.tokenLossUpdate = {0.125f};
    unit.seconds = 1.25;

    const auto bytes = encodeUnit(unit);
    const auto back = decodeUnit(bytes);
    CHECK(back.unit == 7);
    CHECK(back.fileIndex == 2);
    CHECK(back.file == "src/a.py");
    CHECK(back.batchIndex == 3);
    CHECK(back.chunkIndex == 1);
    CHECK(back.tokenStart == 1024);
    CHECK(back.tokens == 512);
    CHECK(back.sequences == 16);
    CHECK(back.lineStart == 40);
    CHECK(back.lineEnd == 80);
    const std::pair<double, double> doubles[] = {{back.lossSkip, unit.lossSkip},
                                                 {back.lossUpdate, unit.lossUpdate},
                                                 {back.advantage, unit.advantage},
                                                 {back.reconStep0, unit.reconStep0},
                                                 {back.reconInit, unit.reconInit},
                                                 {back.reconStep1, unit.reconStep1},
                                                 {back.improvement, unit.improvement},
                                                 {back.entropy, unit.entropy},
                                                 {back.confidence, unit.confidence},
                                                 {back.entropyUpdate, unit.entropyUpdate},
                                                 {back.confidenceUpdate, unit.confidenceUpdate},
                                                 {back.blendSlopeSkip, unit.blendSlopeSkip},
                                                 {back.blendSlopeUpdate, unit.blendSlopeUpdate},
                                                 {back.seconds, unit.seconds},
                                                 {back.lossStatic, unit.lossStatic}};
    for (const auto& [got, sent] : doubles)
        CHECK(sameBits(got, sent));
    CHECK(std::memcmp(back.gateFeatures.data(), unit.gateFeatures.data(), 3 * sizeof(float)) == 0);
    CHECK(back.tokenLossSkip == unit.tokenLossSkip);
    CHECK(back.tokenLossUpdate == unit.tokenLossUpdate);

    CHECK_THROWS_AS(decodeUnit(bytes.substr(0, bytes.size() - 1)), DistributedError);
    CHECK_THROWS_AS(decodeUnit(bytes + "x"), DistributedError);
    CHECK_THROWS_AS(decodeUnit("PNU0" + bytes.substr(4)), DistributedError);

    // The fuzzer's seed is a real unit, so fuzz_readers starts inside the format.
    std::ifstream seedFile(PONDER_SOURCE_DIR "/tests/fuzz/corpus/readers/unit_wire.bin",
                           std::ios::binary);
    const std::string seed((std::istreambuf_iterator<char>(seedFile)), {});
    const auto seeded = decodeUnit(seed);
    CHECK(seeded.file == "pkg/mod.py");
    CHECK(seeded.tokenStart == 512);
    CHECK(seeded.tokens == 64);
    CHECK(seeded.lossStatic == Approx(2.3125));  // between its SKIP (2.5) and UPDATE (2.25)
    CHECK(encodeUnit(seeded) == seed);
}

TEST_CASE("dist: two ranks join over loopback, agree, send units and leave", "[dist]") {
    const int port = freePort();
    auto peer = asRank1(port, [](RankSession& session) {
        session.agree("model", "abc", "hint");
        session.post("unit/5", "five");
        session.leave();
    });
    RankSession root(worldOf(0, 2, port));
    CHECK(root.isRoot());
    root.agree("model", "abc", "hint");
    CHECK(within(std::chrono::seconds(10),
                 [&] { return root.take("unit/5").has_value() || false; }) == true);
    peer.get();
    CHECK_FALSE(root.take("unit/5").has_value());  // taken once
    CHECK_FALSE(root.failure().has_value());
}

TEST_CASE("dist: a value that differs from rank 0's stops both ranks, naming the rank", "[dist]") {
    const int port = freePort();
    auto peer = asRank1(port, [](RankSession& session) {
        CHECK_THROWS_WITH(session.agree("backbone SHA-256", "bbb", "same --model"),
                          "rank 1's backbone SHA-256 differs from rank 0's");
    });
    RankSession root(worldOf(0, 2, port));
    CHECK_THROWS_WITH(root.agree("backbone SHA-256", "aaa", "same --model"),
                      "rank 1's backbone SHA-256 differs from rank 0's");
    peer.get();
}

TEST_CASE("dist: rank 0 names a rank that stops beating and an abort reaches every rank",
          "[dist]") {
    SECTION("a silent rank") {
        const int port = freePort();
        // Rank 1 joins and is gone without leave(): its heartbeat stops. A 3 s timeout, since
        // it also bounds the join: 1 s failed under a loaded CI machine ("only 1 of 2 ranks
        // joined").
        auto peer = asRank1(
            port, [](RankSession&) {}, 3);
        RankSession root(worldOf(0, 2, port, 3));
        peer.get();
        CHECK(within(std::chrono::seconds(15), [&] { return root.stopFlag()->load(); }));
        REQUIRE(root.failure().has_value());
        CHECK_THAT(*root.failure(), Contains("rank 1 stopped responding"));
        CHECK_THROWS_AS(root.throwIfFailed(), DistributedError);
    }
    SECTION("an abort") {
        const int port = freePort();
        std::promise<void> aborted;
        auto peer = asRank1(port, [&](RankSession& session) {
            session.abort("rank 1 failed: out of memory");
            aborted.set_value();
        });
        RankSession root(worldOf(0, 2, port));
        aborted.get_future().get();
        CHECK(within(std::chrono::seconds(5), [&] { return root.stopFlag()->load(); }));
        CHECK(root.failure() == std::optional<std::string>("rank 1 failed: out of memory"));
        peer.get();
    }
    SECTION("a stop request is no failure") {
        const int port = freePort();
        std::atomic<bool> interrupt{false};
        auto peer = asRank1(port, [](RankSession& session) { session.leave(); });
        RankSession root(worldOf(0, 2, port));
        root.stopWhen(&interrupt);
        interrupt = true;
        CHECK(within(std::chrono::seconds(5), [&] { return root.stopFlag()->load(); }));
        CHECK_FALSE(root.failure().has_value());
        peer.get();
    }
}

TEST_CASE("dist: a port in use, no master and a missing rank are one-line errors", "[dist]") {
    PortHolder busy(true);
    try {
        RankSession root(worldOf(0, 2, busy.port, 1));
        FAIL("listened on a port in use");
    } catch (const DistributedError& error) {
        CHECK_THAT(error.what(),
                   Contains("rank 0 cannot listen on port " + std::to_string(busy.port)));
        CHECK_THAT(inCommandLineWords(error.rawHint()), Contains("--master-port"));
        CHECK(std::string(error.what()).find('\n') == std::string::npos);
    }
    const int nobody = freePort();
    CHECK_THROWS_WITH(
        RankSession(worldOf(1, 2, nobody, 1)),
        Contains("rank 1 cannot reach the master (rank 0) at 127.0.0.1:" + std::to_string(nobody)));
    CHECK_THROWS_WITH(RankSession(worldOf(0, 2, freePort(), 1)),
                      Contains("only 1 of 2 ranks joined"));
}

TEST_CASE("dist: gradients summed over two ranks equal the whole batch's", "[dist]") {
    const auto inputs = torch::arange(15, torch::kFloat32).view({5, 3}) / 7.0;
    const auto targets = torch::tensor({1.0f, -1.0f, 0.5f, 2.0f, 0.0f});
    // The whole batch in one process.
    auto whole = torch::tensor({0.3f, -0.2f, 0.1f}).requires_grad_();
    (inputs.matmul(whole) - targets).pow(2).mean().backward();

    const auto rankGradient = [&](RankSession* session) {
        DataParallel parallel(session);
        auto weights = torch::tensor({0.3f, -0.2f, 0.1f}).requires_grad_();
        const auto [first, last] = parallel.rows(5);
        const auto loss =
            (inputs.slice(0, first, last).matmul(weights) - targets.slice(0, first, last))
                .pow(2)
                .mean();
        (loss * parallel.share(5)).backward();
        parallel.sumGradients({weights});
        const auto sums = parallel.sum({double(parallel.rank()) + 1.0});
        return std::make_pair(weights.grad().clone(), sums[0]);
    };
    const int port = freePort();
    auto peer = std::async(std::launch::async, [&] {
        RankSession session(worldOf(1, 2, port));
        auto result = rankGradient(&session);
        session.leave();
        return result;
    });
    RankSession root(worldOf(0, 2, port));
    const auto [rootGradient, rootSum] = rankGradient(&root);
    const auto [peerGradient, peerSum] = peer.get();
    CHECK(torch::allclose(rootGradient, whole.grad(), 1e-6, 1e-6));
    CHECK(torch::equal(rootGradient, peerGradient));
    CHECK(rootSum == 3.0);
    CHECK(peerSum == 3.0);

    DataParallel alone(nullptr);
    CHECK(alone.rows(5) == std::make_pair(std::int64_t(0), std::int64_t(5)));
    CHECK(alone.share(5) == 1.0);
}
