// calibration.json (design.md §3, §6): quantiles of every gating signal measured on held-out
// unlabeled code, so `recon-ema` in `profile` mode can start from τ0 = the (1-ρ) quantile for
// any target rate ρ instead of forcing 16 calibration UPDATEs. Torch-free.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/eval/evaluator.h"

namespace ponder::core {

struct Calibration {
    static constexpr const char* kFormat = "ponderttt-calibration/1";
    std::string backboneSha256;  // the backbone the signals were measured with
    std::string mode;            // "file" | "paper": the units the quantiles describe
    std::int64_t chunk = 512;
    std::int64_t units = 0;
    std::vector<std::string> inputs;
    std::string createdAt;
    std::vector<double> levels;  // 0, 0.01, ..., 1
    // signal name (recon_step0, recon_init, ...) -> value at each level
    std::map<std::string, std::vector<double>> quantiles;

    // The (1 - rate) quantile of `signal`, linear between stored levels: the threshold that
    // would let `rate` of the calibration units through. Throws InputError for a signal
    // that was not measured.
    double thresholdForRate(const std::string& signal, double rate) const;
};

// Quantiles at 101 levels of each signal over `records` (linear interpolation between order
// statistics, like numpy's default).
Calibration calibrationFromRecords(const std::vector<UnitRecord>& records);

// Signal values of a record by the names used in calibration.json and the CLI.
const std::vector<std::string>& calibrationSignalNames();
double signalValue(const UnitRecord& record, const std::string& name);

// The calibration.json text (contract), as saveCalibration writes it.
std::string calibrationJson(const Calibration& calibration);
void saveCalibration(const Calibration& calibration, const std::filesystem::path& path);
// Throws InputError naming the file and the field for a missing, malformed or foreign file.
Calibration loadCalibration(const std::filesystem::path& path);
// The same checks on calibration.json text already in memory; `label` names it in errors.
Calibration parseCalibration(std::string_view text, const std::string& label);

}  // namespace ponder::core
