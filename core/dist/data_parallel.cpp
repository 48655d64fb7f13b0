// Data-parallel training's collectives on the session's process groups (Gloo for CPU tensors,
// NCCL for CUDA ones).
#include "core/dist/data_parallel_impl.h"

#include "core/dist/rank_session_impl.h"
#include "core/util/errors.h"
#include "core/util/sha256.h"

namespace ponder::core {

std::pair<std::int64_t, std::int64_t> DataParallel::rows(std::int64_t rows) const {
    const auto ranks = std::int64_t(size()), r = std::int64_t(rank());
    const auto base = rows / ranks, extra = rows % ranks;
    const auto first = r * base + std::min(r, extra);
    return {first, first + base + (r < extra ? 1 : 0)};
}

double DataParallel::share(std::int64_t rows) const {
    const auto [first, last] = this->rows(rows);
    return double(last - first) / double(rows);
}

template <typename Collective>
void DataParallel::collective(const torch::Tensor& tensor, const Collective& run) {
    m_session->throwIfFailed();
    try {
        run(RankSessionAccess::processGroup(*m_session, tensor.is_cuda() ? "cuda" : "cpu"));
    } catch (const PonderError&) {
        throw;
    } catch (const std::exception& error) {
        m_session->throwIfFailed();  // the heartbeat's account names the rank
        const std::string what = error.what();
        throw DistributedError(
            "a collective with the other ranks failed (" + what.substr(0, what.find('\n')) + ")",
            "a rank died or cannot be reached; see its own error");
    }
}

void DataParallel::sumGradients(const std::vector<torch::Tensor>& parameters) {
    if (!m_session) return;
    std::vector<torch::Tensor> grads;
    for (const auto& parameter : parameters)
        if (parameter.grad().defined()) grads.push_back(parameter.grad());
    if (grads.empty()) return;
    std::vector<torch::Tensor> flat{torch::cat([&] {
        std::vector<torch::Tensor> views;
        for (const auto& grad : grads)
            views.push_back(grad.reshape({-1}));
        return views;
    }())};
    collective(flat[0], [&](CollectiveGroup& group) { group.allreduce(flat)->wait(); });
    std::int64_t offset = 0;
    for (auto& grad : grads) {
        const auto count = grad.numel();
        grad.copy_(flat[0].slice(0, offset, offset + count).view_as(grad));
        offset += count;
    }
}

std::vector<double> DataParallel::sum(std::vector<double> values) {
    if (!m_session || values.empty()) return values;
    std::vector<torch::Tensor> tensor{torch::tensor(values, torch::kFloat64)};
    collective(tensor[0], [&](CollectiveGroup& group) { group.allreduce(tensor)->wait(); });
    const auto summed = tensor[0].contiguous();
    return {summed.data_ptr<double>(), summed.data_ptr<double>() + summed.numel()};
}

void DataParallel::agree(const std::string& what, const std::string& value,
                         const std::string& hint) {
    if (m_session) m_session->agree(what, value, hint);
}

void DataParallel::agreeOnBinary() {
    if (m_session) m_session->agreeOnBinary();
}

void DataParallel::throwIfFailed() const {
    if (m_session) m_session->throwIfFailed();
}

std::string tensorsDigest(const std::vector<torch::Tensor>& tensors) {
    std::string bytes;
    for (const auto& tensor : tensors) {
        const auto host = tensor.detach().to(torch::kCPU).contiguous();
        bytes.append(static_cast<const char*>(host.data_ptr()), host.nbytes());
    }
    return sha256Hex(bytes);
}

}  // namespace ponder::core
