// safetensors header and layout validation (SafetensorsFile::fromBytes runs the same parse()
// as open() on a mapped file). Valid files must survive a write/read round trip unchanged.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/model/safetensors.h"
#include "tests/fuzz/fuzz_support.h"

using namespace ponder;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string bytes(reinterpret_cast<const char*>(data), size);
    std::optional<core::SafetensorsFile> first, second;
    if (!fuzz::typedErrorsOnly("SafetensorsFile::fromBytes",
                               [&] { first.emplace(core::SafetensorsFile::fromBytes(bytes)); }))
        return 0;
    const auto& file = *first;

    // Every accepted tensor lies inside the buffer: touch its first and last byte (ASan
    // reports a read outside the owned string).
    std::vector<core::TensorToWrite> tensors;
    unsigned sum = 0;
    for (const auto& tensor : file.tensors()) {
        fuzz::check(file.find(tensor.name) == &tensor, "find() misses tensor " + tensor.name);
        const auto length = tensor.end - tensor.begin;
        if (length > 0) sum += file.data(tensor)[0] + file.data(tensor)[length - 1];
        tensors.push_back({tensor.name,
                           tensor.dtype,
                           tensor.shape,
                           {reinterpret_cast<const char*>(file.data(tensor)), length}});
    }
    (void)sum;

    // Round trip: what we accept, we can write, and reading that gives the same tensors.
    std::string written;
    fuzz::check(fuzz::typedErrorsOnly(
                    "serializeSafetensors",
                    [&] { written = core::serializeSafetensors(tensors, file.metadata()); }),
                "an accepted file cannot be written back");
    fuzz::check(
        fuzz::typedErrorsOnly(
            "fromBytes(written)",
            [&] { second.emplace(core::SafetensorsFile::fromBytes(written, "round trip")); }),
        "a written file is rejected");
    const auto& again = *second;
    fuzz::check(again.tensors().size() == file.tensors().size(), "round trip changed the count");
    fuzz::check(again.metadata() == file.metadata(), "round trip changed the metadata");
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const auto& a = file.tensors()[i];
        const auto& b = again.tensors()[i];
        fuzz::check(a.name == b.name && a.dtype == b.dtype && a.shape == b.shape &&
                        a.end - a.begin == b.end - b.begin,
                    "round trip changed tensor " + a.name);
    }
    return 0;
}
