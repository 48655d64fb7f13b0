// One process's membership of a multi-process run (c10d's TCPStore on rank 0, every rank a
// client): joining, a heartbeat that stops every rank when one dies or hangs, agreeing on
// what must be equal between ranks, and small messages to rank 0 (finished units).
// Torch-free; training reaches the ranks' c10d process group through rank_session_impl.h.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "core/dist/world.h"

namespace ponder::core {

class RankSession {
public:
    // Rank 0 listens on masterAddr:masterPort, the others connect; then every rank waits for
    // all `world.size` to join and starts its heartbeat. DistributedError with a hint when the
    // port is in use, the master cannot be reached or not every rank joins, each within
    // world.timeout.
    explicit RankSession(const World& world);
    // Stops the heartbeat. Rank 0 first waits (up to world.timeout, or 3 s once the run
    // stopped) for the other ranks to end their sessions, so none loses the store while it
    // still sends or reads why the run stopped.
    ~RankSession();
    RankSession(const RankSession&) = delete;
    RankSession& operator=(const RankSession&) = delete;

    const World& world() const;
    int rank() const { return world().rank; }
    bool isRoot() const { return world().rank == 0; }

    // Every rank states its `value` of `what` (a SHA-256, a step); returns when all have, or
    // throws DistributedError on every rank naming the first rank whose value differs from
    // rank 0's, with `hint`.
    void agree(const std::string& what, const std::string& value, const std::string& hint);

    // agree() on the SHA-256 of the running binary (/proc/self/exe): units and gradients are
    // exchanged in its in-memory layout, and its code must be the code rank 0 runs.
    void agreeOnBinary();

    // A message for rank 0 under `key` (unique per run).
    void post(const std::string& key, const std::string& bytes);
    // Rank 0: the message under `key` if it has arrived (removed from the store), else nullopt.
    std::optional<std::string> take(const std::string& key);

    // Set once the run must stop: a rank died, hung or failed (see failure()). Work loops
    // pass it as their cancel flag.
    const std::atomic<bool>* stopFlag() const;
    // Why the run must stop, once stopFlag() is set: "rank 1 stopped responding ...".
    std::optional<std::string> failure() const;
    // Throws DistributedError(failure()) when the run must stop; returns otherwise.
    void throwIfFailed() const;
    // Also set stopFlag() (without a failure) once `flag` is set, e.g. by Ctrl-C; checked
    // with each heartbeat.
    void stopWhen(const std::atomic<bool>* flag);
    // Makes every rank stop with `reason` (this rank's own error). Never throws.
    void abort(const std::string& reason) noexcept;
    // This rank has sent everything: rank 0 stops watching its heartbeat.
    void leave();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    friend struct RankSessionAccess;
};

}  // namespace ponder::core
