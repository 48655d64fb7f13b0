// A model folder's config.json (Hugging Face GPT-2 or Gemma 3) and ttt.json (ponderttt-ttt/1):
// the same bytes go to all three parsers. Bad files may only throw ModelLoadError; what loads must
// be written back by our own writer into text that loads to the same configuration.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/model/gemma3_config.h"
#include "core/model/gpt2_config.h"
#include "core/model/ttt_config.h"
#include "tests/fuzz/fuzz_support.h"

using namespace ponder;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    core::Gpt2Config gpt2;
    if (fuzz::typedErrorsOnly("parseGpt2Config",
                              [&] { gpt2 = core::parseGpt2Config(text, "config.json"); })) {
        (void)gpt2.parameterCount();
        const std::string written = core::gpt2ConfigJson(gpt2);
        core::Gpt2Config again;
        fuzz::check(fuzz::typedErrorsOnly(
                        "parseGpt2Config(written)",
                        [&] { again = core::parseGpt2Config(written, "written config.json"); }),
                    "our own config.json is rejected:\n" + written);
        fuzz::check(core::gpt2ConfigJson(again) == written, "config.json changed on a round trip");
    }

    core::Gemma3Config gemma;
    if (fuzz::typedErrorsOnly("parseGemma3Config",
                              [&] { gemma = core::parseGemma3Config(text, "config.json"); })) {
        (void)gemma.parameterCount();
        const std::string written = core::gemma3ConfigJson(gemma);
        core::Gemma3Config again;
        fuzz::check(fuzz::typedErrorsOnly(
                        "parseGemma3Config(written)",
                        [&] { again = core::parseGemma3Config(written, "written config.json"); }),
                    "our own Gemma 3 config.json is rejected:\n" + written);
        fuzz::check(core::gemma3ConfigJson(again) == written,
                    "Gemma 3 config.json changed on a round trip");
    }

    core::TttConfig ttt;
    if (fuzz::typedErrorsOnly("parseTttConfig",
                              [&] { ttt = core::parseTttConfig(text, "ttt.json"); })) {
        const std::string written = core::tttConfigJson(ttt);
        core::TttConfig again;
        fuzz::check(fuzz::typedErrorsOnly(
                        "parseTttConfig(written)",
                        [&] { again = core::parseTttConfig(written, "written ttt.json"); }),
                    "our own ttt.json is rejected:\n" + written);
        fuzz::check(core::tttConfigJson(again) == written, "ttt.json changed on a round trip");
    }
    return 0;
}
