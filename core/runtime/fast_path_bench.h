// `ponder bench --gated`: the gated fast path (core/eval/online_gate.h) timed against SKIP,
// UPDATE_1 and the published way, which computes both paths for every chunk so its 1 + 2ρ cost
// is only notional.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/eval/evaluator.h"
#include "core/eval/online_gate.h"
#include "core/gating/metrics.h"
#include "core/gating/policies.h"

namespace ponder::core {

struct Calibration;

struct FastPathOptions {
    std::vector<double> rates{0.3, 0.5, 0.7};  // a learned gate (gate:DIR) runs once instead
    // name, α, calibration; signal must be pre-update. A learned gate is compared with Random,
    // the Oracle and recon-ema at the rate it realized.
    PolicySpec gate;
    Signal publishedSignal = Signal::ReconStep0;  // the replayed comparison (needs both paths)
    const Calibration* calibration = nullptr;     // profile calibration: τ0 per rate and signal
};

struct PathTiming {
    std::string name;    // "SKIP", "UPDATE_1", "both paths", "gated"
    double rate = kNaN;  // target rate (gated only)
    double seconds = 0, tokensPerSecond = 0;
};

struct RateComparison {
    double rate = 0;
    PolicySummary gated;       // measured by the fast path itself (its own losses)
    PolicySummary replayed;    // the same gate replayed over the both-path records
    PolicySummary published;   // recon-ema on publishedSignal (needs recon_step0: both paths)
    double randomLoss = kNaN;  // expected loss of Random at the target rate
    double oracleLoss = kNaN;
    std::size_t decisionMismatches = 0;  // gated vs replayed decisions (0 expected)
    double maxLossDifference = 0;        // |gated - replayed| chosen loss, per unit
};

struct FastPathBenchmark {
    std::size_t units = 0;
    std::int64_t tokens = 0;
    std::vector<PathTiming> timings;  // SKIP, UPDATE_1, both paths, then gated per rate
    std::vector<RateComparison> rates;
};

// Runs every unit of `plan` on each path, interleaved unit by unit (SKIP, UPDATE_1, both, the
// gated path per rate) so machine noise falls on all of them alike; then compares losses.
FastPathBenchmark benchmarkFastPath(Evaluator& evaluator, const EvalPlan& plan,
                                    const FastPathOptions& options);

}  // namespace ponder::core
