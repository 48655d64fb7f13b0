// Model directory inspection and the seeded tiny test-model generator.
#include "core/model/model_dir.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "core/model/gemma3_model_impl.h"
#include "core/model/gpt2_model_impl.h"
#include "core/model/ttt_layer_impl.h"
#include "core/text/bpe_tokenizer.h"
#include "core/text/bpe_trainer.h"
#include "core/text/sentencepiece_tokenizer.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"
#include "core/util/sha256.h"

namespace ponder::core {
namespace fs = std::filesystem;

namespace {

std::string dtypeList(const std::vector<fs::path>& files) {
    std::set<std::string> dtypes;
    for (const auto& file : files) {
        // Named: a range-for over the temporary's tensors() would outlive the file.
        const auto opened = SafetensorsFile::open(file);
        for (const auto& tensor : opened.tensors())
            dtypes.insert(std::string(dtypeName(tensor.dtype)));
    }
    std::string list;
    for (const auto& name : dtypes)
        list += (list.empty() ? "" : "+") + name;
    return list;
}

}  // namespace

void checkModelDirectory(const std::filesystem::path& dir) {
    std::error_code error;
    if (!std::filesystem::is_directory(dir, error))
        throw ModelLoadError("no model directory '" + dir.string() + "'",
                             "give a folder with config.json, e.g. assets/default-model");
    if (!std::filesystem::exists(dir / "config.json", error))
        throw ModelLoadError("'" + dir.string() + "' is not a model directory (no config.json)",
                             "give a folder with config.json, e.g. assets/default-model");
}

ModelDirSummary inspectModelDir(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw ModelLoadError("model directory '" + dir.string() + "' does not exist",
                             "pass a Hugging Face GPT-2 or Gemma 3 directory, or make one with "
                             "`ponder make-test-model DIR`");
    const auto start = std::chrono::steady_clock::now();
    ModelDirSummary summary;
    summary.dir = dir;
    summary.backbone = backboneInfoFromConfig(dir);
    const auto files = backboneWeightFiles(dir);
    summary.weightFiles = files.size();
    summary.storedDtypes = dtypeList(files);
    for (const auto& file : files)
        summary.weightsBytes += fs::file_size(file);

    if (summary.backbone.arch == kArchGemma3) {
        const auto config = loadGemma3Config(dir / "config.json");
        loadGemma3(config, openWeightShards(dir), torch::kCPU, false, /*checkOnly=*/true);
        summary.tiedLmHead = config.tieWordEmbeddings;
        summary.parameterCount = config.parameterCount();
    } else {
        summary.config = loadGpt2Config(dir / "config.json");
        auto model = loadGpt2(summary.config, SafetensorsFile::open(files.front()));
        summary.tiedLmHead = model->tiedLmHead();
        for (const auto& p : model->parameters())
            summary.parameterCount += p.numel();
    }

    if (hasAnyTokenizer(dir)) {
        const auto tokenizer = loadTokenizer(dir);
        summary.tokenizerVocab = tokenizer->vocabSize();
        summary.tokenizerKind = tokenizer->kind();
        if (const auto* bpe = dynamic_cast<const BpeTokenizer*>(tokenizer.get()))
            summary.tokenizerMerges = bpe->mergeCount();
        if (tokenizer->vocabSize() > static_cast<std::size_t>(summary.backbone.vocabSize))
            throw ModelLoadError(
                "tokenizer has " + std::to_string(tokenizer->vocabSize()) +
                    " tokens but config.json vocab_size is " +
                    std::to_string(summary.backbone.vocabSize),
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

namespace {

// Writes the TTT checkpoint of a test model: random, with a non-zero output path (the
// published init zeroes it, UPDATE == SKIP) so UPDATE differs from SKIP in tests.
std::int64_t writeTestTtt(const fs::path& dir, const BackboneInfo& backbone, std::uint64_t seed) {
    auto tttConfig = TttConfig::forBackboneInfo(backbone);
    tttConfig.backboneSha256 = backboneSha256(dir);
    TttModel ttt(tttConfig);
    ttt->initialiseWeights(seed);
    torch::NoGradGuard noGrad;
    auto parameters = ttt->named_parameters();
    parameters["ttt.wo.weight"].normal_(0.0, 0.05);
    if (tttConfig.tttWidth > 0) parameters["ttt_proj_out.weight"].normal_(0.0, 0.05);
    saveTttCheckpoint(ttt, dir);
    std::int64_t count = 0;
    for (const auto& p : ttt->parameters())
        count += p.numel();
    return count;
}

TestModelSummary makeGemma3TestModel(const fs::path& dir, const TestModelOptions& o) {
    const auto headDim = o.headDim > 0 ? o.headDim : o.embd / std::max<std::int64_t>(1, o.heads);
    if (o.layers <= 0 || o.embd <= 0 || o.heads <= 0 || o.kvHeads <= 0 || o.heads % o.kvHeads ||
        headDim <= 0 || headDim % 2 || o.window <= 0 || o.window > o.positions || o.shards < 1)
        throw InputError("invalid Gemma 3 test model shape (layers " + std::to_string(o.layers) +
                             ", embd " + std::to_string(o.embd) + ", heads " +
                             std::to_string(o.heads) + ", kv heads " + std::to_string(o.kvHeads) +
                             ", head dim " + std::to_string(headDim) + ", window " +
                             std::to_string(o.window) + ")",
                         "all positive, {--heads} a multiple of {--kv-heads}, an even head dim, "
                         "{--window} at most {--positions}");
    if (o.tokenizerFrom) {
        writeFileAtomic(dir / "tokenizer.model",
                        readFileBytes(*o.tokenizerFrom / "tokenizer.model"));
    } else {
        if (o.corpus.empty())
            throw InputError(
                "a Gemma 3 test model trains its SentencePiece tokenizer on text",
                "pass {--corpus FILE|DIR} (any source files), or {--tokenizer-from DIR}");
        trainSentencePiece(o.corpus, std::max<std::size_t>(o.vocab, 300), dir / "tokenizer.model");
    }
    const auto tokenizer = SentencePieceTokenizer::load(dir / "tokenizer.model");

    Gemma3Config config;
    config.vocabSize = std::int64_t(tokenizer->vocabSize());
    config.hiddenSize = o.embd;
    config.intermediateSize = 4 * o.embd;
    config.numLayers = o.layers;
    config.numHeads = o.heads;
    config.numKvHeads = o.kvHeads;
    config.headDim = headDim;
    config.queryPreAttnScalar = double(headDim);
    config.maxPositions = o.positions;
    config.slidingWindow = o.window;
    config.slidingLayers = gemma3SlidingPattern(o.layers, std::min<std::int64_t>(6, o.layers));
    config.eosTokenId = tokenizer->endOfTextId().value_or(1);
    config.bosTokenId = tokenizer->beginOfTextId().value_or(2);
    Gemma3Model model(config, torch::TensorOptions().dtype(torch::kFloat32));
    model->initialiseWeights(o.seed);
    writeFileAtomic(dir / "config.json", gemma3ConfigJson(config));
    saveGemma3Weights(model, dir, o.shards);

    TestModelSummary summary;
    summary.parameterCount = config.parameterCount();
    summary.vocabSize = tokenizer->vocabSize();
    if (o.withTtt) summary.tttParameterCount = writeTestTtt(dir, model->info(), o.seed + 1);
    return summary;
}

}  // namespace

TestModelSummary makeTestModel(const fs::path& dir, const TestModelOptions& options) {
    if (options.arch != kArchGpt2 && options.arch != "gemma3" && options.arch != kArchGemma3)
        throw InputError("unknown architecture '" + options.arch + "'",
                         "use {--arch} gpt2 or gemma3");
    if (options.arch != kArchGpt2) {
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec)
            throw OutputError("cannot create '" + dir.string() + "': " + ec.message(),
                              "choose a writable folder");
        return makeGemma3TestModel(dir, options);
    }
    if (options.layers <= 0 || options.embd <= 0 || options.heads <= 0 || options.positions <= 0 ||
        options.embd % options.heads != 0)
        throw InputError("invalid test model shape (layers " + std::to_string(options.layers) +
                             ", embd " + std::to_string(options.embd) + ", heads " +
                             std::to_string(options.heads) + ")",
                         "all must be positive and {--embd} divisible by {--heads}");
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
    if (options.withTtt)
        summary.tttParameterCount = writeTestTtt(dir, model->info(), options.seed + 1);
    summary.vocabSize = tokenizer.vocabSize();
    return summary;
}

}  // namespace ponder::core
