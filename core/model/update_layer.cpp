// The UPDATE path's layer of either kind (update_layer_impl.h).
#include "core/model/update_layer_impl.h"

#include "core/util/errors.h"

namespace ponder::core {

namespace {

[[noreturn]] void refuseForLora(const std::string& what) {
    throw InputError(what +
                         " needs a TTT-Linear layer; this model's fast weights are LoRA "
                         "(algorithm.md §2.7), which has no inner loop or reconstruction task",
                     "use a TTT-Linear checkpoint, or drop that option for this model");
}

}  // namespace

UpdateLayer UpdateLayer::load(const std::filesystem::path& dir, const BackboneInfo& backbone,
                              const std::string& backboneSha256, bool force, torch::Device device) {
    UpdateLayer layer =
        isLoraCheckpoint(dir)
            ? UpdateLayer(loadLoraCheckpoint(dir, backbone, backboneSha256, force, device))
            : UpdateLayer(loadTttCheckpoint(dir, backbone, backboneSha256, force, device));
    layer.module().eval();
    return layer;
}

UpdateLayer UpdateLayer::create(const TttConfig& config, std::uint64_t seed) {
    if (config.isLora()) {
        LoraModel lora(config);
        lora->initialiseWeights(seed);
        return UpdateLayer(std::move(lora));
    }
    TttModel ttt(config);
    ttt->initialiseWeights(seed);
    return UpdateLayer(std::move(ttt));
}

const TttConfig& UpdateLayer::config() const {
    return isLora() ? m_lora->config() : m_ttt->config();
}

torch::nn::Module& UpdateLayer::module() {
    if (isLora()) return *m_lora;
    return *m_ttt;
}

UpdateLayer::Result UpdateLayer::forward(const torch::Tensor& h, const torch::Tensor& positions) {
    if (isLora()) return {m_lora->forward(h, positions).hidden, {}};
    auto out = m_ttt->forward(h, positions);
    return {out.hidden, out.stats};
}

torch::Tensor UpdateLayer::forwardStatic(const torch::Tensor& h, const torch::Tensor& positions) {
    if (isLora()) return m_lora->forward(h, positions).hidden;
    return m_ttt->forwardStatic(h, positions);
}

torch::Tensor UpdateLayer::initLoss(const torch::Tensor& h, const torch::Tensor& positions) {
    if (isLora()) refuseForLora("the gated fast path (recon_init before any update)");
    return m_ttt->initLoss(h, positions);
}

void UpdateLayer::setCausalK(std::int64_t k) {
    if (isLora()) refuseForLora("{--causal-k} (the diagonal ablation of the dual form's mask)");
    m_ttt->setCausalK(k);
}

void UpdateLayer::save(const std::filesystem::path& dir) {
    if (isLora())
        saveLoraCheckpoint(m_lora, dir);
    else
        saveTttCheckpoint(m_ttt, dir);
}

TttModel& UpdateLayer::ttt(const std::string& what) {
    if (isLora()) refuseForLora(what);
    return m_ttt;
}

}  // namespace ponder::core
