// An evaluation spread over ranks: every rank checks it runs what rank 0 runs, evaluates its
// shard of the plan (shardPlan), and sends each finished unit to rank 0 through the run's
// store; rank 0 evaluates its own shard meanwhile and hands every unit on as it arrives.
#include <chrono>
#include <deque>
#include <thread>

#include "core/dist/rank_session.h"
#include "core/dist/unit_wire.h"
#include "core/dist/world.h"
#include "core/eval/eval_session_impl.h"
#include "core/util/errors.h"

namespace ponder::core {

namespace {

using Clock = std::chrono::steady_clock;

std::string unitKey(std::int64_t unit) {
    return "unit/" + std::to_string(unit);
}

std::string stoppedKey(int rank) {
    return "stopped/" + std::to_string(rank);
}

double secondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// What every rank must share with rank 0 before any unit is evaluated.
void agreeOnRun(RankSession& session, const Evaluator& evaluator, const EvalPlan& plan) {
    session.agreeOnBinary();
    session.agree("backbone SHA-256", evaluator.backboneSha256(),
                  "give every rank the same {--model} directory");
    session.agree("TTT checkpoint SHA-256", evaluator.tttSha256(),
                  "give every rank the same {--model} directory");
    session.agree("input plan", planDigest(plan),
                  "every rank needs the same files at the same paths and the same {--mode}, "
                  "{--chunk}, {--ext} and {--max-units}");
}

// Rank 0: its own units as they finish and everyone else's as they arrive.
class Gatherer {
public:
    Gatherer(RankSession& session, const EvalPlan& plan,
             const std::vector<std::vector<std::size_t>>& shards,
             std::function<void(const UnitRecord&)> deliver,
             std::function<void(const EvalProgress&)> progress)
        : m_session(session),
          m_plan(plan),
          m_deliver(std::move(deliver)),
          m_progress(std::move(progress)) {
        m_expected.resize(shards.size());
        for (std::size_t rank = 1; rank < shards.size(); ++rank)
            for (const auto position : shards[rank])
                m_expected[rank].push_back(position);
        m_state.total = plan.units.size();
    }

    void add(const UnitRecord& unit, const PlanUnit& planUnit) {
        m_deliver(unit);
        m_tokens += planUnit.tokens * planUnit.sequences;
        ++m_state.done;
        m_state.elapsedSeconds = secondsSince(m_start);
        m_state.tokensPerSecond = double(m_tokens) / std::max(m_state.elapsedSeconds, 1e-9);
        m_state.etaSeconds =
            m_state.elapsedSeconds / double(m_state.done) * double(m_state.total - m_state.done);
        if (m_progress) m_progress(m_state);
    }

    // Takes whatever the other ranks have sent. Returns false when one stopped (Ctrl-C).
    bool drain() {
        for (std::size_t rank = 1; rank < m_expected.size(); ++rank) {
            auto& queue = m_expected[rank];
            while (!queue.empty()) {
                const auto& planUnit = m_plan.units[queue.front()];
                const auto bytes = m_session.take(unitKey(planUnit.index));
                if (!bytes) break;
                add(decodeUnit(*bytes), planUnit);
                queue.pop_front();
            }
            if (!queue.empty() && m_session.take(stoppedKey(int(rank)))) m_peerStopped = true;
        }
        return !m_peerStopped;
    }

    bool complete() const {
        for (const auto& queue : m_expected)
            if (!queue.empty()) return false;
        return true;
    }

    const EvalProgress& progress() const { return m_state; }

private:
    RankSession& m_session;
    const EvalPlan& m_plan;
    std::function<void(const UnitRecord&)> m_deliver;
    std::function<void(const EvalProgress&)> m_progress;
    std::vector<std::deque<std::size_t>> m_expected;  // per rank: plan positions still to come
    EvalProgress m_state;
    std::int64_t m_tokens = 0;
    bool m_peerStopped = false;
    Clock::time_point m_start = Clock::now();
};

}  // namespace

bool evaluateAsRank(RankSession& session, Evaluator& evaluator, const EvalPlan& plan,
                    const EvalCallbacks& callbacks,
                    const std::function<void(const UnitRecord&)>* deliver, EvalOutcome& outcome) {
    const int rank = session.rank();
    if (callbacks.cancel) session.stopWhen(callbacks.cancel);
    try {
        agreeOnRun(session, evaluator, plan);
        const auto shards = shardPlan(plan, session.world().size);
        EvalPlan mine;  // this rank's units over the shared files
        mine.options = plan.options;
        mine.files = plan.files;
        mine.stream = plan.stream;
        for (const auto position : shards[std::size_t(rank)])
            mine.units.push_back(plan.units[position]);

        if (!deliver) {
            const bool finished = evaluator.run(
                mine,
                [&](const UnitRecord& unit) {
                    session.post(unitKey(unit.unit), encodeUnit(unit));
                    ++outcome.evaluated;
                },
                {}, session.stopFlag());
            session.throwIfFailed();
            if (!finished) session.post(stoppedKey(rank), "");
            outcome.cancelled = !finished;
            session.leave();
            return finished;
        }

        Gatherer gatherer(session, plan, shards, *deliver, callbacks.onProgress);
        std::size_t ownDone = 0;
        bool going = evaluator.run(
            mine,
            [&](const UnitRecord& unit) {
                gatherer.add(unit, mine.units[ownDone++]);
                gatherer.drain();
            },
            {}, session.stopFlag());
        while (going && !gatherer.complete()) {
            going = gatherer.drain() && !session.stopFlag()->load();
            if (going && !gatherer.complete())
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        if (session.failure()) {
            // What reached the store before the failure is kept with the failed run.
            try {
                gatherer.drain();
            } catch (...) {
            }
            session.throwIfFailed();
        }
        const bool finished = gatherer.complete();
        // Cancelled here (Ctrl-C, SIGTERM) or on another rank: the rest stop too.
        if (!finished) session.abort("the run was cancelled");
        outcome.run.seconds = gatherer.progress().elapsedSeconds;
        outcome.run.tokensPerSecond = gatherer.progress().tokensPerSecond;
        return finished;
    } catch (...) {
        // The others stop too, unless they already know why.
        if (!session.failure()) {
            const auto report = describeError(std::current_exception());
            session.abort("rank " + std::to_string(rank) + " failed: " + report.what);
        }
        throw;
    }
}

}  // namespace ponder::core
