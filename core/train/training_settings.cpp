// What each trainer records in the run database about its options (training.h).
#include "core/train/training.h"

namespace ponder::core {

namespace {

nlohmann::json corpusJson(const CorpusSelection& corpus) {
    std::vector<std::string> inputs;
    for (const auto& input : corpus.inputs)
        inputs.push_back(input.string());
    return inputs;
}

// An option left at its default is stored as null (the default depends on the model).
nlohmann::json orNull(const std::optional<double>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json();
}

}  // namespace

nlohmann::json trainingSettings(const BaseTrainOptions& options) {
    return {{"n_layer", options.config.nLayer},
            {"n_embd", options.config.nEmbd},
            {"n_head", options.config.nHead},
            {"n_positions", options.config.nPositions},
            {"sequence", options.sequence},
            {"batch", options.batch},
            {"steps", options.steps},
            {"warmup", options.warmup},
            {"lr", options.lr},
            {"seed", options.seed},
            {"bf16", options.bf16},
            {"corpus", corpusJson(options.corpus)}};
}

nlohmann::json trainingSettings(const TttTrainOptions& options) {
    const bool lora = options.fastWeights == kFastWeightsLora;
    return {{"model", options.modelDir.string()},
            {"chunk", options.chunk},
            {"batch", options.batch},
            {"steps", options.steps},
            {"lr", options.lr},
            {"ssl_weight", options.sslWeight},
            {"backbone_dropout", options.backboneDropout},
            {"eta_form", options.etaForm},
            {"conv_lag", options.convLag},
            {"eta_decay", orNull(options.etaDecay)},
            {"ttt_base_lr", orNull(options.innerBaseLr)},
            {"update_steps", options.updateSteps},
            {"fast_weights", options.fastWeights},
            {"lora_rank", lora ? nlohmann::json(options.loraRank) : nlohmann::json()},
            {"seed", options.seed},
            {"bf16", options.bf16},
            {"corpus", corpusJson(options.corpus)}};
}

nlohmann::json trainingSettings(const GateTrainOptions& options) {
    return {{"model", options.modelDir.string()},
            {"kind", options.kind},
            {"rate", options.rate},
            {"cost", options.cost},
            {"steps", options.steps},
            {"batch", options.batch},
            {"sequence_chunks", options.sequenceChunks},
            {"warmup", options.warmup},
            {"lr", options.lr},
            {"beta", options.beta},
            {"gamma", options.gamma},
            {"seed", options.seed},
            {"max_units", options.maxUnits},
            {"train_ttt", options.trainTtt},
            {"fresh_ttt", options.freshTtt},
            {"advantage_gradient", options.advantageGradient},
            {"corpus", corpusJson(options.corpus)}};
}

}  // namespace ponder::core
