// Scores completions against their problems: each sample's program run in the sandbox, with
// `workers` sandboxes at a time. The API that `ponder bench-code` and the model side share.
// Torch-free.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <vector>

#include "core/codebench/pass_at_k.h"
#include "core/codebench/problems.h"
#include "core/codebench/samples.h"
#include "core/codebench/sandbox.h"

namespace ponder::core {

// Called after each sample (from a worker thread, one call at a time): samples done so far,
// the total and the sample's index and result. A callback that throws stops the scoring
// (samples in flight are finished) and the exception reaches the caller.
using ScoreProgress = std::function<void(std::size_t done, std::size_t total, std::size_t index,
                                         const SampleResult& result)>;

// Runs every sample's program (programFor) in `sandbox`, `workers` at a time (>= 1), and
// returns the results in the samples' order. Throws InputError for a sample whose task id is
// not in `problems` (before anything runs), CancelledError when `*cancel` turns true, and
// SandboxError when a sandbox fails to start.
std::vector<SampleResult> scoreSamples(const ProblemSet& problems,
                                       const std::vector<Sample>& samples, const Sandbox& sandbox,
                                       int workers = 1, const ScoreProgress& progress = {},
                                       const std::atomic<bool>* cancel = nullptr);

// The same with a sandbox of its own (set up, and checked, with `limits`).
std::vector<SampleResult> scoreSamples(const ProblemSet& problems,
                                       const std::vector<Sample>& samples,
                                       const SandboxLimits& limits, int workers = 1,
                                       const ScoreProgress& progress = {},
                                       const std::atomic<bool>* cancel = nullptr);

}  // namespace ponder::core
