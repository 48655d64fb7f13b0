// An evaluation spread over ranks: every rank checks it runs what rank 0 runs, evaluates its
// shard of the plan (core::shardPlan), and sends each finished unit to rank 0 through the
// run's store; rank 0 evaluates its own shard meanwhile and hands every unit on as it arrives.
#include <chrono>
#include <deque>
#include <iostream>
#include <thread>

#include "app/cli/eval_runner.h"
#include "core/dist/unit_wire.h"
#include "core/util/errors.h"

namespace ponder::app {

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
void agreeOnRun(core::RankSession& session, const core::Evaluator& evaluator,
                const core::EvalPlan& plan) {
    session.agreeOnBinary();
    session.agree("backbone SHA-256", evaluator.backboneSha256(),
                  "give every rank the same --model directory");
    session.agree("TTT checkpoint SHA-256", evaluator.tttSha256(),
                  "give every rank the same --model directory");
    session.agree("input plan", core::planDigest(plan),
                  "every rank needs the same files at the same paths and the same --mode, "
                  "--chunk, --ext and --max-units");
}

// Rank 0: its own units as they finish and everyone else's as they arrive.
class Gatherer {
public:
    Gatherer(core::RankSession& session, const core::EvalPlan& plan,
             const std::vector<std::vector<std::size_t>>& shards,
             std::function<void(const core::UnitRecord&)> deliver, bool quiet)
        : m_session(session), m_plan(plan), m_deliver(std::move(deliver)), m_progress(quiet) {
        m_expected.resize(shards.size());
        for (std::size_t rank = 1; rank < shards.size(); ++rank)
            for (const auto position : shards[rank])
                m_expected[rank].push_back(position);
        m_state.total = plan.units.size();
    }

    void add(const core::UnitRecord& unit, const core::PlanUnit& planUnit) {
        m_deliver(unit);
        m_tokens += planUnit.tokens * planUnit.sequences;
        ++m_state.done;
        m_state.elapsedSeconds = secondsSince(m_start);
        m_state.tokensPerSecond = double(m_tokens) / std::max(m_state.elapsedSeconds, 1e-9);
        m_state.etaSeconds = m_state.elapsedSeconds / double(m_state.done) *
                             double(m_state.total - m_state.done);
        m_progress.show(m_state);
    }

    // Takes whatever the other ranks have sent. Returns false when one stopped (Ctrl-C).
    bool drain() {
        for (std::size_t rank = 1; rank < m_expected.size(); ++rank) {
            auto& queue = m_expected[rank];
            while (!queue.empty()) {
                const auto& planUnit = m_plan.units[queue.front()];
                const auto bytes = m_session.take(unitKey(planUnit.index));
                if (!bytes) break;
                add(core::decodeUnit(*bytes), planUnit);
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

    const core::EvalProgress& progress() const { return m_state; }

private:
    core::RankSession& m_session;
    const core::EvalPlan& m_plan;
    std::function<void(const core::UnitRecord&)> m_deliver;
    ProgressLine m_progress;
    std::vector<std::deque<std::size_t>> m_expected;  // per rank: plan positions still to come
    core::EvalProgress m_state;
    std::int64_t m_tokens = 0;
    bool m_peerStopped = false;
    Clock::time_point m_start = Clock::now();
};

}  // namespace

void runDistributedEvaluation(PreparedEvaluation& prepared, const EvaluationHooks& hooks,
                              bool quiet, EvaluationResult& result) {
    auto& session = *hooks.session;
    auto& evaluator = *prepared.evaluator;
    auto& plan = prepared.plan;
    const int rank = session.rank();
    InterruptGuard interruptGuard;
    session.stopWhen(InterruptGuard::flag());
    try {
        agreeOnRun(session, evaluator, plan);
        const auto shards = core::shardPlan(plan, session.world().size);
        core::EvalPlan mine;  // this rank's units over the shared files
        mine.options = plan.options;
        mine.files = plan.files;
        mine.stream = plan.stream;
        for (const auto position : shards[std::size_t(rank)])
            mine.units.push_back(plan.units[position]);

        if (rank != 0) {
            const bool finished = evaluator.run(
                mine,
                [&](const core::UnitRecord& unit) {
                    session.post(unitKey(unit.unit), core::encodeUnit(unit));
                    ++result.evaluated;
                },
                {}, session.stopFlag());
            session.throwIfFailed();
            if (!finished) session.post(stoppedKey(rank), "");
            result.cancelled = !finished;
            session.leave();
            return;
        }

        if (hooks.onStart) hooks.onStart(result.run, plan);
        const auto deliver = [&](const core::UnitRecord& unit) {
            ++result.evaluated;
            if (hooks.keepUnits) result.units.push_back(unit);
            if (hooks.onUnit) hooks.onUnit(unit);
        };
        Gatherer gatherer(session, plan, shards, deliver, quiet);
        std::size_t ownDone = 0;
        bool going = evaluator.run(
            mine,
            [&](const core::UnitRecord& unit) {
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
        result.cancelled = !gatherer.complete();
        // Cancelled here (Ctrl-C, SIGTERM) or on another rank: the rest stop too.
        if (result.cancelled) session.abort("the run was cancelled");
        result.run.cancelled = result.cancelled;
        result.run.seconds = gatherer.progress().elapsedSeconds;
        result.run.tokensPerSecond = gatherer.progress().tokensPerSecond;
        if (result.cancelled && !quiet)
            std::cerr << "cancelled after " << result.evaluated << " of " << plan.units.size()
                      << " units\n";
    } catch (...) {
        // The others stop too, unless they already know why.
        if (!session.failure()) {
            const auto report = core::describeError(std::current_exception());
            session.abort("rank " + std::to_string(rank) + " failed: " + report.what);
        }
        throw;
    }
}

}  // namespace ponder::app
