// libponder_sentencepiece: libsentencepiece behind a C interface, loaded in isolation by the
// engine (see sentencepiece_shim.h for why).
#include "core/text/sentencepiece_shim.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <unordered_map>
#include <vector>

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

namespace {

void setError(char* error, size_t size, const std::string& message) {
    if (!error || size == 0) return;
    std::strncpy(error, message.c_str(), size - 1);
    error[size - 1] = '\0';
}

template <typename T>
T* copyOut(const std::vector<T>& values) {
    auto* buffer = static_cast<T*>(std::malloc(sizeof(T) * (values.empty() ? 1 : values.size())));
    if (buffer && !values.empty()) std::memcpy(buffer, values.data(), sizeof(T) * values.size());
    return buffer;
}

// The corpus line by line (SentencePiece trains on "sentences"; newlines fall back to bytes).
class LineIterator : public sentencepiece::SentenceIterator {
public:
    explicit LineIterator(std::vector<std::string> lines) : m_lines(std::move(lines)) {}
    bool done() const override { return m_next >= m_lines.size(); }
    void Next() override { ++m_next; }
    const std::string& value() const override { return m_lines[m_next]; }
    sentencepiece::util::Status status() const override { return {}; }

private:
    std::vector<std::string> m_lines;
    std::size_t m_next = 0;
};

}  // namespace

extern "C" {

void* pspm_load(const char* model, size_t size, char* error, size_t errorSize) {
    auto* processor = new sentencepiece::SentencePieceProcessor();
    const auto status = processor->LoadFromSerializedProto(std::string(model, size));
    if (!status.ok()) {
        setError(error, errorSize, status.ToString());
        delete processor;
        return nullptr;
    }
    return processor;
}

void pspm_free(void* processor) {
    delete static_cast<sentencepiece::SentencePieceProcessor*>(processor);
}

void pspm_free_buffer(void* buffer) {
    std::free(buffer);
}

int pspm_encode(void* handle, const char* text, size_t size, int32_t** ids, uint64_t** starts,
                size_t* count, char* error, size_t errorSize) {
    auto* processor = static_cast<sentencepiece::SentencePieceProcessor*>(handle);
    const auto encoded = processor->EncodeAsImmutableProto(std::string_view(text, size));
    std::vector<int32_t> idList;
    std::vector<uint64_t> startList;
    for (const auto& piece : encoded.pieces()) {
        idList.push_back(int32_t(piece.id()));
        startList.push_back(piece.begin());
    }
    if (idList.empty() && size > 0) {
        setError(error, errorSize, "no pieces for a non-empty text");
        return 1;
    }
    *ids = copyOut(idList);
    *starts = copyOut(startList);
    *count = idList.size();
    return 0;
}

int pspm_decode(void* handle, const int32_t* ids, size_t count, char** text, size_t* size,
                char* error, size_t errorSize) {
    auto* processor = static_cast<sentencepiece::SentencePieceProcessor*>(handle);
    std::string out;
    const auto status = processor->Decode(std::vector<int>(ids, ids + count), &out);
    if (!status.ok()) {
        setError(error, errorSize, status.ToString());
        return 1;
    }
    *text = copyOut(std::vector<char>(out.begin(), out.end()));
    *size = out.size();
    return 0;
}

int pspm_piece_size(void* handle) {
    return static_cast<sentencepiece::SentencePieceProcessor*>(handle)->GetPieceSize();
}
int pspm_eos_id(void* handle) {
    return static_cast<sentencepiece::SentencePieceProcessor*>(handle)->eos_id();
}
int pspm_bos_id(void* handle) {
    return static_cast<sentencepiece::SentencePieceProcessor*>(handle)->bos_id();
}

int pspm_train(const char* const* files, size_t fileCount, const char* const* options,
               size_t optionCount, const char* out, char* error, size_t errorSize) {
    std::vector<std::string> lines;
    for (size_t f = 0; f < fileCount; ++f) {
        std::ifstream in(files[f], std::ios::binary);
        if (!in) {
            setError(error, errorSize, std::string("cannot read '") + files[f] + "'");
            return 1;
        }
        const std::string text((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
        std::size_t begin = 0;
        while (begin < text.size()) {
            auto end = text.find('\n', begin);
            if (end == std::string::npos) end = text.size();
            if (end > begin) lines.push_back(text.substr(begin, end - begin));
            begin = end + 1;
        }
    }
    std::unordered_map<std::string, std::string> kwargs;
    for (size_t i = 0; i < optionCount; ++i) {
        const std::string option = options[i];
        const auto equals = option.find('=');
        kwargs[option.substr(0, equals)] =
            equals == std::string::npos ? "" : option.substr(equals + 1);
    }
    LineIterator iterator(std::move(lines));
    std::string model;
    const auto status = sentencepiece::SentencePieceTrainer::Train(kwargs, &iterator, &model);
    if (!status.ok()) {
        setError(error, errorSize, status.ToString());
        return 1;
    }
    std::ofstream file(out, std::ios::binary | std::ios::trunc);
    file.write(model.data(), std::streamsize(model.size()));
    if (!file) {
        setError(error, errorSize, std::string("cannot write '") + out + "'");
        return 1;
    }
    return 0;
}

}  // extern "C"
