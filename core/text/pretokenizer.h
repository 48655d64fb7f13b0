// GPT-2 pre-tokenization: cuts text into the pieces that byte-level BPE runs on.
#pragma once

#include <string_view>
#include <vector>

namespace ponder::core {

// Splits UTF-8 text like GPT-2's pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// evaluated with JavaScript's Unicode semantics (the reference encoder is npm gpt-3-encoder).
// Invalid UTF-8 bytes are kept, one piece-character each, classed like U+FFFD ("other"),
// so concatenating the pieces always gives back the input exactly.
std::vector<std::string_view> splitGpt2Pieces(std::string_view text);

}  // namespace ponder::core
