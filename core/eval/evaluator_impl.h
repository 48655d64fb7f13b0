// Private (includes LibTorch): the parts an Evaluator loads (tokenizer, backbone, TTT layer,
// their hashes), for core's own clients that run them another way (core/generate).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <torch/torch.h>

#include "core/eval/evaluator.h"
#include "core/eval/unit_compute_impl.h"
#include "core/model/backbone_impl.h"
#include "core/model/update_layer_impl.h"
#include "core/text/tokenizer.h"

namespace ponder::core {

struct Evaluator::Impl {
    std::filesystem::path modelDir;
    std::string device;
    torch::Device torchDevice{torch::kCPU};
    EvalOptions options;
    std::unique_ptr<Tokenizer> tokenizer;
    std::shared_ptr<Backbone> backbone;
    BackboneInfo backboneInfo;
    UpdateLayer ttt;  // TTT-Linear or LoRA fast weights (algorithm.md §2.7)
    std::string backboneSha, tttSha;
    // The learned gates' features of a SKIP pass (gate.h), when its top-five stats were made.
    void addGateFeatures(UnitRecord& record, const torch::Tensor& hidden, const PathLosses& skip,
                         const torch::Tensor& ids) const {
        if (skip.topFiveStd.defined())
            record.gateFeatures = gateFeatures(hidden, skip, ids, backboneInfo.vocabSize);
    }

    torch::Tensor unitIds(const EvalPlan& plan, const PlanUnit& unit) const;  // [S, T]
    torch::Tensor unitPositions(const PlanUnit& unit) const;
    // A record with the unit's indices, file and line range filled in.
    UnitRecord placedRecord(const EvalPlan& plan, const PlanUnit& unit) const;
};

}  // namespace ponder::core
