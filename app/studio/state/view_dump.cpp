// The summary table as JSON, from the same rows the table draws.
#include "app/studio/state/view_dump.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace ponder::studio {

namespace {

using Json = nlohmann::ordered_json;

Json number(double value) {
    return std::isfinite(value) ? Json(value) : Json(nullptr);
}

Json interval(const std::optional<core::BootstrapInterval>& ci) {
    if (!ci) return nullptr;
    return Json::array({number(ci->low), number(ci->high)});
}

}  // namespace

std::string summaryViewJson(const StudioState& state, std::optional<std::int64_t> runId,
                            const std::vector<ViewFrame>& frames) {
    const auto& ours = state.analysisSettings().ours;
    Json root = {{"run", runId ? Json(*runId) : Json(nullptr)},
                 {"policy", ours.name},
                 {"rate", number(ours.rate)},
                 {"calibration", ours.calibration},
                 {"own_rate", state.analysis().oursOwnRate},
                 {"rate_applies", state.rateApplies()},
                 {"error", state.replayError()},
                 {"slice", state.slice()},  // file indices; empty: the whole run
                 {"rows", Json::array()}};
    for (const auto& row : state.summary()) {
        const auto& s = row.summary;
        Json seeded = nullptr;
        if (row.seededDraw)
            seeded = {{"loss", number(row.seededDraw->loss)},
                      {"rate", number(row.seededDraw->rate)}};
        root["rows"].push_back(
            {{"method", row.method},
             {"policy", row.policy},
             {"loss", number(s.loss)},
             {"rate", number(s.rate)},
             {"cost", number(s.cost)},
             {"recovery", number(s.recovery)},
             {"agreement", number(s.agreement)},
             {"own_rate", row.ownRate},
             {"seeded_draw", seeded},
             {"ci", {{"loss", interval(row.lossCi)}, {"recovery", interval(row.recoveryCi)}}}});
    }
    const auto& split = state.advantageSplit();  // the summary's split line
    root["advantage_split"] = {{"advantage", number(split.advantage)},
                               {"adv_static", number(split.advStatic)},
                               {"adv_inner", number(split.advInner)},
                               {"inner_share", number(split.innerShare)}};
    root["scatter"] = state.figureData().scatterTarget;
    root["files"] = Json::array();  // the Files tab: core::perFileRows
    for (const auto& file : state.fileRows())
        root["files"].push_back({{"file", file.file},
                                 {"file_index", file.fileIndex},
                                 {"units", file.units},
                                 {"loss_skip", number(file.lossSkip)},
                                 {"loss_update", number(file.lossUpdate)},
                                 {"loss_ours", number(file.lossOurs)},
                                 {"loss_oracle", number(file.lossOracle)},
                                 {"rate_ours", number(file.oursRate)},
                                 {"rate_oracle", number(file.oracleRate)},
                                 {"recovery", number(file.recovery)}});
    root["plot_frames"] = Json::array();
    for (const auto& frame : frames)
        root["plot_frames"].push_back({{"plot", frame.plot},
                                       {"x0", frame.x0},
                                       {"y0", frame.y0},
                                       {"x1", frame.x1},
                                       {"y1", frame.y1},
                                       {"whole", frame.whole}});
    return root.dump(2) + "\n";
}

}  // namespace ponder::studio
