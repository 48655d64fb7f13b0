// The gate of the gated fast path: deciding from a signal known before the update (recon_init,
// or the SKIP distribution's entropy/confidence/loss, or a learned gate's SKIP-path features)
// lets a SKIP unit stop after the backbone and one LM head (Evaluator::runGated).
#pragma once

#include <string>

#include "core/eval/evaluator.h"
#include "core/gating/policies.h"

namespace ponder::core {

// Signals a unit has before its UPDATE path runs: recon_init, entropy, confidence, loss_skip.
bool knownBeforeUpdate(Signal signal);

// An online recon-ema (or recon-ema-paper) gate for Evaluator::runGated on `spec.signal`,
// which must be knownBeforeUpdate (InputError with a hint otherwise). The returned decision
// function keeps its own τ and rate EMA (EmaGate); decisions equal a replay of `spec` over the
// same units evaluated on both paths.
Evaluator::Gate onlineGate(const PolicySpec& spec);

// The same for any policy the fast path can run: the EMA gates above, or a learned gate
// (`gate:DIR`, gates.md §2-3) deciding from the unit's gate features with its history fed by
// the CE of the path taken, over the sequences of `plan`. InputError when the gate's folder
// is damaged or it was trained on a TTT layer other than `tttSha256` (unless spec.forceGate).
// Decisions equal runGate's replay over the same units evaluated on both paths.
Evaluator::Gate onlineGate(const PolicySpec& spec, const EvalPlan& plan,
                           const std::string& tttSha256);

// Whether runGated must compute the SKIP distribution's statistics for `spec` (entropy,
// confidence, and the learned gates' features).
bool needsSkipStatistics(const PolicySpec& spec);

}  // namespace ponder::core
