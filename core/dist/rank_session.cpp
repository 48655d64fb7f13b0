// A RankSession over c10d's TCPStore: rank 0 hosts the store, every rank holds two clients
// (the calling thread's and the heartbeat thread's, since a client is not shared between
// threads), and a ProcessGroupGloo (CPU tensors) or ProcessGroupNCCL (CUDA tensors) is built
// over it when training asks for one.
#include "core/dist/rank_session.h"

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <c10/macros/Macros.h>
#include <c10/util/Logging.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "core/dist/collective_backend.h"
#include "core/dist/rank_session_impl.h"
#include "core/util/errors.h"
#include "core/util/sha256.h"

namespace ponder::core {

namespace {

using Clock = std::chrono::steady_clock;
using StorePtr = c10::intrusive_ptr<c10d::TCPStore>;

constexpr auto kBeatInterval = std::chrono::milliseconds(250);
constexpr auto kPollInterval = std::chrono::milliseconds(5);
// A non-root rank whose run must stop but whose work does not return (a long unit, a
// collective waiting on a dead peer) is ended this long after the failure.
constexpr auto kExitGrace = std::chrono::seconds(5);

std::string firstLine(const std::string& text) {
    return text.substr(0, text.find('\n'));
}

std::string endpoint(const World& world) {
    return world.masterAddr + ":" + std::to_string(world.masterPort);
}

std::string seconds(std::chrono::seconds value) {
    return std::to_string(value.count()) + " s";
}

std::string text(const std::vector<std::uint8_t>& bytes) {
    return {bytes.begin(), bytes.end()};
}

std::vector<std::uint8_t> bytesOf(const std::string& value) {
    return {value.begin(), value.end()};
}

// c10d logs every failed bind and connect attempt on stderr; each failure that stops a run is
// reported once, in our own one line. GLOG_minloglevel, when set, is the user's to keep.
void quietC10dLogging() {
    if (std::getenv("GLOG_minloglevel")) return;
#ifdef C10_USE_GLOG
    FLAGS_minloglevel = 3;  // FATAL only
#else
    FLAGS_caffe2_log_level = 3;
#endif
}

StorePtr connectStore(const World& world, bool server) {
    c10d::TCPStoreOptions options;
    options.port = std::uint16_t(world.masterPort);
    options.isServer = server;
    options.waitWorkers = false;  // joining is counted below, to say how many came
    options.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(world.timeout);
#if PONDER_TORCH_AT_LEAST(2, 2)
    // LibTorch 2.4+ asks for the libuv server by default, which Debian's 2.6 is built without.
    options.useLibUV = false;
#endif
    try {
        return c10::make_intrusive<c10d::TCPStore>(world.masterAddr, options);
    } catch (const std::exception& error) {
        if (server)
            throw DistributedError("rank 0 cannot listen on port " +
                                       std::to_string(world.masterPort) + " (" +
                                       firstLine(error.what()) + ")",
                                   "another run or program holds the port: choose another "
                                   "{--master-port} (or MASTER_PORT)");
        throw DistributedError("rank " + std::to_string(world.rank) +
                                   " cannot reach the master (rank 0) at " + endpoint(world) +
                                   " within " + seconds(world.timeout),
                               "start rank 0 too, and check {--master-addr}, {--master-port} and "
                               "that the port is open between the machines");
    }
}

std::string rankKey(const char* what, int rank) {
    return std::string(what) + "/" + std::to_string(rank);
}

bool isLoopback(const std::string& address) {
    return address == "localhost" || address.rfind("127.", 0) == 0 || address == "::1";
}

}  // namespace

struct RankSession::Impl {
    World world;
    StorePtr store;      // the calling thread's client (rank 0: also the server)
    StorePtr beatStore;  // the heartbeat thread's
    std::map<CollectiveBackend, c10::intrusive_ptr<CollectiveGroup>> groups;

    std::atomic<bool> stop{false};
    mutable std::mutex mutex;
    std::condition_variable wake;
    std::optional<std::string> failure;
    bool failureFromRoot = false;  // rank 0 reports it (an abort), so this rank need not
    std::vector<bool> peerLeft;    // rank 0: ranks that called leave()
    bool quit = false;
    bool left = false;  // leave() was called
    const std::atomic<bool>* interrupt = nullptr;
    std::thread heartbeat;

    void fail(const std::string& reason, bool fromRoot = false) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!failure) {
            failure = reason;
            failureFromRoot = fromRoot && world.rank != 0;
        }
        stop.store(true);
    }

    // A store call from the calling thread; a lost store becomes this rank's failure.
    template <typename Call>
    auto call(const Call& run) -> decltype(run()) {
        try {
            return run();
        } catch (const std::exception& error) {
            fail(lostStore(error));
            throwFailure();
        }
    }

    // Why a store call failed: on rank 0 the store itself, elsewhere the master is gone.
    std::string lostStore(const std::exception& error) const {
        return world.rank == 0 ? "the run's store failed (" + firstLine(error.what()) + ")"
                               : "lost the master (rank 0) at " + endpoint(world);
    }

    [[noreturn]] void throwFailure() const;

    void beatLoop();
};

void RankSession::Impl::beatLoop() {
    struct Seen {
        std::int64_t beats = -1;
        Clock::time_point at = Clock::now();
    };
    std::vector<Seen> seen(std::size_t(world.size));
    std::optional<Clock::time_point> failedAt;
    const auto watch = [&](int peer) {
        const auto beats = beatStore->add(rankKey("beat", peer), 0);
        auto& last = seen[std::size_t(peer)];
        const auto now = Clock::now();
        if (beats != last.beats) {
            last = {beats, now};
        } else if (now - last.at > world.timeout) {
            const auto reason = "rank " + std::to_string(peer) +
                                " stopped responding (no heartbeat for " + seconds(world.timeout) +
                                ")";
            fail(reason);
            if (world.rank == 0) beatStore->set("abort", bytesOf(reason));
        }
    };
    std::unique_lock<std::mutex> lock(mutex);
    while (!quit) {
        lock.unlock();
        try {
            beatStore->add(rankKey("beat", world.rank), 1);
            {
                std::lock_guard<std::mutex> guard(mutex);
                if (interrupt && interrupt->load()) stop.store(true);
            }
            if (beatStore->check({"abort"})) fail(text(beatStore->get("abort")), true);
            if (world.rank == 0) {
                for (int peer = 1; peer < world.size; ++peer) {
                    bool left = false;
                    {
                        std::lock_guard<std::mutex> guard(mutex);
                        left = peerLeft[std::size_t(peer)];
                    }
                    if (left) continue;
                    if (beatStore->check({rankKey("left", peer)})) {
                        std::lock_guard<std::mutex> guard(mutex);
                        peerLeft[std::size_t(peer)] = true;
                    } else {
                        watch(peer);
                    }
                }
            } else {
                watch(0);
            }
        } catch (const std::exception& error) {
            fail(lostStore(error));
        }
        if (world.rank != 0 && stop.load()) {
            std::string reason;
            bool fromRoot = false;
            {
                std::lock_guard<std::mutex> guard(mutex);
                if (failure) reason = *failure;
                fromRoot = failureFromRoot;
            }
            if (!reason.empty()) {
                if (!failedAt) failedAt = Clock::now();
                if (Clock::now() - *failedAt > kExitGrace) {
                    // The work did not come back to notice: end this rank (it holds no run).
                    if (!fromRoot)
                        std::fprintf(stderr, "error: %s\nhint: every rank stopped\n",
                                     reason.c_str());
                    std::_Exit(1);
                }
            }
        }
        lock.lock();
        wake.wait_for(lock, kBeatInterval, [&] { return quit; });
    }
}

RankSession::RankSession(const World& world) : m_impl(std::make_unique<Impl>()) {
    auto& impl = *m_impl;
    impl.world = world;
    impl.peerLeft.assign(std::size_t(world.size), false);
    quietC10dLogging();
    impl.store = connectStore(world, world.rank == 0);
    impl.beatStore = connectStore(world, false);
    // Every rank counts itself in, then waits for the others.
    impl.store->add("joined", 1);
    const auto deadline = Clock::now() + world.timeout;
    for (;;) {
        const auto joined = impl.store->add("joined", 0);
        if (joined >= world.size) break;
        if (Clock::now() > deadline)
            throw DistributedError(
                "only " + std::to_string(joined) + " of " + std::to_string(world.size) +
                    " ranks joined the run at " + endpoint(world) + " within " +
                    seconds(world.timeout),
                "start every rank with the same WORLD_SIZE, MASTER_ADDR and MASTER_PORT");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    impl.heartbeat = std::thread([&impl] { impl.beatLoop(); });
}

RankSession::~RankSession() {
    auto& impl = *m_impl;
    if (impl.world.rank != 0) {
        // Gone, not left: a rank that did not leave() is still missed by rank 0's heartbeat
        // watch, but rank 0 need not wait for it to read the store any longer.
        try {
            impl.store->set(rankKey("gone", impl.world.rank), bytesOf(""));
        } catch (...) {
            // rank 0 is gone already
        }
    } else {
        // The others read the store until they leave: a stopped run's reason too, which
        // they get within a heartbeat.
        const auto wait = impl.stop.load() ? std::min<Clock::duration>(impl.world.timeout,
                                                                       std::chrono::seconds(3))
                                           : Clock::duration(impl.world.timeout);
        const auto deadline = Clock::now() + wait;
        for (;;) {
            bool allGone = true;
            try {
                for (int peer = 1; peer < impl.world.size && allGone; ++peer)
                    allGone = impl.store->check({rankKey("left", peer)}) ||
                              impl.store->check({rankKey("gone", peer)});
            } catch (...) {
                break;
            }
            if (allGone || Clock::now() > deadline) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    {
        std::lock_guard<std::mutex> guard(impl.mutex);
        impl.quit = true;
    }
    impl.wake.notify_all();
    if (impl.heartbeat.joinable()) impl.heartbeat.join();
    impl.groups.clear();
    impl.beatStore.reset();
    impl.store.reset();
}

const World& RankSession::world() const {
    return m_impl->world;
}

void RankSession::agree(const std::string& what, const std::string& value,
                        const std::string& hint) {
    auto& impl = *m_impl;
    const auto key = "agree/" + what;
    const auto waitFor = [&](const std::string& name) {
        while (!impl.call([&] { return impl.store->check({name}); })) {
            throwIfFailed();
            std::this_thread::sleep_for(kPollInterval);
        }
        return text(impl.call([&] { return impl.store->get(name); }));
    };
    impl.call([&] { impl.store->set(rankKey(key.c_str(), impl.world.rank), bytesOf(value)); });
    std::string verdict;
    if (impl.world.rank == 0) {
        for (int peer = 1; peer < impl.world.size && verdict.empty(); ++peer)
            if (waitFor(rankKey(key.c_str(), peer)) != value)
                verdict = "rank " + std::to_string(peer) + "'s " + what + " differs from rank 0's";
        impl.call(
            [&] { impl.store->set(key + "/verdict", bytesOf(verdict.empty() ? "=" : verdict)); });
    } else {
        verdict = waitFor(key + "/verdict");
        if (verdict == "=") verdict.clear();
    }
    // Every rank found it; rank 0 reports it.
    if (!verdict.empty()) throw RunStoppedError(verdict, hint);
}

void RankSession::agreeOnBinary() {
    agree("ponder binary", sha256FileHex("/proc/self/exe"),
          "install the same ponder build on every machine");
}

void RankSession::post(const std::string& key, const std::string& bytes) {
    m_impl->call([&] { m_impl->store->set(key, bytesOf(bytes)); });
}

std::optional<std::string> RankSession::take(const std::string& key) {
    auto& store = *m_impl->store;
    return m_impl->call([&]() -> std::optional<std::string> {
        if (!store.check({key})) return std::nullopt;
        auto value = text(store.get(key));
        store.deleteKey(key);
        return value;
    });
}

const std::atomic<bool>* RankSession::stopFlag() const {
    return &m_impl->stop;
}

std::optional<std::string> RankSession::failure() const {
    std::lock_guard<std::mutex> guard(m_impl->mutex);
    return m_impl->failure;
}

void RankSession::Impl::throwFailure() const {
    std::string reason;
    bool fromRoot = false;
    {
        std::lock_guard<std::mutex> guard(mutex);
        reason = failure.value_or("the run stopped");
        fromRoot = failureFromRoot;
    }
    const char hint[] = "every rank stopped; a stored run keeps the units that reached rank 0";
    if (fromRoot) throw RunStoppedError(reason, hint);
    throw DistributedError(reason, hint);
}

void RankSession::throwIfFailed() const {
    if (failure()) m_impl->throwFailure();
}

void RankSession::abort(const std::string& reason) noexcept {
    try {
        m_impl->fail(reason);
        m_impl->store->set("abort", bytesOf(reason));
    } catch (...) {
    }
}

void RankSession::stopWhen(const std::atomic<bool>* flag) {
    std::lock_guard<std::mutex> guard(m_impl->mutex);
    m_impl->interrupt = flag;
}

void RankSession::leave() {
    if (m_impl->left) return;
    m_impl->left = true;
    m_impl->store->set(rankKey("left", m_impl->world.rank), bytesOf(""));
}

namespace {

c10::intrusive_ptr<CollectiveGroup> makeGlooGroup(const World& world, const StorePtr& store) {
    auto options = c10d::ProcessGroupGloo::Options::create();
    options->timeout = std::chrono::duration_cast<std::chrono::milliseconds>(world.timeout);
    // Loopback runs stay on loopback; otherwise the interface GLOO_SOCKET_IFNAME names, or
    // the one this host's name resolves to (as PyTorch chooses).
    if (isLoopback(world.masterAddr))
        options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME"))
        options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
    else
        options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    auto prefixed = c10::make_intrusive<c10d::PrefixStore>("gloo", store);
    return c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, world.rank, world.size, options);
}

#ifdef USE_C10D_NCCL
c10::intrusive_ptr<CollectiveGroup> makeNcclGroup(const World& world, const StorePtr& store) {
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = std::chrono::duration_cast<std::chrono::milliseconds>(world.timeout);
    auto prefixed = c10::make_intrusive<c10d::PrefixStore>("nccl", store);
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, world.rank, world.size, options);
}
#endif

}  // namespace

CollectiveGroup& RankSessionAccess::processGroup(RankSession& session,
                                                 const std::string& deviceKind) {
    auto& impl = *session.m_impl;
    const auto backend = collectiveBackendFor(deviceKind);
    auto& group = impl.groups[backend];
    if (!group) {
#ifdef USE_C10D_NCCL
        if (backend == CollectiveBackend::Nccl) group = makeNcclGroup(impl.world, impl.store);
#endif
        if (backend == CollectiveBackend::Gloo) group = makeGlooGroup(impl.world, impl.store);
    }
    return *group;
}

}  // namespace ponder::core
