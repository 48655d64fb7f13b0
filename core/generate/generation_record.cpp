// Turning a Generation into a stored run: the stream's text and token offsets, one unit record
// per decision segment, and the gate's own decisions.
#include "core/generate/generation_record.h"

#include <algorithm>
#include <cmath>

#include "core/text/tokenizer.h"

namespace ponder::core {

GenerationRun generationRun(const Generation& generation, const GenerateOptions& options,
                            const Tokenizer& tokenizer, const std::string& label,
                            std::int64_t miniBatch) {
    GenerationRun out;
    PlanFile file;
    file.path = label;
    file.storedWhole = true;
    file.ids = generation.ids;
    // Each token's text in turn, so every offset is exact whatever bytes the model wrote.
    for (const auto id : generation.ids) {
        file.tokenByteStart.push_back(file.text.size());
        file.text += tokenizer.decode({id});
    }
    file.lineStarts.push_back(0);
    for (std::size_t i = 0; i + 1 < file.text.size(); ++i)
        if (file.text[i] == '\n') file.lineStarts.push_back(i + 1);

    for (const auto& segment : generation.segments) {
        auto record = segment.record;
        record.file = label;
        record.fileIndex = 0;
        const auto last =
            std::max<std::int64_t>(record.tokenStart, record.tokenStart + record.tokens - 1);
        record.lineStart = file.lineOf(file.tokenByteStart.at(std::size_t(record.tokenStart)));
        record.lineEnd = file.lineOf(file.tokenByteStart.at(std::size_t(last)));
        out.units.push_back(std::move(record));
        out.taken.decisions.push_back(segment.decision);
        out.taken.threshold.push_back(segment.threshold);
        out.taken.rateEma.push_back(segment.rateEma);
    }
    out.taken.name = "generated";
    out.taken.specJson = nlohmann::json{{"policy", options.policy.name},
                                        {"rate", options.policy.rate},
                                        {"signal", signalName(options.policy.signal)},
                                        {"calibration", options.policy.calibration}}
                             .dump();
    out.plan.options.mode = EvalMode::File;
    out.plan.options.chunk = options.decisionInterval(miniBatch);
    out.plan.totalTokens = std::int64_t(generation.ids.size());
    out.plan.files.push_back(std::move(file));
    return out;
}

nlohmann::json generationSummary(const Generation& generation, const GenerateOptions& options) {
    const auto finite = [](double value) {
        return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
    };
    const auto seconds = generation.generateSeconds;
    return {{"prompt_tokens", generation.promptTokens},
            {"prompt_tokens_dropped", generation.promptTokensDropped},
            {"generated_tokens", generation.generatedTokens()},
            {"stop_reason", generation.stopReason},
            {"max_tokens", options.maxTokens},
            {"stop", options.stop},
            {"temperature", options.sampling.temperature},
            {"top_p", options.sampling.topP},
            {"seed", options.sampling.seed},
            {"chunk", options.chunk},
            {"decide_every",
             options.decideEvery == GenerateOptions::DecideEvery::Chunk ? "chunk" : "minibatch"},
            {"policy", options.policy.name},
            {"segments", generation.segments.size()},
            {"update_rate", finite(generation.updateRate())},
            {"generated_loss", finite(generation.generatedLoss())},
            {"prompt_seconds", generation.promptSeconds},
            {"generate_seconds", seconds},
            {"tokens_per_second", finite(seconds > 0 ? generation.tokensPerSecond() : kNaN)}};
}

}  // namespace ponder::core
