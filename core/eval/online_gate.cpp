// The online gates of the gated fast path: one EmaGate, or one learned gate's GateSession, fed
// one unit at a time.
#include "core/eval/online_gate.h"

#include <memory>

#include "core/gating/calibration.h"
#include "core/gating/gate.h"
#include "core/util/errors.h"

namespace ponder::core {

bool knownBeforeUpdate(Signal signal) {
    return signal == Signal::ReconInit || signal == Signal::Entropy ||
           signal == Signal::Confidence || signal == Signal::LossSkip;
}

bool needsSkipStatistics(const PolicySpec& spec) {
    return isGatePolicy(spec.name) || spec.signal == Signal::Entropy ||
           spec.signal == Signal::Confidence;
}

Evaluator::Gate onlineGate(const PolicySpec& spec) {
    if (!knownBeforeUpdate(spec.signal))
        throw InputError("signal " + signalName(spec.signal) +
                             " is only known after the update, so it cannot gate the fast path",
                         "use recon_init (or entropy, confidence, loss_skip)");
    auto gate = std::make_shared<EmaGate>(spec);
    const auto signal = signalName(spec.signal);
    return {[gate, signal](const UnitRecord& record) {
                return gate->decide(signalValue(record, signal)).decision != 0;
            },
            {}};
}

namespace {

// A learned gate and its session, shared by the decide and observe halves.
struct LearnedGateState {
    std::shared_ptr<const GateModel> model;
    GateSession session;
    LearnedGateState(std::shared_ptr<const GateModel> gate, std::vector<std::int64_t> starts)
        : model(std::move(gate)), session(*model, std::move(starts)) {}
};

Evaluator::Gate learnedGate(const PolicySpec& spec, const EvalPlan& plan,
                            const std::string& tttSha256) {
    if (spec.gateLookahead)
        throw InputError(
            "{--lookahead} decides a unit after seeing the units after it, so it "
            "cannot drive the gated fast path",
            "drop {--lookahead} (or {--fast}: a both-paths run replays it)");
    auto model = cachedGate(gateDirOf(spec.name));
    checkGateFits(*model, tttSha256, spec.forceGate, "this model's");
    std::vector<std::int64_t> fileIndex, block, chunkIndex;
    for (const auto& unit : plan.units) {
        fileIndex.push_back(unit.fileIndex);
        // The bootstrap block of unitTableFrom: the file, or the paper-mode batch.
        block.push_back(unit.fileIndex >= 0 ? unit.fileIndex : unit.batchIndex);
        chunkIndex.push_back(unit.chunkIndex);
    }
    auto state = std::make_shared<LearnedGateState>(
        model, gateSequenceStarts(fileIndex, block, chunkIndex, model->sequenceChunks));
    const auto decide = [state](const UnitRecord& record) {
        if (record.gateFeatures.size() != kStoredGateFeatures)
            throw InputError(
                "the fast path computed no gate features for unit " + std::to_string(record.unit),
                "run the gated fast path with its SKIP statistics on");
        return state->session.decide(record.gateFeatures.data());
    };
    // What runGate observes in a replay: the CE of the path taken.
    const auto observe = [state](const UnitRecord& record) {
        state->session.observe(state->session.lastDecision() ? record.lossUpdate : record.lossSkip);
    };
    return {decide, observe};
}

}  // namespace

Evaluator::Gate onlineGate(const PolicySpec& spec, const EvalPlan& plan,
                           const std::string& tttSha256) {
    if (isGatePolicy(spec.name)) return learnedGate(spec, plan, tttSha256);
    return onlineGate(spec);
}

}  // namespace ponder::core
