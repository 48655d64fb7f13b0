// SentencePiece through libsentencepiece (Debian), reached through the isolated
// libponder_sentencepiece module (sentencepiece_shim.h says why), and the tokenizer dispatch.
#include "core/text/sentencepiece_tokenizer.h"

#include <dlfcn.h>
#include <unistd.h>

#include "core/text/bpe_tokenizer.h"
#include "core/text/sentencepiece_shim.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"

namespace ponder::core {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kErrorSize = 512;

// The module's functions, resolved once.
struct ShimApi {
    decltype(&pspm_load) load = nullptr;
    decltype(&pspm_free) free = nullptr;
    decltype(&pspm_free_buffer) freeBuffer = nullptr;
    decltype(&pspm_encode) encode = nullptr;
    decltype(&pspm_decode) decode = nullptr;
    decltype(&pspm_piece_size) pieceSize = nullptr;
    decltype(&pspm_eos_id) eosId = nullptr;
    decltype(&pspm_bos_id) bosId = nullptr;
    decltype(&pspm_train) train = nullptr;
};

// Where the module is: $PONDER_SENTENCEPIECE_MODULE, beside the running binary, or where the
// build put it.
std::vector<fs::path> moduleCandidates() {
    std::vector<fs::path> paths;
    if (const char* env = std::getenv("PONDER_SENTENCEPIECE_MODULE")) paths.emplace_back(env);
    std::error_code error;
    const auto self = fs::read_symlink("/proc/self/exe", error);
    if (!error) paths.push_back(self.parent_path() / "libponder_sentencepiece.so");
#ifdef PONDER_SENTENCEPIECE_MODULE_PATH
    paths.emplace_back(PONDER_SENTENCEPIECE_MODULE_PATH);
#endif
    return paths;
}

const ShimApi& shim() {
    static const ShimApi api = [] {
#if defined(__SANITIZE_ADDRESS__)
        throw TokenizerError("SentencePiece is not available in sanitizer builds",
                             "its bundled protobuf needs RTLD_DEEPBIND, which AddressSanitizer "
                             "refuses; use a normal build");
#endif
        void* handle = nullptr;
        std::string tried;
        for (const auto& path : moduleCandidates()) {
            if (!fs::exists(path)) continue;
            handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
            if (handle) break;
            tried += std::string(tried.empty() ? "" : "; ") + dlerror();
        }
        if (!handle)
            throw TokenizerError(
                "the SentencePiece module libponder_sentencepiece.so could not "
                "be loaded" +
                    (tried.empty() ? "" : " (" + tried + ")"),
                "build the project (it sits beside the ponder binary), install "
                "libsentencepiece0, or set PONDER_SENTENCEPIECE_MODULE");
        ShimApi a;
        const auto resolve = [&](auto& slot, const char* name) {
            slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(dlsym(handle, name));
            if (!slot)
                throw TokenizerError(std::string("libponder_sentencepiece.so lacks ") + name,
                                     "rebuild the project");
        };
        resolve(a.load, "pspm_load");
        resolve(a.free, "pspm_free");
        resolve(a.freeBuffer, "pspm_free_buffer");
        resolve(a.encode, "pspm_encode");
        resolve(a.decode, "pspm_decode");
        resolve(a.pieceSize, "pspm_piece_size");
        resolve(a.eosId, "pspm_eos_id");
        resolve(a.bosId, "pspm_bos_id");
        resolve(a.train, "pspm_train");
        return a;
    }();
    return api;
}

}  // namespace

struct SentencePieceTokenizer::Impl {
    void* processor = nullptr;
    std::string label;
    ~Impl() {
        if (processor) shim().free(processor);
    }
};

SentencePieceTokenizer::SentencePieceTokenizer() : m_impl(std::make_unique<Impl>()) {}
SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::unique_ptr<SentencePieceTokenizer> SentencePieceTokenizer::load(const fs::path& modelFile) {
    std::string bytes;
    try {
        bytes = readFileBytes(modelFile);
    } catch (const InputError&) {
        throw TokenizerError("cannot read SentencePiece model '" + modelFile.string() + "'",
                             "tokenizer.model must be a readable file");
    }
    std::unique_ptr<SentencePieceTokenizer> tokenizer(new SentencePieceTokenizer());
    tokenizer->m_impl->label = modelFile.string();
    char error[kErrorSize] = {};
    tokenizer->m_impl->processor = shim().load(bytes.data(), bytes.size(), error, kErrorSize);
    if (!tokenizer->m_impl->processor)
        throw TokenizerError(
            "'" + modelFile.string() + "' is not a SentencePiece model (" + error + ")",
            "copy tokenizer.model from the model's original download");
    return tokenizer;
}

namespace {

struct Encoded {
    std::vector<std::int32_t> ids;
    std::vector<std::uint64_t> starts;
};

Encoded encodeWithShim(void* processor, std::string_view text) {
    std::int32_t* ids = nullptr;
    std::uint64_t* starts = nullptr;
    std::size_t count = 0;
    char error[kErrorSize] = {};
    if (shim().encode(processor, text.data(), text.size(), &ids, &starts, &count, error,
                      kErrorSize) != 0)
        throw TokenizerError(std::string("SentencePiece could not encode the text (") + error + ")",
                             "check that the input is UTF-8 text");
    Encoded out{{ids, ids + count}, {starts, starts + count}};
    shim().freeBuffer(ids);
    shim().freeBuffer(starts);
    return out;
}

}  // namespace

std::vector<std::int32_t> SentencePieceTokenizer::encode(std::string_view text) const {
    return encodeWithShim(m_impl->processor, text).ids;
}

std::vector<std::uint64_t> SentencePieceTokenizer::tokenByteStarts(
    std::string_view text, const std::vector<std::int32_t>& ids) const {
    // The library's own alignment of pieces to the input bytes.
    auto encoded = encodeWithShim(m_impl->processor, text);
    if (encoded.ids != ids)
        throw TokenizerError("SentencePiece offsets asked for ids of another text",
                             "pass ids that encode() made from this text");
    return std::move(encoded.starts);
}

std::string SentencePieceTokenizer::decode(const std::vector<std::int32_t>& ids) const {
    const auto size = vocabSize();
    for (const auto id : ids)
        if (id < 0 || std::size_t(id) >= size)
            throw TokenizerError("token id " + std::to_string(id) + " is outside the vocabulary (" +
                                     std::to_string(size) + " pieces)",
                                 "the ids belong to another tokenizer");
    char* text = nullptr;
    std::size_t length = 0;
    char error[kErrorSize] = {};
    if (shim().decode(m_impl->processor, ids.data(), ids.size(), &text, &length, error,
                      kErrorSize) != 0)
        throw TokenizerError(std::string("SentencePiece could not decode (") + error + ")",
                             "the ids belong to another tokenizer");
    std::string out(text, length);
    shim().freeBuffer(text);
    return out;
}

std::size_t SentencePieceTokenizer::vocabSize() const {
    return std::size_t(shim().pieceSize(m_impl->processor));
}

std::optional<std::int32_t> SentencePieceTokenizer::endOfTextId() const {
    const int id = shim().eosId(m_impl->processor);
    return id >= 0 ? std::optional<std::int32_t>(id) : std::nullopt;
}

std::optional<std::int32_t> SentencePieceTokenizer::beginOfTextId() const {
    const int id = shim().bosId(m_impl->processor);
    return id >= 0 ? std::optional<std::int32_t>(id) : std::nullopt;
}

void trainSentencePiece(const std::vector<fs::path>& corpus, std::size_t vocab,
                        const fs::path& out) {
    if (corpus.empty())
        throw TokenizerError("a SentencePiece model needs training text",
                             "pass {--corpus FILE} (any text; source files work)");
    // Gemma's conventions: ids 0-3 special, byte fallback, digits split, whitespace as is.
    const std::vector<std::string> options = {"model_type=bpe",
                                              "vocab_size=" + std::to_string(vocab),
                                              "pad_id=0",
                                              "eos_id=1",
                                              "bos_id=2",
                                              "unk_id=3",
                                              "pad_piece=<pad>",
                                              "eos_piece=<eos>",
                                              "bos_piece=<bos>",
                                              "unk_piece=<unk>",
                                              "byte_fallback=true",
                                              "split_digits=true",
                                              "character_coverage=1.0",
                                              "add_dummy_prefix=false",
                                              "remove_extra_whitespaces=false",
                                              "allow_whitespace_only_pieces=true",
                                              "normalization_rule_name=identity",
                                              "hard_vocab_limit=false",
                                              "num_threads=1",
                                              "minloglevel=2"};
    std::vector<std::string> paths;
    for (const auto& file : corpus)
        paths.push_back(file.string());
    std::vector<const char*> fileArgs, optionArgs;
    for (const auto& path : paths)
        fileArgs.push_back(path.c_str());
    for (const auto& option : options)
        optionArgs.push_back(option.c_str());
    const auto partial = out.string() + ".partial";
    char error[kErrorSize] = {};
    if (shim().train(fileArgs.data(), fileArgs.size(), optionArgs.data(), optionArgs.size(),
                     partial.c_str(), error, kErrorSize) != 0)
        throw TokenizerError(std::string("SentencePiece training failed (") + error + ")",
                             "give more varied text, or a smaller vocabulary");
    std::error_code renameError;
    fs::rename(partial, out, renameError);
    if (renameError)
        throw OutputError("cannot write '" + out.string() + "': " + renameError.message(),
                          "choose a writable folder");
}

bool hasAnyTokenizer(const fs::path& dir) {
    return fs::exists(dir / "tokenizer.model") || hasTokenizerFiles(dir);
}

std::unique_ptr<Tokenizer> loadTokenizer(const fs::path& dir) {
    if (fs::exists(dir / "tokenizer.model"))
        return SentencePieceTokenizer::load(dir / "tokenizer.model");
    if (!hasTokenizerFiles(dir) && fs::exists(dir / "tokenizer.json"))
        throw TokenizerError("'" + dir.string() +
                                 "' has only tokenizer.json (Hugging Face "
                                 "tokenizers format), which ponder cannot read",
                             "add the model's tokenizer.model (SentencePiece) or vocab.json + "
                             "merges.txt from the same download");
    return std::make_unique<BpeTokenizer>(BpeTokenizer::load(dir));
}

}  // namespace ponder::core
