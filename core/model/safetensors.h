// safetensors reader (memory-mapped, strictly validated) and writer, without LibTorch.
// Format: u64 little-endian header length N, N bytes of JSON header, then the byte buffer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ponder::core {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, Bool };

std::size_t dtypeSize(DType dtype);
std::string_view dtypeName(DType dtype);  // "F32", "BF16", ...
std::optional<DType> parseDType(std::string_view name);

struct TensorInfo {
    std::string name;
    DType dtype = DType::F32;
    std::vector<std::int64_t> shape;
    std::uint64_t begin = 0;  // byte offsets into the buffer after the header
    std::uint64_t end = 0;
    std::int64_t numel() const;
};

class SafetensorsFile {
public:
    // Maps the file and validates the header; throws WeightsFormatError naming the file and,
    // where one is at fault, the tensor.
    static SafetensorsFile open(const std::filesystem::path& path);
    // Same validation on bytes already in memory (tests, fuzzing); `label` names it in errors.
    static SafetensorsFile fromBytes(std::string bytes, const std::string& label = "<memory>");

    const std::vector<TensorInfo>& tensors() const { return m_tensors; }  // in buffer order
    const TensorInfo* find(std::string_view name) const;
    const std::uint8_t* data(const TensorInfo& tensor) const { return m_buffer + tensor.begin; }
    const std::map<std::string, std::string>& metadata() const { return m_metadata; }
    const std::string& label() const { return m_label; }

private:
    SafetensorsFile() = default;
    void parse(const std::uint8_t* bytes, std::size_t size);

    std::shared_ptr<const void> m_storage;  // keeps the mapping or the string alive
    const std::uint8_t* m_buffer = nullptr;
    std::vector<TensorInfo> m_tensors;
    std::map<std::string, std::string> m_metadata;
    std::string m_label;
};

struct TensorToWrite {
    std::string name;
    DType dtype = DType::F32;
    std::vector<std::int64_t> shape;
    std::string_view bytes;  // little-endian, row-major; must match dtype and shape
};

// Serializes in the given order, header padded with spaces to a multiple of 8 bytes
// (so every tensor stays 8-byte aligned when mapped).
std::string serializeSafetensors(const std::vector<TensorToWrite>& tensors,
                                 const std::map<std::string, std::string>& metadata = {});
// Writes atomically (temp file + rename). Throws OutputError.
void writeSafetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace ponder::core
