// One unit's forward work: backbone, both LM-head paths, the TTT layer and its statistics.
#include "core/eval/unit_compute_impl.h"

namespace ponder::core {

namespace {
constexpr std::int64_t kLogitRows = 256;  // rows of logits alive at once
}  // namespace

PathLosses nextTokenLosses(Backbone& backbone, const torch::Tensor& hidden,
                           const torch::Tensor& ids, bool withDistributionStats, bool withTopFive) {
    const auto sequences = hidden.size(0), predicted = hidden.size(1) - 1;
    const auto rows =
        hidden.slice(1, 0, predicted).reshape({sequences * predicted, hidden.size(2)});
    const auto targets = ids.slice(1, 1).reshape({sequences * predicted, 1});
    std::vector<torch::Tensor> ce, entropy, confidence, topFiveStd, topFiveEntropy;
    for (std::int64_t start = 0; start < rows.size(0); start += kLogitRows) {
        const auto length = std::min(kLogitRows, rows.size(0) - start);
        const auto logits = backbone.logits(rows.narrow(0, start, length));
        const auto logNorm = torch::logsumexp(logits, -1, true);
        ce.push_back((logNorm - logits.gather(1, targets.narrow(0, start, length))).squeeze(1));
        if (withDistributionStats) {
            const auto logProbs = logits - logNorm;
            entropy.push_back(-(logProbs.exp() * logProbs).sum(-1));
            confidence.push_back((std::get<0>(logits.max(-1, true)) - logNorm).exp().squeeze(1));
            if (withTopFive) {
                const auto top = std::get<0>(logProbs.topk(5, -1)).exp();
                const auto renormalised = top / top.sum(-1, true);
                topFiveStd.push_back(renormalised.std(-1, /*unbiased=*/false));
                topFiveEntropy.push_back(-(renormalised * (renormalised + 1e-10).log()).sum(-1));
            }
        }
    }
    PathLosses out;
    out.ce = torch::cat(ce).view({sequences, predicted});
    if (withDistributionStats) {
        out.entropy = torch::cat(entropy).view({sequences, predicted});
        out.confidence = torch::cat(confidence).view({sequences, predicted});
    }
    if (withTopFive && withDistributionStats) {
        out.topFiveStd = torch::cat(topFiveStd).view({sequences, predicted});
        out.topFiveEntropy = torch::cat(topFiveEntropy).view({sequences, predicted});
    }
    return out;
}

void computeUpdatePath(Backbone& backbone, UpdateLayer& ttt, const torch::Tensor& hidden,
                       const torch::Tensor& ids, const torch::Tensor& positions,
                       bool withDistributionStats, UnitTensors& out) {
    const auto updated = ttt.forward(hidden, positions);
    out.update = nextTokenLosses(backbone, updated.hidden, ids, withDistributionStats);
    out.stats = updated.stats;
    out.skipHidden = hidden;
    out.updateHidden = updated.hidden;
}

torch::Tensor staticPathLosses(Backbone& backbone, UpdateLayer& ttt, const torch::Tensor& hidden,
                               const torch::Tensor& ids, const torch::Tensor& positions) {
    return nextTokenLosses(backbone, ttt.forwardStatic(hidden, positions), ids, false).ce;
}

UnitTensors computeUnit(Backbone& backbone, UpdateLayer& ttt, const torch::Tensor& ids,
                        const torch::Tensor& positions, bool shareBackbone, bool withStaticPath) {
    UnitTensors out;
    const auto hidden = backbone.hidden(ids, positions);
    out.skip = nextTokenLosses(backbone, hidden, ids, true, true);
    computeUpdatePath(backbone, ttt, shareBackbone ? hidden : backbone.hidden(ids, positions), ids,
                      positions, true, out);
    if (withStaticPath) out.staticCe = staticPathLosses(backbone, ttt, hidden, ids, positions);
    return out;
}

std::pair<torch::Tensor, torch::Tensor> blendSlopeRows(const torch::Tensor& skipLogits,
                                                       const torch::Tensor& updateLogits,
                                                       const torch::Tensor& targets) {
    // dCE/dp = <softmax(z) - onehot(y), logits_update - logits_skip> per position.
    const auto delta = updateLogits - skipLogits;
    const auto atTarget = delta.gather(1, targets).squeeze(1);
    return {(torch::softmax(skipLogits, -1) * delta).sum(-1) - atTarget,
            (torch::softmax(updateLogits, -1) * delta).sum(-1) - atTarget};
}

std::pair<double, double> blendSlopes(Backbone& backbone, const torch::Tensor& skipHidden,
                                      const torch::Tensor& updateHidden, const torch::Tensor& ids) {
    const auto sequences = skipHidden.size(0), predicted = skipHidden.size(1) - 1;
    const auto flat = [&](const torch::Tensor& h) {
        return h.slice(1, 0, predicted).reshape({sequences * predicted, h.size(2)});
    };
    const auto skipRows = flat(skipHidden), updateRows = flat(updateHidden);
    const auto targets = ids.slice(1, 1).reshape({sequences * predicted, 1});
    std::vector<torch::Tensor> atSkip, atUpdate;
    for (std::int64_t start = 0; start < skipRows.size(0); start += kLogitRows) {
        const auto length = std::min(kLogitRows, skipRows.size(0) - start);
        const auto skipLogits = backbone.logits(skipRows.narrow(0, start, length));
        const auto updateLogits = backbone.logits(updateRows.narrow(0, start, length));
        auto slopes = blendSlopeRows(skipLogits, updateLogits, targets.narrow(0, start, length));
        atSkip.push_back(slopes.first);
        atUpdate.push_back(slopes.second);
    }
    const auto rowMean = [&](std::vector<torch::Tensor>& parts) {
        return torch::cat(parts)
            .view({sequences, predicted})
            .to(torch::kFloat64)
            .mean(1)
            .mean()
            .item<double>();
    };
    return {rowMean(atSkip), rowMean(atUpdate)};
}

SkipPass computeSkipPass(Backbone& backbone, UpdateLayer& ttt, const torch::Tensor& ids,
                         const torch::Tensor& positions, bool withDistributionStats) {
    SkipPass out;
    out.hidden = backbone.hidden(ids, positions);
    out.skip =
        nextTokenLosses(backbone, out.hidden, ids, withDistributionStats, withDistributionStats);
    out.init = ttt.initLoss(out.hidden, positions);
    return out;
}

}  // namespace ponder::core
