// The online gate of the gated fast path: one EmaGate fed one unit at a time.
#include "core/eval/online_gate.h"

#include <memory>

#include "core/gating/calibration.h"
#include "core/util/errors.h"

namespace ponder::core {

bool knownBeforeUpdate(Signal signal) {
    return signal == Signal::ReconInit || signal == Signal::Entropy ||
           signal == Signal::Confidence || signal == Signal::LossSkip;
}

Evaluator::GateDecision onlineGate(const PolicySpec& spec) {
    if (!knownBeforeUpdate(spec.signal))
        throw InputError("signal " + signalName(spec.signal) +
                             " is only known after the update, so it cannot gate the fast path",
                         "use recon_init (or entropy, confidence, loss_skip)");
    auto gate = std::make_shared<EmaGate>(spec);
    const auto signal = signalName(spec.signal);
    return [gate, signal](const UnitRecord& record) {
        return gate->decide(signalValue(record, signal)).decision != 0;
    };
}

}  // namespace ponder::core
