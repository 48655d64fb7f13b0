// Model directory inspection and the seeded tiny test-model generator.
#include "core/model/model_dir.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "core/model/gpt2_model_impl.h"
#include "core/model/ttt_layer_impl.h"
#include "core/text/bpe_tokenizer.h"
#include "core/text/bpe_trainer.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"
#include "core/util/sha256.h"

namespace ponder::core {
namespace fs = std::filesystem;

ModelDirSummary inspectModelDir(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw ModelLoadError("model directory '" + dir.string() + "' does not exist",
                             "pass a Hugging Face GPT-2 directory, or make one with "
                             "`ponder make-test-model DIR`");
    const auto start = std::chrono::steady_clock::now();
    ModelDirSummary summary;
    summary.dir = dir;
    summary.config = loadGpt2Config(dir / "config.json");
    const auto weightsPath = dir / "model.safetensors";
    if (!fs::exists(weightsPath))
        throw ModelLoadError("model directory '" + dir.string() + "' has no model.safetensors",
                             "convert the weights to safetensors first");
    const auto weights = SafetensorsFile::open(weightsPath);
    std::set<std::string> dtypes;
    for (const auto& tensor : weights.tensors())
        dtypes.insert(std::string(dtypeName(tensor.dtype)));
    for (const auto& name : dtypes)
        summary.storedDtypes += (summary.storedDtypes.empty() ? "" : "+") + name;
    summary.weightsBytes = fs::file_size(weightsPath);

    auto model = loadGpt2(summary.config, weights);
    summary.tiedLmHead = model->tiedLmHead();
    for (const auto& p : model->parameters())
        summary.parameterCount += p.numel();

    if (hasTokenizerFiles(dir)) {
        const auto tokenizer = BpeTokenizer::load(dir);
        summary.tokenizerVocab = tokenizer.vocabSize();
        summary.tokenizerMerges = tokenizer.mergeCount();
        if (tokenizer.vocabSize() > static_cast<std::size_t>(summary.config.vocabSize))
            throw ModelLoadError(
                "tokenizer has " + std::to_string(tokenizer.vocabSize()) +
                    " tokens but config.json vocab_size is " +
                    std::to_string(summary.config.vocabSize),
                "the tokenizer files belong to another model; copy the matching ones");
    }
    summary.hasTttCheckpoint = fs::exists(dir / "ttt.safetensors") && fs::exists(dir / "ttt.json");
    summary.hasCalibration = fs::exists(dir / "calibration.json");
    summary.hasModelCard = fs::exists(dir / "MODEL_CARD.md");
    summary.loadSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return summary;
}

void copyTokenizerFiles(const fs::path& from, const fs::path& to) {
    if (!hasTokenizerFiles(from))
        throw TokenizerError("'" + from.string() + "' holds no tokenizer files",
                             "it needs vocab.json + merges.txt or encoder.json + vocab.bpe");
    for (const char* name : {"vocab.json", "merges.txt", "encoder.json", "vocab.bpe"})
        if (fs::exists(from / name)) writeFileAtomic(to / name, readFileBytes(from / name));
}

TestModelSummary makeTestModel(const fs::path& dir, const TestModelOptions& options) {
    if (options.layers <= 0 || options.embd <= 0 || options.heads <= 0 || options.positions <= 0 ||
        options.embd % options.heads != 0)
        throw InputError("invalid test model shape (layers " + std::to_string(options.layers) +
                             ", embd " + std::to_string(options.embd) + ", heads " +
                             std::to_string(options.heads) + ")",
                         "all must be positive and --embd divisible by --heads");
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        throw OutputError("cannot create '" + dir.string() + "': " + ec.message(),
                          "choose a writable folder");

    if (options.tokenizerFrom) {
        copyTokenizerFiles(*options.tokenizerFrom, dir);
    } else {
        // Without a corpus the vocabulary is the 256 bytes plus <|endoftext|> (no merges).
        BpeTrainer trainer(
            {options.corpus.empty() ? 257 : std::max<std::size_t>(options.vocab, 257), 2});
        for (const auto& file : options.corpus)
            trainer.addText(readFileBytes(file));
        trainer.trainAndWrite(dir);
    }
    const auto tokenizer = BpeTokenizer::load(dir);

    Gpt2Config config;
    config.vocabSize = static_cast<std::int64_t>(tokenizer.vocabSize());
    config.nPositions = options.positions;
    config.nEmbd = options.embd;
    config.nLayer = options.layers;
    config.nHead = options.heads;
    if (const auto eot = tokenizer.endOfTextId()) config.bosTokenId = config.eosTokenId = *eot;

    Gpt2Model model(config);
    model->initialiseWeights(options.seed);
    saveGpt2Config(config, dir / "config.json");
    saveGpt2Weights(model, dir / "model.safetensors");

    TestModelSummary summary;
    for (const auto& p : model->parameters())
        summary.parameterCount += p.numel();
    if (options.withTtt) {
        auto tttConfig = TttConfig::forBackbone(config.nEmbd);
        tttConfig.backboneSha256 = sha256FileHex(dir / "model.safetensors");
        TttModel ttt(tttConfig);
        ttt->initialiseWeights(options.seed + 1);
        torch::NoGradGuard noGrad;
        // The published init zeroes wo (UPDATE == SKIP); a test model needs a visible effect.
        ttt->named_parameters()["ttt.wo.weight"].normal_(0.0, 0.05);
        saveTttCheckpoint(ttt, dir);
        for (const auto& p : ttt->parameters())
            summary.tttParameterCount += p.numel();
    }
    summary.vocabSize = tokenizer.vocabSize();
    return summary;
}

}  // namespace ponder::core
