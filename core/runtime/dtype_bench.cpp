// `ponder bench --dtype f32,bf16`: the shared unit with the backbone in each dtype, its speed
// and how far its losses and signals move from the reference dtype's.
#include <algorithm>
#include <cmath>

#include "core/eval/unit_compute_impl.h"
#include "core/runtime/bench_setup_impl.h"
#include "core/runtime/benchmarks.h"
#include "core/util/errors.h"

namespace ponder::core {

namespace {

torch::ScalarType scalarTypeOf(const std::string& dtype) {
    if (dtype == "f32") return torch::kFloat32;
    if (dtype == "bf16") return torch::kBFloat16;
    throw InputError("unknown dtype '" + dtype + "'", "use f32 or bf16");
}

// Per unit (row), the mean of each measured quantity, losses first then signals: [S, 6].
torch::Tensor unitMeans(Backbone& backbone, UpdateLayer& ttt, const torch::Tensor& ids,
                        const torch::Tensor& positions) {
    const auto unit = computeUnit(backbone, ttt, ids, positions, true, true);
    const auto rows = ids.size(0);
    const auto rowMean = [&](const torch::Tensor& t) {
        return t.reshape({rows, -1}).to(torch::kFloat64).mean(1);
    };
    return torch::stack(
        {rowMean(unit.skip.ce), rowMean(unit.update.ce), rowMean(unit.staticCe),
         rowMean(unit.stats.init), rowMean(unit.stats.step0), rowMean(unit.stats.step1)},
        1);
}

double maxRelDiff(const torch::Tensor& value, const torch::Tensor& reference) {
    return ((value - reference).abs() / reference.abs().clamp_min(1e-12)).max().item<double>();
}

}  // namespace

DtypeBenchmark benchmarkUnitDtypes(const BenchShape& shape, const std::vector<std::string>& dtypes,
                                   std::int64_t batch, std::int64_t length, double minSeconds,
                                   const std::string& device, int comparedUnits) {
    if (dtypes.empty()) throw InputError("no dtype to measure", "name one or more: f32,bf16");
    torch::InferenceMode inference;
    const torch::Device dev(device);
    DtypeBenchmark result;
    result.dtypes = dtypes;
    result.comparedUnits = comparedUnits;
    torch::manual_seed(7);
    const auto options = torch::TensorOptions().dtype(torch::kInt64).device(dev);
    const auto timedIds = torch::randint(vocabOf(shape), {batch, length}, options);
    const auto comparedIds = torch::randint(vocabOf(shape), {comparedUnits, length}, options);
    const auto positions = torch::arange(length, options);
    torch::Tensor reference;
    for (const auto& dtype : dtypes) {
        auto backbone = randomBackbone(shape, dev, scalarTypeOf(dtype));
        auto ttt = randomUpdateLayer(*backbone, dev);  // float32 whatever the backbone's dtype
        result.unitTokensPerSecond.push_back(
            double(batch * length) *
            runsPerSecond([&] { computeUnit(*backbone, ttt, timedIds, positions, true); },
                          minSeconds, dev));
        torch::Tensor means = unitMeans(*backbone, ttt, comparedIds, positions);
        if (!reference.defined()) reference = means;
        result.maxLossRelDiff.push_back(
            maxRelDiff(means.narrow(1, 0, 3), reference.narrow(1, 0, 3)));
        result.maxSignalRelDiff.push_back(
            maxRelDiff(means.narrow(1, 3, 3), reference.narrow(1, 3, 3)));
    }
    return result;
}

}  // namespace ponder::core
