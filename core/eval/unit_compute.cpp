// One unit's forward work: backbone, both LM-head paths, the TTT layer and its statistics.
#include "core/eval/unit_compute_impl.h"

namespace ponder::core {

namespace {
constexpr std::int64_t kLogitRows = 256;  // rows of logits alive at once
}  // namespace

PathLosses nextTokenLosses(Gpt2Model& gpt2, const torch::Tensor& hidden, const torch::Tensor& ids,
                           bool withDistributionStats) {
    const auto sequences = hidden.size(0), predicted = hidden.size(1) - 1;
    const auto rows = hidden.slice(1, 0, predicted).reshape({sequences * predicted, hidden.size(2)});
    const auto targets = ids.slice(1, 1).reshape({sequences * predicted, 1});
    std::vector<torch::Tensor> ce, entropy, confidence;
    for (std::int64_t start = 0; start < rows.size(0); start += kLogitRows) {
        const auto length = std::min(kLogitRows, rows.size(0) - start);
        const auto logits = gpt2->logits(rows.narrow(0, start, length));
        const auto logNorm = torch::logsumexp(logits, -1, true);
        ce.push_back((logNorm - logits.gather(1, targets.narrow(0, start, length))).squeeze(1));
        if (withDistributionStats) {
            const auto logProbs = logits - logNorm;
            entropy.push_back(-(logProbs.exp() * logProbs).sum(-1));
            confidence.push_back((std::get<0>(logits.max(-1, true)) - logNorm).exp().squeeze(1));
        }
    }
    PathLosses out;
    out.ce = torch::cat(ce).view({sequences, predicted});
    if (withDistributionStats) {
        out.entropy = torch::cat(entropy).view({sequences, predicted});
        out.confidence = torch::cat(confidence).view({sequences, predicted});
    }
    return out;
}

void computeUpdatePath(Gpt2Model& gpt2, TttModel& ttt, const torch::Tensor& hidden,
                       const torch::Tensor& ids, const torch::Tensor& positions,
                       bool withDistributionStats, UnitTensors& out) {
    const auto updated = ttt->forward(hidden, positions);
    out.update = nextTokenLosses(gpt2, updated.hidden, ids, withDistributionStats);
    out.stats = updated.stats;
}

UnitTensors computeUnit(Gpt2Model& gpt2, TttModel& ttt, const torch::Tensor& ids,
                        const torch::Tensor& positions, bool shareBackbone) {
    UnitTensors out;
    const auto hidden = gpt2->hidden(ids, positions);
    out.skip = nextTokenLosses(gpt2, hidden, ids, true);
    computeUpdatePath(gpt2, ttt, shareBackbone ? hidden : gpt2->hidden(ids, positions), ids,
                      positions, true, out);
    return out;
}

SkipPass computeSkipPass(Gpt2Model& gpt2, TttModel& ttt, const torch::Tensor& ids,
                         const torch::Tensor& positions, bool withDistributionStats) {
    SkipPass out;
    out.hidden = gpt2->hidden(ids, positions);
    out.skip = nextTokenLosses(gpt2, out.hidden, ids, withDistributionStats);
    out.init = ttt->initLoss(out.hidden, positions);
    return out;
}

}  // namespace ponder::core
