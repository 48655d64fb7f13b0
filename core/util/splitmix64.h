// splitmix64 (Steele, Lea and Flood 2014): a 64-bit counter stepped by the golden gamma and
// mixed by a bijective finaliser; seeds and hashed random streams whose nearby inputs must not
// correlate.
#pragma once

#include <cstdint>

namespace ponder::core {

constexpr std::uint64_t kGoldenGamma = 0x9E3779B97F4A7C15ULL;

// splitmix64's finaliser.
inline std::uint64_t mix64(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// The i-th output (i from 0) of the splitmix64 stream that starts at `seed`.
inline std::uint64_t splitmix64(std::uint64_t seed, std::uint64_t i) {
    return mix64(seed + (i + 1) * kGoldenGamma);
}

}  // namespace ponder::core
