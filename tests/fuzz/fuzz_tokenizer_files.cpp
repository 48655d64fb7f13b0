// Tokenizer files as found in a model folder: input = vocab.json bytes, a NUL byte, then
// merges.txt bytes (BpeTokenizer::fromText is what fromFiles runs after reading them).
// Broken files may only throw TokenizerError; a tokenizer that loads must round-trip text.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/text/bpe_tokenizer.h"
#include "tests/fuzz/fuzz_support.h"

using namespace ponder;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto cut = input.find('\0');
    const auto vocab = input.substr(0, cut);
    const auto merges = cut == std::string_view::npos ? std::string_view() : input.substr(cut + 1);

    std::optional<core::BpeTokenizer> tokenizer;
    if (!fuzz::typedErrorsOnly("BpeTokenizer::fromText", [&] {
            tokenizer.emplace(core::BpeTokenizer::fromText(vocab, merges));
        }))
        return 0;

    for (const std::string_view sample :
         {std::string_view("def f(x):\n    return x + 1  # \xc3\xa9\xe2\x82\xac\n"), vocab,
          merges}) {
        const auto ids = tokenizer->encode(sample);
        fuzz::check(tokenizer->decode(ids) == sample, "decode(encode(s)) != s for a loaded vocab");
    }
    // The first ids only: a valid vocabulary may hold ids up to 2^24 - 1.
    for (std::size_t id = 0; id < std::min<std::size_t>(tokenizer->vocabSize(), 1024); ++id)
        fuzz::typedErrorsOnly("tokenString",
                              [&] { (void)tokenizer->tokenString(static_cast<std::int32_t>(id)); });
    return 0;
}
