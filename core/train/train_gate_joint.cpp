// `train-gate --train-ttt`: the TTT layer's side of the joint training (gates.md §2-3). The gate
// loop in train_gate.cpp asks for each step's units; this file runs them through the frozen
// backbone and the learning TTT layer and returns the per-unit quantities the losses need.
#include <map>

#include "core/runtime/runtime.h"
#include "core/train/train_gate_impl.h"
#include "core/train/training.h"
#include "core/util/errors.h"
#include "core/util/sha256.h"

namespace ponder::core {
namespace fs = std::filesystem;

JointTtt::JointTtt(const GateTrainOptions& options, const EvalPlan& plan)
    : m_plan(plan), m_modelDir(options.modelDir),
      m_device(resolveDevice(options.device)) {
    m_backbone = loadGpt2(options.modelDir, m_device);
    for (auto& parameter : m_backbone->parameters()) parameter.set_requires_grad(false);
    m_backbone->eval();
    const auto backboneSha = sha256FileHex(options.modelDir / "model.safetensors");
    m_ttt = loadTttCheckpoint(options.modelDir, m_backbone->config().nEmbd, backboneSha,
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
    std::vector<torch::Tensor> ceSkip(units.size()), ceUpdate(units.size()),
        recon(units.size()), ceBlend(units.size());
    // Units of equal length go through the model as one batch (most are whole chunks).
    std::map<std::int64_t, std::vector<std::int64_t>> byLength;
    for (std::int64_t r = 0; r < n; ++r)
        byLength[m_plan.units[units[std::size_t(r)]].tokens].push_back(r);
    const auto perRowCe = [](const torch::Tensor& logits, const torch::Tensor& targets) {
        const auto rows = logits.size(0);
        return torch::nn::functional::cross_entropy(
                   logits.to(torch::kFloat32).reshape({-1, logits.size(-1)}),
                   targets.reshape({-1}),
                   torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone))
            .view({rows, -1})
            .mean(1)
            .to(torch::kFloat64);
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
        torch::Tensor hidden, skipLogits;
        {
            torch::NoGradGuard frozen;
            hidden = m_backbone->hidden(batch, positions);
            skipLogits = m_backbone->logits(hidden.slice(1, 0, tokens - 1));
        }
        const auto updated = m_ttt->forward(hidden, positions);
        const auto updateLogits = m_backbone->logits(updated.hidden.slice(1, 0, tokens - 1));
        const auto targets = batch.slice(1, 1);
        const auto skip = perRowCe(skipLogits, targets);
        const auto update = perRowCe(updateLogits, targets);
        const auto step1 = updated.stats.step1.to(torch::kFloat64).mean({1, 2});
        torch::Tensor blend;
        if (p.defined()) {
            const auto index = torch::tensor(rows, torch::kInt64).to(p.device());
            const auto weight = p.index_select(0, index).to(m_device).to(torch::kFloat32)
                                    .view({-1, 1, 1});
            blend = perRowCe(skipLogits + weight * (updateLogits - skipLogits), targets);
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
        const auto target = dir / name;
        if (fs::exists(target)) continue;
        // Copied beside and renamed, so a killed run never leaves half a backbone.
        const auto partial = dir / (std::string(name) + ".partial");
        std::error_code error;
        fs::copy_file(m_modelDir / name, partial, fs::copy_options::overwrite_existing, error);
        if (!error) fs::rename(partial, target, error);
        if (error)
            throw OutputError("cannot copy '" + (m_modelDir / name).string() + "' to '" +
                                  target.string() + "': " + error.message(),
                              "choose a writable --out folder with room for the backbone");
    }
    saveTttCheckpoint(m_ttt, dir);
}

}  // namespace ponder::core
