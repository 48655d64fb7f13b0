// `train-gate --train-ttt`: the TTT layer's side of the joint training (gates.md §2-3). The gate
// loop in train_gate.cpp asks for each step's units; this file runs them through the frozen
// backbone and the learning TTT layer and returns the per-unit quantities the losses need.
#include <map>

#include "core/eval/unit_compute_impl.h"
#include "core/runtime/runtime.h"
#include "core/train/train_gate_impl.h"
#include "core/train/training.h"
#include "core/util/file_io.h"

namespace ponder::core {
namespace fs = std::filesystem;

JointTtt::JointTtt(const GateTrainOptions& options, const EvalPlan& plan,
                   const std::string& backboneSha)
    : m_plan(plan), m_modelDir(options.modelDir), m_device(resolveDevice(options.device)) {
    m_backbone = loadBackbone(options.modelDir, m_device);
    for (auto& parameter : m_backbone->parameters())
        parameter.set_requires_grad(false);
    m_backbone->eval();
    m_ttt = loadTttCheckpoint(options.modelDir, m_backbone->info(), backboneSha,
                              options.forceCheckpoint, m_device);
    if (options.freshTtt) {
        auto config = m_ttt->config();
        config.backboneSha256 = backboneSha;
        m_ttt = TttModel(config);
        m_ttt->initialiseWeights(options.seed);
        m_ttt->to(m_device);
    }
    m_ttt->train();
}

JointTtt::Rows JointTtt::forward(const std::vector<std::size_t>& units, const torch::Tensor& p) {
    const auto n = std::int64_t(units.size());
    std::vector<torch::Tensor> ceSkip(units.size()), ceUpdate(units.size()), recon(units.size()),
        ceBlend(units.size());
    // Units of equal length go through the model as one batch (most are whole chunks).
    std::map<std::int64_t, std::vector<std::int64_t>> byLength;
    for (std::int64_t r = 0; r < n; ++r)
        byLength[m_plan.units[units[std::size_t(r)]].tokens].push_back(r);
    // Mean next-token CE per row, as the evaluator computes it (and with its graph).
    const auto perRowCe = [&](const torch::Tensor& hidden, const torch::Tensor& ids) {
        return nextTokenLosses(*m_backbone, hidden, ids, false).ce.mean(1).to(torch::kFloat64);
    };
    for (const auto& [tokens, rows] : byLength) {
        std::vector<std::int64_t> ids;
        for (auto r : rows) {
            const auto unitIds = m_plan.unitIds(m_plan.units[units[std::size_t(r)]]);
            ids.insert(ids.end(), unitIds.begin(), unitIds.end());
        }
        const auto batch = torch::tensor(ids, torch::kInt64)
                               .view({std::int64_t(rows.size()), tokens})
                               .to(m_device);
        const auto positions =
            torch::arange(tokens, torch::TensorOptions().dtype(torch::kInt64).device(m_device));
        torch::Tensor hidden, skip;
        {
            torch::NoGradGuard frozen;
            hidden = m_backbone->hidden(batch, positions);
            skip = perRowCe(hidden, batch);
        }
        const auto updated = m_ttt->forward(hidden, positions);
        const auto update = perRowCe(updated.hidden, batch);
        const auto step1 = updated.stats.step1.to(torch::kFloat64).mean({1, 2});
        torch::Tensor blend;
        if (p.defined()) {
            // The LM head is linear without a bias, so blending the hidden states blends the
            // logits: (1 - p)·SKIP + p·UPDATE exactly.
            const auto index = torch::tensor(rows, torch::kInt64).to(p.device());
            const auto weight =
                p.index_select(0, index).to(m_device).to(torch::kFloat32).view({-1, 1, 1});
            blend = perRowCe(hidden + weight * (updated.hidden - hidden), batch);
        }
        for (std::size_t k = 0; k < rows.size(); ++k) {
            const auto r = std::size_t(rows[k]);
            ceSkip[r] = skip[std::int64_t(k)];
            ceUpdate[r] = update[std::int64_t(k)];
            recon[r] = step1[std::int64_t(k)];
            if (blend.defined()) ceBlend[r] = blend[std::int64_t(k)];
        }
    }
    Rows out;
    out.ceSkip = torch::stack(ceSkip).cpu();
    out.ceUpdate = torch::stack(ceUpdate).cpu();
    out.reconStep1 = torch::stack(recon).cpu();
    if (p.defined()) out.ceBlend = torch::stack(ceBlend).cpu();
    return out;
}

void JointTtt::writeModelDir(const fs::path& dir) {
    for (const char* name : {"config.json", "model.safetensors", "vocab.json", "merges.txt"}) {
        // Atomic, so a killed run never leaves half a backbone to skip next time.
        if (!fs::exists(dir / name)) writeFileAtomic(dir / name, readFileBytes(m_modelDir / name));
    }
    saveTttCheckpoint(m_ttt, dir);
}

}  // namespace ponder::core
