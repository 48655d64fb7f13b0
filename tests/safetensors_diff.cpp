// safetensors_diff A B TOL: compares two F32 safetensors files tensor by tensor (same names,
// shapes and dtypes) and exits 0 when every |a - b| <= TOL · (1 + |b|); prints the largest
// difference. tests/cli/distributed.sh compares multi-process training with one process.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "core/model/safetensors.h"
#include "core/util/errors.h"

int main(int argc, char** argv) {
    using ponder::core::DType;
    using ponder::core::SafetensorsFile;
    if (argc != 4) {
        std::cerr << "usage: safetensors_diff A.safetensors B.safetensors TOLERANCE\n";
        return 2;
    }
    try {
        const auto a = SafetensorsFile::open(argv[1]);
        const auto b = SafetensorsFile::open(argv[2]);
        const double tolerance = std::atof(argv[3]);
        if (a.tensors().size() != b.tensors().size()) {
            std::cerr << "different tensor counts\n";
            return 1;
        }
        double largest = 0;
        bool within = true;
        for (const auto& tensor : a.tensors()) {
            const auto* other = b.find(tensor.name);
            if (!other || other->shape != tensor.shape || other->dtype != tensor.dtype ||
                tensor.dtype != DType::F32) {
                std::cerr << tensor.name << ": missing, reshaped or not F32 in " << argv[2] << "\n";
                return 1;
            }
            for (std::int64_t i = 0; i < tensor.numel(); ++i) {
                float x = 0, y = 0;
                std::memcpy(&x, a.data(tensor) + 4 * i, 4);
                std::memcpy(&y, b.data(*other) + 4 * i, 4);
                const double difference = std::fabs(double(x) - double(y));
                largest = std::max(largest, difference);
                within = within && difference <= tolerance * (1 + std::fabs(double(y)));
            }
        }
        std::cout << "largest difference " << largest << "\n";
        return within ? 0 : 1;
    } catch (const std::exception& error) {
        std::cerr << "error: " << error.what() << "\n";
        return 2;
    }
}
