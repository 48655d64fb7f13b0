// Bridges the torch-free safetensors module and LibTorch.
#include "core/model/tensor_convert_impl.h"

#include <cstring>

namespace ponder::core {

namespace {

torch::ScalarType toScalarType(DType dtype) {
    switch (dtype) {
        case DType::F64:
            return torch::kFloat64;
        case DType::F32:
            return torch::kFloat32;
        case DType::F16:
            return torch::kFloat16;
        case DType::BF16:
            return torch::kBFloat16;
        case DType::I64:
            return torch::kInt64;
        case DType::I32:
            return torch::kInt32;
        case DType::I16:
            return torch::kInt16;
        case DType::I8:
            return torch::kInt8;
        case DType::U8:
            return torch::kUInt8;
        case DType::Bool:
            return torch::kBool;
    }
    throw std::logic_error("unknown DType");
}

DType toDType(torch::ScalarType type) {
    for (DType dtype : {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64, DType::I32,
                        DType::I16, DType::I8, DType::U8, DType::Bool})
        if (toScalarType(dtype) == type) return dtype;
    throw std::invalid_argument(std::string("no safetensors dtype for ") + c10::toString(type));
}

}  // namespace

torch::Tensor loadTensor(const SafetensorsFile& file, const TensorInfo& info) {
    auto tensor = torch::empty(info.shape, torch::TensorOptions().dtype(toScalarType(info.dtype)));
    // memcpy rather than from_blob: mapped data need not be aligned for the dtype. An empty
    // tensor's data_ptr() is null, and memcpy from/to null is undefined even for 0 bytes.
    if (info.end > info.begin)
        std::memcpy(tensor.data_ptr(), file.data(info), info.end - info.begin);
    return tensor;
}

void saveTensors(const std::filesystem::path& path, const NamedTensors& tensors,
                 const std::map<std::string, std::string>& metadata) {
    std::vector<torch::Tensor> keepAlive;
    std::vector<TensorToWrite> entries;
    keepAlive.reserve(tensors.size());
    for (const auto& [name, tensor] : tensors) {
        keepAlive.push_back(tensor.detach().to(torch::kCPU).contiguous());
        const auto& cpu = keepAlive.back();
        entries.push_back({name, toDType(cpu.scalar_type()),
                           std::vector<std::int64_t>(cpu.sizes().begin(), cpu.sizes().end()),
                           std::string_view(static_cast<const char*>(cpu.data_ptr()),
                                            cpu.numel() * cpu.element_size())});
    }
    writeSafetensors(path, entries, metadata);
}

}  // namespace ponder::core
