// Private to core: the multi-process part of EvalSession::run (eval_session_dist.cpp).
#pragma once

#include <functional>

#include "core/eval/eval_session.h"

namespace ponder::core {

// This process's share of a run spread over ranks (design.md §9.1): every rank agrees with rank
// 0 on binary, model and plan, evaluates its shard (shardPlan) and sends each unit to rank 0;
// rank 0 (`deliver` set) evaluates its own shard meanwhile and hands every unit to `deliver` as
// it arrives (not in plan order: the recorder sorts), reporting the whole run's progress, and
// fills outcome.run's seconds and tokens/s. Returns false when cancelled here or on a rank;
// throws DistributedError when a rank failed (after every rank was told to stop).
bool evaluateAsRank(RankSession& session, Evaluator& evaluator, const EvalPlan& plan,
                    const EvalCallbacks& callbacks,
                    const std::function<void(const UnitRecord&)>* deliver, EvalOutcome& outcome);

}  // namespace ponder::core
