// The gate of the gated fast path: deciding from a signal known before the update (recon_init,
// or the SKIP distribution's entropy/confidence/loss) lets a SKIP unit stop after the backbone
// and one LM head (Evaluator::runGated).
#pragma once

#include "core/eval/evaluator.h"
#include "core/gating/policies.h"

namespace ponder::core {

// Signals a unit has before its UPDATE path runs: recon_init, entropy, confidence, loss_skip.
bool knownBeforeUpdate(Signal signal);

// An online recon-ema (or recon-ema-paper) gate for Evaluator::runGated on `spec.signal`,
// which must be knownBeforeUpdate (InputError with a hint otherwise). The returned decision
// function keeps its own τ and rate EMA (EmaGate); decisions equal a replay of `spec` over the
// same units evaluated on both paths.
Evaluator::GateDecision onlineGate(const PolicySpec& spec);

}  // namespace ponder::core
