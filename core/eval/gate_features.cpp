// The learned gates' stored features (gates.md §2, in the order of gateInputNames() without
// the four history slots), from the SKIP pass only, so a gate can decide before any update.
// Every token of a unit is real (ponder never pads), so "masked to real tokens" is all of them.
#include <cmath>

#include "core/eval/unit_compute_impl.h"
#include "core/gating/gate.h"

namespace ponder::core {

std::vector<float> gateFeatures(const torch::Tensor& hidden, const PathLosses& skip,
                                const torch::Tensor& ids, std::int64_t vocabSize) {
    const auto rows = ids.size(0), tokens = ids.size(1);
    const double vocab = double(vocabSize);
    const auto f64 = [](const torch::Tensor& t) { return t.to(torch::kFloat64); };
    const auto entropy = f64(skip.entropy), negLogMaxP = -f64(skip.confidence).log();
    const auto h = f64(hidden).reshape({rows, -1});
    const auto id = f64(ids);
    const auto hMean = h.mean(1);
    const auto hStd = ((h - hMean.unsqueeze(1)).pow(2).mean(1)).clamp_min(1e-10).sqrt();
    const auto idMean = id.mean(1);
    const auto idStd = ((id - idMean.unsqueeze(1)).pow(2).mean(1)).clamp_min(1e-10).sqrt();
    const auto step = id.slice(1, 1) - id.slice(1, 0, tokens - 1);
    const auto repeats = (ids.slice(1, 1) == ids.slice(1, 0, tokens - 1)).to(torch::kFloat64);
    const auto positions =
        torch::arange(tokens, id.options()) / double(std::max<std::int64_t>(tokens - 1, 1));
    const double positionMean = positions.mean().item<double>();
    const double positionStd =
        std::sqrt(std::max((positions - positionMean).pow(2).mean().item<double>(), 1e-10));
    const auto hMax = std::get<0>(h.max(1)), hMin = std::get<0>(h.min(1));
    const auto clip10 = [](const torch::Tensor& t) { return t.clamp(-10, 10); };
    const auto clip100 = [](const torch::Tensor& t) { return t.clamp(-100, 100); };
    const auto constant = [&](double value) { return torch::full({rows}, value, id.options()); };
    // [rows, 28], in gateInputNames() order without the history slots.
    const auto columns = torch::stack({clip10(entropy.mean(1)),
                                       clip10(std::get<0>(entropy.max(1))),
                                       clip10(negLogMaxP.mean(1)),
                                       clip10(std::get<0>(negLogMaxP.max(1))),
                                       clip100(hMean),
                                       clip100(hStd),
                                       (h.abs() < 0.01).to(torch::kFloat64).mean(1),
                                       clip100(hMax),
                                       clip100(hMin),
                                       clip100(hMax - hMin),
                                       constant(0),
                                       constant(0),
                                       constant(0),
                                       constant(0),  // attention: 0 (declared)
                                       idStd / vocab,
                                       repeats.mean(1),
                                       idMean / vocab,
                                       idStd / vocab,
                                       f64(skip.topFiveStd).mean(1),
                                       f64(skip.confidence).mean(1),
                                       f64(skip.topFiveEntropy).mean(1),
                                       step.pow(2).mean(1).clamp_min(1e-10).sqrt() / vocab,
                                       constant(double(tokens) / 512.0),
                                       (1.0 + idMean / vocab).log(),
                                       (1.0 + std::get<0>(id.max(1)) / vocab).log(),
                                       constant(positionMean),
                                       constant(positionStd),
                                       constant(1.0)},
                                      1);
    const auto mean = columns.mean(0).to(torch::kFloat32).contiguous().cpu();
    static_assert(kStoredGateFeatures == 28, "the stack above lists 28 columns");
    return {mean.data_ptr<float>(), mean.data_ptr<float>() + mean.numel()};
}

}  // namespace ponder::core
