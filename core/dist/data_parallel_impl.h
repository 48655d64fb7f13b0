// Private (includes LibTorch): data-parallel training over a RankSession (train-base,
// train-ttt, train-gate). Every rank holds the same parameters and optimiser, computes its
// slice of each global batch with its loss weighted by the slice's share, and the gradients
// are summed over the ranks before the step, so every rank takes the one-process step.
// Without a session every call is the one-process case.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "core/dist/rank_session.h"

namespace ponder::core {

class DataParallel {
public:
    explicit DataParallel(RankSession* session) : m_session(session) {}

    bool distributed() const { return m_session != nullptr; }
    int rank() const { return m_session ? m_session->rank() : 0; }
    int size() const { return m_session ? m_session->world().size : 1; }
    // Rank 0 writes checkpoints and model files and reports progress.
    bool writes() const { return rank() == 0; }

    // This rank's rows [first, second) of a global batch of `rows`: contiguous, in rank order,
    // sizes differing by at most one.
    std::pair<std::int64_t, std::int64_t> rows(std::int64_t rows) const;
    // The share of the batch those rows are: the weight of this rank's loss.
    double share(std::int64_t rows) const;

    // Sums the parameters' gradients over the ranks in one flat all-reduce (float32 or the
    // gradients' dtype). DistributedError when a rank is gone.
    void sumGradients(const std::vector<torch::Tensor>& parameters);
    // `values` summed over the ranks (reported losses, stop votes).
    std::vector<double> sum(std::vector<double> values);
    // Every rank has rank 0's `value` of `what` (or binary), or DistributedError on every rank.
    void agree(const std::string& what, const std::string& value, const std::string& hint);
    void agreeOnBinary();
    // Between steps: DistributedError when another rank failed.
    void throwIfFailed() const;

private:
    // `run` on the group for `tensor`'s device; a failure becomes a DistributedError.
    template <typename Collective>
    void collective(const torch::Tensor& tensor, const Collective& run);
    RankSession* m_session;
};

// SHA-256 of the tensors' bytes in order: what agree() compares for parameters.
std::string tensorsDigest(const std::vector<torch::Tensor>& tensors);

}  // namespace ponder::core
