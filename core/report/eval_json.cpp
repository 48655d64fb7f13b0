// Serialising a run for other tools; field names are the design.md §9 contract.
#include "core/report/eval_json.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace ponder::core {
using json = nlohmann::ordered_json;

namespace {
json number(double value) {
    return std::isfinite(value) ? json(value) : json(nullptr);
}
}  // namespace

std::string evalJson(const RunDescription& run, const std::vector<UnitRecord>& units,
                     const RunAnalysis& analysis) {
    json root;
    json ttt = run.tttConfigJson.empty() ? json(nullptr) : json::parse(run.tttConfigJson);
    root["run"] = {{"model", run.modelDir},
                   {"mode", run.mode},
                   {"chunk", run.chunk},
                   {"device", run.device},
                   {"dtype", run.dtype},
                   {"threads", run.threads},
                   {"inputs", run.inputs},
                   {"files", run.files},
                   {"tokens", run.tokens},
                   {"dropped_tokens", run.droppedTokens},
                   {"skipped_files", run.skippedFiles},
                   {"units", units.size()},
                   {"seconds", number(run.seconds)},
                   {"tokens_per_second", number(run.tokensPerSecond)},
                   {"rate", run.rate},
                   {"backbone_sha256", run.backboneSha256},
                   {"ttt", ttt},
                   {"started_at", run.startedAt},
                   {"cancelled", run.cancelled},
                   {"shuffle", run.shuffle},
                   {"causal_k", run.causalK},
                   {"ttt_sha256", run.tttSha256},
                   {"fast_gate", run.fastGate.empty() ? json(nullptr) : json(run.fastGate)}};
    json unitArray = json::array();
    for (const auto& unit : units) {
        unitArray.push_back({{"file", unit.file},
                             {"unit", unit.unit},
                             {"batch_idx", unit.batchIndex},
                             {"chunk_idx", unit.chunkIndex},
                             {"n_seqs", unit.sequences},
                             {"token_start", unit.tokenStart},
                             {"n_tokens", unit.tokens},
                             {"line_start", unit.lineStart},
                             {"line_end", unit.lineEnd},
                             {"loss_skip", number(unit.lossSkip)},
                             {"loss_update", number(unit.lossUpdate)},
                             {"advantage", number(unit.advantage)},
                             {"loss_static", number(unit.lossStatic)},
                             {"adv_static", number(unit.advStatic())},
                             {"adv_inner", number(unit.advInner())},
                             {"recon_step0", number(unit.reconStep0)},
                             {"recon_init", number(unit.reconInit)},
                             {"recon_step1", number(unit.reconStep1)},
                             {"improvement", number(unit.improvement)},
                             {"entropy", number(unit.entropy)},
                             {"confidence", number(unit.confidence)},
                             {"seconds", number(unit.seconds)},
                             {"entropy_update", number(unit.entropyUpdate)},
                             {"confidence_update", number(unit.confidenceUpdate)}});
        // The learned gates' stored inputs (gates.md §2), null where not computed.
        auto& features = unitArray.back()["gate_features"];
        if (unit.gateFeatures.empty()) {
            features = nullptr;
        } else {
            features = json::array();
            for (float value : unit.gateFeatures)
                features.push_back(number(value));
        }
    }
    root["units"] = std::move(unitArray);
    json policyMap = json::object();
    const auto numbers = [](const std::vector<double>& values) {
        json array = json::array();
        for (double value : values)
            array.push_back(number(value));
        return array;
    };
    for (const auto& policy : analysis.policies) {
        const auto& summary = policy.summary;
        policyMap[policy.spec.name] = {{"decisions", policy.run.decisions},
                                       {"threshold", numbers(policy.run.threshold)},
                                       {"rate_ema", numbers(policy.run.rateEma)},
                                       {"loss", number(summary.loss)},
                                       {"rate", number(summary.rate)},
                                       {"cost", number(summary.cost)},
                                       {"recovery", number(summary.recovery)},
                                       {"agreement", number(summary.agreement)}};
    }
    root["policies"] = std::move(policyMap);
    // File names need not be UTF-8 (Linux paths are bytes): such bytes become U+FFFD instead of
    // dump() throwing json::type_error after the whole evaluation has run.
    return root.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace ponder::core
