// Measuring, writing and reading calibration.json.
#include "core/gating/calibration.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "core/gating/policies.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"
#include "core/util/json_integer.h"

namespace ponder::core {
using json = nlohmann::ordered_json;

namespace {

constexpr int kLevels = 101;

double quantileSorted(const std::vector<double>& sorted, double level) {
    if (sorted.empty()) return std::nan("");
    const double position = level * double(sorted.size() - 1);
    const auto below = static_cast<std::size_t>(std::floor(position));
    const auto above = std::min(below + 1, sorted.size() - 1);
    return sorted[below] + (position - double(below)) * (sorted[above] - sorted[below]);
}

[[noreturn]] void badFile(const std::string& label, const std::string& what) {
    throw InputError("calibration file '" + label + "': " + what,
                     "re-create it with `ponder calibrate --model DIR CORPUS`");
}

}  // namespace

const std::vector<std::string>& calibrationSignalNames() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> all;
        for (const auto signal : allSignals())
            all.push_back(signalName(signal));
        return all;
    }();
    return names;
}

double signalValue(const UnitRecord& record, const std::string& name) {
    switch (parseSignal(name)) {  // InputError listing the names for an unknown one
        case Signal::ReconStep0:
            return record.reconStep0;
        case Signal::ReconInit:
            return record.reconInit;
        case Signal::ReconStep1:
            return record.reconStep1;
        case Signal::Improvement:
            return record.improvement;
        case Signal::Entropy:
            return record.entropy;
        case Signal::Confidence:
            return record.confidence;
        case Signal::LossSkip:
            return record.lossSkip;
        case Signal::EntropyUpdate:
            return record.entropyUpdate;
        case Signal::ConfidenceUpdate:
            return record.confidenceUpdate;
    }
    return record.reconStep0;
}

double Calibration::thresholdForRate(const std::string& signal, double rate) const {
    const auto found = quantiles.find(signal);
    if (found == quantiles.end() || found->second.size() != levels.size() || levels.size() < 2)
        throw InputError("calibration.json has no quantiles for signal '" + signal + "'",
                         "re-create it with `ponder calibrate`, or use {--calibration paper}");
    const double level = std::clamp(1.0 - rate, 0.0, 1.0);
    const auto& values = found->second;
    const auto upper = std::lower_bound(levels.begin(), levels.end(), level);
    if (upper == levels.begin()) return values.front();
    if (upper == levels.end()) return values.back();
    const auto i = std::size_t(upper - levels.begin());
    const double span = levels[i] - levels[i - 1];
    const double weight = span > 0 ? (level - levels[i - 1]) / span : 0.0;
    return values[i - 1] + weight * (values[i] - values[i - 1]);
}

Calibration calibrationFromRecords(const std::vector<UnitRecord>& records) {
    if (records.empty())
        throw InputError("no evaluation units to calibrate on",
                         "give held-out code with at least one chunk of tokens");
    Calibration calibration;
    calibration.units = std::int64_t(records.size());
    for (int i = 0; i < kLevels; ++i)
        calibration.levels.push_back(double(i) / (kLevels - 1));
    for (const auto& name : calibrationSignalNames()) {
        std::vector<double> values;
        for (const auto& record : records) {
            const double value = signalValue(record, name);
            if (std::isfinite(value)) values.push_back(value);
        }
        std::sort(values.begin(), values.end());
        auto& column = calibration.quantiles[name];
        for (double level : calibration.levels)
            column.push_back(quantileSorted(values, level));
    }
    return calibration;
}

std::string calibrationJson(const Calibration& calibration) {
    json root = {{"format", Calibration::kFormat},
                 {"backbone_sha256", calibration.backboneSha256},
                 {"mode", calibration.mode},
                 {"chunk", calibration.chunk},
                 {"units", calibration.units},
                 {"inputs", calibration.inputs},
                 {"created_at", calibration.createdAt},
                 {"levels", calibration.levels}};
    json quantiles = json::object();
    for (const auto& name : calibrationSignalNames()) {
        const auto found = calibration.quantiles.find(name);
        if (found == calibration.quantiles.end()) continue;
        json column = json::array();
        for (double value : found->second)
            column.push_back(std::isfinite(value) ? json(value) : json(nullptr));
        quantiles[name] = column;
    }
    root["quantiles"] = quantiles;
    // Input paths need not be UTF-8; dump() would throw json::type_error on them.
    return root.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

void saveCalibration(const Calibration& calibration, const std::filesystem::path& path) {
    writeFileAtomic(path, calibrationJson(calibration));
}

Calibration loadCalibration(const std::filesystem::path& path) {
    return parseCalibration(readFileBytes(path), path.string());
}

Calibration parseCalibration(std::string_view text, const std::string& label) {
    json root;
    try {
        root = json::parse(text);
    } catch (const json::exception& error) {
        badFile(label, std::string("not valid JSON (") + error.what() + ")");
    }
    const auto format = root.is_object() ? root.find("format") : root.end();
    if (format == root.end() || *format != Calibration::kFormat)
        badFile(label, std::string("\"format\" is not \"") + Calibration::kFormat + "\"");
    Calibration calibration;
    try {
        calibration.backboneSha256 = root.at("backbone_sha256").get<std::string>();
        calibration.mode = root.at("mode").get<std::string>();
        calibration.chunk = jsonInteger(root.at("chunk"));
        calibration.units = jsonInteger(root.at("units"));
        calibration.inputs = root.value("inputs", std::vector<std::string>{});
        calibration.createdAt = root.value("created_at", "");
        calibration.levels = root.at("levels").get<std::vector<double>>();
        for (const auto& [name, column] : root.at("quantiles").items()) {
            std::vector<double> values;
            for (const auto& value : column)
                values.push_back(value.is_null() ? std::nan("") : value.get<double>());
            if (values.size() != calibration.levels.size())
                badFile(label, "quantiles of '" + name + "' do not match \"levels\"");
            calibration.quantiles[name] = std::move(values);
        }
    } catch (const json::exception& error) {
        badFile(label, std::string("missing or mistyped field (") + error.what() + ")");
    }
    if (!std::is_sorted(calibration.levels.begin(), calibration.levels.end()) ||
        calibration.levels.size() < 2 || calibration.levels.front() < 0 ||
        calibration.levels.back() > 1)
        badFile(label, "\"levels\" must rise from 0 to 1");
    return calibration;
}

}  // namespace ponder::core
