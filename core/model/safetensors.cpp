// safetensors I/O. Validation follows the format's rules: bounded header, known dtypes,
// byte counts that agree with shapes, and a buffer covered exactly once (no holes, no overlap).
#include "core/model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <limits>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/util/errors.h"
#include "core/util/file_io.h"

namespace ponder::core {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::uint64_t kMaxHeaderBytes = 100ull << 20;  // the reference implementation's bound

struct DTypeEntry {
    DType dtype;
    std::string_view name;
    std::size_t size;
};
constexpr DTypeEntry kDTypes[] = {
    {DType::F64, "F64", 8},   {DType::F32, "F32", 4}, {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2}, {DType::I64, "I64", 8}, {DType::I32, "I32", 4},
    {DType::I16, "I16", 2},   {DType::I8, "I8", 1},   {DType::U8, "U8", 1},
    {DType::Bool, "BOOL", 1},
};

const DTypeEntry& entryOf(DType dtype) {
    for (const auto& entry : kDTypes)
        if (entry.dtype == dtype) return entry;
    throw std::logic_error("unknown DType");
}

std::uint64_t readLittleEndian64(const std::uint8_t* bytes) {
    std::uint64_t value = 0;
    for (int i = 7; i >= 0; --i)
        value = (value << 8) | bytes[i];
    return value;
}

// Non-negative integer from a JSON value, or nullopt.
std::optional<std::uint64_t> asCount(const json& value) {
    if (value.is_number_unsigned()) return value.get<std::uint64_t>();
    if (value.is_number_integer() && value.get<std::int64_t>() >= 0)
        return static_cast<std::uint64_t>(value.get<std::int64_t>());
    return std::nullopt;
}

}  // namespace

std::size_t dtypeSize(DType dtype) {
    return entryOf(dtype).size;
}
std::string_view dtypeName(DType dtype) {
    return entryOf(dtype).name;
}

std::optional<DType> parseDType(std::string_view name) {
    for (const auto& entry : kDTypes)
        if (entry.name == name) return entry.dtype;
    return std::nullopt;
}

std::int64_t TensorInfo::numel() const {
    std::int64_t count = 1;
    for (auto dim : shape)
        count *= dim;
    return count;
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
    for (const auto& tensor : m_tensors)
        if (tensor.name == name) return &tensor;
    return nullptr;
}

SafetensorsFile SafetensorsFile::open(const fs::path& path) {
    SafetensorsFile file;
    file.m_label = path.string();
    const auto fail = [&](const std::string& why, const std::string& hint) {
        return WeightsFormatError("cannot read weights '" + path.string() + "': " + why, hint);
    };
    std::error_code ec;
    if (!fs::exists(path, ec)) throw fail("no such file", "check the model directory");
    if (fs::is_directory(path, ec)) throw fail("it is a directory", "pass the .safetensors file");
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) throw fail(std::strerror(errno), "check the file's permissions");
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
        ::close(fd);
        throw fail(std::strerror(errno), "check the file");
    }
    const auto size = static_cast<std::size_t>(info.st_size);
    if (size == 0) {
        ::close(fd);
        throw fail("the file is empty", "the download or save was interrupted; write it again");
    }
    void* mapping = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (mapping == MAP_FAILED) throw fail(std::strerror(errno), "check free memory");
    file.m_storage = std::shared_ptr<const void>(
        mapping, [size](const void* p) { ::munmap(const_cast<void*>(p), size); });
    file.parse(static_cast<const std::uint8_t*>(mapping), size);
    return file;
}

SafetensorsFile SafetensorsFile::fromBytes(std::string bytes, const std::string& label) {
    SafetensorsFile file;
    file.m_label = label;
    auto owned = std::make_shared<const std::string>(std::move(bytes));
    const auto* data = reinterpret_cast<const std::uint8_t*>(owned->data());
    const auto size = owned->size();
    file.m_storage = owned;
    file.parse(data, size);
    return file;
}

namespace {

using Fail = std::function<WeightsFormatError(const std::string& why)>;

// The JSON header after the 8-byte length, checked for bounds and duplicate tensor names;
// `headerBytes` receives its length.
json readHeader(const std::uint8_t* bytes, std::size_t size, std::uint64_t& headerBytes,
                const Fail& fail) {
    if (size < 8)
        throw fail("only " + std::to_string(size) + " bytes, too short for the 8-byte header size");
    headerBytes = readLittleEndian64(bytes);
    if (headerBytes < 2 || headerBytes > kMaxHeaderBytes)
        throw fail("header length " + std::to_string(headerBytes) + " is out of bounds");
    if (headerBytes > size - 8)
        throw fail("header length " + std::to_string(headerBytes) + " exceeds the file size " +
                   std::to_string(size));
    const auto* headerStart = reinterpret_cast<const char*>(bytes + 8);
    if (headerStart[0] != '{') throw fail("header does not start with '{'");

    // Reject duplicate top-level names: the format forbids them and a JSON parser would keep
    // only the last one silently.
    std::set<std::string> seenNames;
    std::string duplicate;
    json header;
    try {
        header = json::parse(headerStart, headerStart + headerBytes,
                             [&](int depth, json::parse_event_t event, json& parsed) {
                                 if (depth == 1 && event == json::parse_event_t::key &&
                                     !seenNames.insert(parsed.get<std::string>()).second &&
                                     duplicate.empty())
                                     duplicate = parsed.get<std::string>();
                                 return true;
                             });
    } catch (const json::exception& error) {
        throw fail(std::string("header is not valid JSON (") + error.what() + ")");
    }
    if (!duplicate.empty()) throw fail("tensor '" + duplicate + "' is listed twice");
    if (!header.is_object()) throw fail("header is not a JSON object");
    return header;
}

// A shape's dimensions, and its element count. The bound applies to the product of the
// non-zero dimensions too, so an empty tensor cannot carry dimensions whose product (or a
// single one) overflows int64 later in numel() or LibTorch (fuzzing found [0, 2^64-1] stored
// as shape [0, -1]).
std::uint64_t readShape(const json& shape, std::vector<std::int64_t>& dims, const Fail& fail) {
    if (!shape.is_array()) throw fail("shape is not an array");
    std::uint64_t elements = 1, nonZero = 1;
    for (const auto& dim : shape) {
        const auto count = asCount(dim);
        if (!count) throw fail("shape " + shape.dump() + " has a non-integer entry");
        if (*count != 0 && nonZero > std::numeric_limits<std::uint64_t>::max() / 16 / *count)
            throw fail("shape " + shape.dump() + " is too large");
        if (*count != 0) nonZero *= *count;
        elements *= *count;
        dims.push_back(static_cast<std::int64_t>(*count));
    }
    return elements;
}

// One tensor's header entry, checked against the data buffer's size.
TensorInfo readTensorEntry(const std::string& name, const json& entry, std::uint64_t bufferBytes,
                           const Fail& fileFail) {
    const Fail fail = [&](const std::string& why) {
        return fileFail("tensor '" + name + "': " + why);
    };
    if (!entry.is_object()) throw fail("entry is not an object");
    if (!entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
        throw fail("entry needs dtype, shape and data_offsets");
    TensorInfo tensor;
    tensor.name = name;
    const auto& dtype = entry["dtype"];
    const auto parsed = dtype.is_string() ? parseDType(dtype.get<std::string>()) : std::nullopt;
    if (!parsed) throw fail("unsupported dtype " + dtype.dump());
    tensor.dtype = *parsed;
    const auto& shape = entry["shape"];
    const auto elements = readShape(shape, tensor.shape, fail);
    const auto& offsets = entry["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !asCount(offsets[0]) || !asCount(offsets[1]))
        throw fail("data_offsets must be two non-negative integers");
    tensor.begin = *asCount(offsets[0]);
    tensor.end = *asCount(offsets[1]);
    if (tensor.begin > tensor.end) throw fail("data_offsets end before they begin");
    if (tensor.end > bufferBytes)
        throw fail("data ends at byte " + std::to_string(tensor.end) + " but the buffer holds " +
                   std::to_string(bufferBytes) + " (file truncated?)");
    const std::uint64_t expected = elements * dtypeSize(tensor.dtype);
    if (tensor.end - tensor.begin != expected)
        throw fail("holds " + std::to_string(tensor.end - tensor.begin) + " bytes but dtype " +
                   std::string(dtypeName(tensor.dtype)) + " and shape " + shape.dump() + " need " +
                   std::to_string(expected));
    return tensor;
}

// Sorts the tensors by offset and checks that they tile the buffer: no overlap, no gap.
void checkTiling(std::vector<TensorInfo>& tensors, std::uint64_t bufferBytes, const Fail& fail) {
    std::stable_sort(tensors.begin(), tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    std::uint64_t covered = 0;
    const TensorInfo* previous = nullptr;
    for (const auto& tensor : tensors) {
        if (tensor.begin < covered)
            throw fail("tensor '" + tensor.name + "' overlaps tensor '" + previous->name + "'");
        if (tensor.begin > covered)
            throw fail("bytes " + std::to_string(covered) + ".." + std::to_string(tensor.begin) +
                       " before tensor '" + tensor.name + "' belong to no tensor");
        covered = tensor.end;
        previous = &tensor;
    }
    if (covered != bufferBytes)
        throw fail(std::to_string(bufferBytes - covered) +
                   " bytes after the last tensor belong to no tensor");
}

}  // namespace

void SafetensorsFile::parse(const std::uint8_t* bytes, std::size_t size) {
    const Fail fail = [&](const std::string& why) {
        return WeightsFormatError("invalid safetensors file '" + m_label + "': " + why,
                                  "the file is truncated or not a safetensors file; "
                                  "re-export or re-download it");
    };
    std::uint64_t headerBytes = 0;
    const auto header = readHeader(bytes, size, headerBytes, fail);
    const std::uint64_t bufferBytes = size - 8 - headerBytes;
    m_buffer = bytes + 8 + headerBytes;
    for (const auto& [name, entry] : header.items()) {
        if (name != "__metadata__") {
            m_tensors.push_back(readTensorEntry(name, entry, bufferBytes, fail));
            continue;
        }
        if (!entry.is_object()) throw fail("__metadata__ is not an object");
        for (const auto& [key, value] : entry.items()) {
            if (!value.is_string()) throw fail("__metadata__['" + key + "'] is not a string");
            m_metadata[key] = value.get<std::string>();
        }
    }
    checkTiling(m_tensors, bufferBytes, fail);
}

namespace {

// Validated header text (padded to 8 bytes) for tensors laid out in the given order.
std::string buildHeader(const std::vector<TensorToWrite>& tensors,
                        const std::map<std::string, std::string>& metadata) {
    json header = json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    std::uint64_t offset = 0;
    std::set<std::string> names;
    for (const auto& tensor : tensors) {
        std::uint64_t elements = 1;
        for (auto dim : tensor.shape) {
            if (dim < 0) throw std::invalid_argument("negative dimension in '" + tensor.name + "'");
            elements *= static_cast<std::uint64_t>(dim);
        }
        if (elements * dtypeSize(tensor.dtype) != tensor.bytes.size())
            throw std::invalid_argument("byte count of '" + tensor.name +
                                        "' does not match its dtype and shape");
        if (!names.insert(tensor.name).second || tensor.name == "__metadata__")
            throw std::invalid_argument("duplicate or reserved tensor name '" + tensor.name + "'");
        header[tensor.name] = {{"dtype", dtypeName(tensor.dtype)},
                               {"shape", tensor.shape},
                               {"data_offsets", {offset, offset + tensor.bytes.size()}}};
        offset += tensor.bytes.size();
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    return text;
}

void writeTo(std::ostream& out, const std::string& headerText,
             const std::vector<TensorToWrite>& tensors) {
    const std::uint64_t length = headerText.size();
    for (int i = 0; i < 8; ++i)
        out.put(static_cast<char>((length >> (8 * i)) & 0xff));
    out.write(headerText.data(), static_cast<std::streamsize>(headerText.size()));
    for (const auto& tensor : tensors)
        out.write(tensor.bytes.data(), static_cast<std::streamsize>(tensor.bytes.size()));
}

}  // namespace

std::string serializeSafetensors(const std::vector<TensorToWrite>& tensors,
                                 const std::map<std::string, std::string>& metadata) {
    std::ostringstream out;
    writeTo(out, buildHeader(tensors, metadata), tensors);
    return std::move(out).str();
}

void writeSafetensors(const fs::path& path, const std::vector<TensorToWrite>& tensors,
                      const std::map<std::string, std::string>& metadata) {
    const std::string headerText = buildHeader(tensors, metadata);  // validate before writing
    writeFileAtomic(path, [&](std::ostream& out) { writeTo(out, headerText, tensors); });
}

}  // namespace ponder::core
