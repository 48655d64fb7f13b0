// The learned gates' inference side: features, history, forward pass, files and replay.
#include "core/gating/gate.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>

#include <nlohmann/json.hpp>

#include "core/gating/policies.h"
#include "core/model/safetensors.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"
#include "core/util/json_integer.h"

namespace ponder::core {
namespace fs = std::filesystem;

namespace {
constexpr double kHistoryAlpha = 0.1;  // the published FeatureExtractor's ema_alpha
}  // namespace

const std::vector<std::string>& gateInputNames() {
    static const std::vector<std::string> names{
        // confidence (SKIP distribution, over predicted positions)
        "entropy_mean", "entropy_max", "neg_log_max_p_mean", "neg_log_max_p_max",
        // hidden-state statistics of the backbone output h
        "hidden_mean", "hidden_std", "hidden_small_fraction", "hidden_max", "hidden_min",
        "hidden_range",
        // attention: 0 in the published code; the slots are kept (declared)
        "attention_0", "attention_1", "attention_2", "attention_3",
        // code statistics
        "token_id_std", "adjacent_repeat_rate", "token_id_mean", "token_id_std_2",
        "top5_prob_std_mean", "max_p_mean", "top5_entropy_mean", "adjacent_id_diff_rms",
        // history (live)
        "difficulty_ema", "difficulty_deviation", "cost_ema", "budget_remaining",
        // sequence
        "length_over_512", "log1p_token_id_mean", "log1p_token_id_max", "position_mean",
        "position_std", "valid_fraction"};
    return names;
}

std::array<float, kGateInputs> gateInputFrom(const float* stored) {
    std::array<float, kGateInputs> input{};
    std::copy(stored, stored + kHistoryBegin, input.begin());
    std::copy(stored + kHistoryBegin, stored + kStoredGateFeatures,
              input.begin() + kHistoryBegin + kHistoryCount);
    return input;
}

void GateHistory::reset(std::int64_t sequenceChunks) {
    m_difficulty = m_variance = m_cost = 0;
    m_chunks = std::max<std::int64_t>(1, sequenceChunks);
    m_updates = 0;
}

void GateHistory::fill(float* input) const {
    const double budget = m_rate * double(m_chunks);
    const double remaining = budget > 0 ? 1.0 - double(m_updates) / budget : 0.0;
    input[kHistoryBegin + 0] = float(m_difficulty);
    input[kHistoryBegin + 1] = float(std::sqrt(m_variance));
    input[kHistoryBegin + 2] = float(m_cost);
    input[kHistoryBegin + 3] = float(std::clamp(remaining, -1.0, 1.0));
}

void GateHistory::observe(double ce, bool update) {
    const double deviation = ce - m_difficulty;
    m_difficulty += kHistoryAlpha * deviation;
    m_variance = (1 - kHistoryAlpha) * m_variance + kHistoryAlpha * deviation * deviation;
    m_cost = (1 - kHistoryAlpha) * m_cost + kHistoryAlpha * (update ? 3.0 : 1.0);
    m_updates += update ? 1 : 0;
}

namespace {

// y = W x + b for W [out, in] row-major.
void linear(const std::vector<float>& weight, const std::vector<float>& bias, const double* in,
            std::size_t inputs, double* out, std::size_t outputs) {
    for (std::size_t o = 0; o < outputs; ++o) {
        double sum = bias[o];
        const float* row = weight.data() + o * inputs;
        for (std::size_t i = 0; i < inputs; ++i)
            sum += double(row[i]) * in[i];
        out[o] = sum;
    }
}

}  // namespace

std::array<double, 2> GateModel::logits(const float* input) const {
    const auto& w = weights;
    double x[kGateInputs], mean = 0, variance = 0;
    for (std::size_t i = 0; i < kGateInputs; ++i)
        mean += input[i];
    mean /= double(kGateInputs);
    for (std::size_t i = 0; i < kGateInputs; ++i)
        variance += (input[i] - mean) * (input[i] - mean);
    variance /= double(kGateInputs);
    const double scale = 1.0 / std::sqrt(variance + kGateLayerNormEps);
    for (std::size_t i = 0; i < kGateInputs; ++i)
        x[i] = (input[i] - mean) * scale * w.normWeight[i] + w.normBias[i];
    double h1[kGateHidden], h2[kGateHidden];
    linear(w.fc1Weight, w.fc1Bias, x, kGateInputs, h1, kGateHidden);
    for (double& v : h1)
        v = std::max(0.0, v);
    linear(w.fc2Weight, w.fc2Bias, h1, kGateHidden, h2, kGateHidden);
    for (double& v : h2)
        v = std::max(0.0, v);
    std::array<double, 2> out{};
    linear(w.outWeight, w.outBias, h2, kGateHidden, out.data(), 2);
    return out;
}

double GateModel::updateProbability(const float* input) const {
    const auto l = logits(input);
    return 1.0 / (1.0 + std::exp(l[0] - l[1]));
}

bool GateModel::decide(const float* input) const {
    if (decision == "argmax") {
        const auto l = logits(input);
        return l[1] > l[0];
    }
    return updateProbability(input) > threshold;
}

namespace {

struct TensorSlot {
    const char* name;
    std::vector<std::int64_t> shape;
    std::vector<float> GateWeights::*member;
};

const std::vector<TensorSlot>& tensorSlots() {
    const std::int64_t in = kGateInputs, hidden = kGateHidden;
    static const std::vector<TensorSlot> slots{
        {"norm.weight", {in}, &GateWeights::normWeight},
        {"norm.bias", {in}, &GateWeights::normBias},
        {"fc1.weight", {hidden, in}, &GateWeights::fc1Weight},
        {"fc1.bias", {hidden}, &GateWeights::fc1Bias},
        {"fc2.weight", {hidden, hidden}, &GateWeights::fc2Weight},
        {"fc2.bias", {hidden}, &GateWeights::fc2Bias},
        {"out.weight", {2, hidden}, &GateWeights::outWeight},
        {"out.bias", {2}, &GateWeights::outBias}};
    return slots;
}

}  // namespace

GateModel loadGate(const fs::path& dir) {
    const auto jsonPath = dir / "gate.json", weightsPath = dir / "gate.safetensors";
    const std::string hint =
        "pass a folder written by `ponder train-gate` (gate.json + "
        "gate.safetensors), e.g. {--policy gate:assets/default-model/gate}";
    // error_code forms: a path from a stored run or a typo (too long, no permission) is bad
    // input, not a filesystem_error.
    std::error_code error;
    if (!fs::is_directory(dir, error))
        throw InputError("gate folder '" + dir.string() + "' does not exist", hint);
    if (!fs::exists(jsonPath, error) || !fs::exists(weightsPath, error))
        throw InputError("gate folder '" + dir.string() + "' lacks gate.json or gate.safetensors",
                         hint);
    GateModel gate;
    gate.dir = dir;
    try {
        const auto json = nlohmann::json::parse(readFileBytes(jsonPath));
        if (json.at("format").get<std::string>() != "ponderttt-gate/1")
            throw InputError("'" + jsonPath.string() + "' is not a ponderttt-gate/1 file", hint);
        if (json.at("features").get<std::vector<std::string>>() != gateInputNames())
            throw InputError("gate '" + dir.string() + "' reads " +
                                 std::to_string(json.at("features").size()) +
                                 " features of another layout than this ponder computes",
                             "retrain it with this version's `ponder train-gate`");
        gate.kind = json.at("kind").get<std::string>();
        gate.decision = json.at("decision").get<std::string>();
        gate.threshold = json.at("threshold").get<double>();
        gate.rate = json.at("rate").get<double>();
        gate.sequenceChunks = jsonInteger(json.at("sequence_chunks"));
        gate.tttSha256 = json.at("ttt_sha256").get<std::string>();
        gate.backboneSha256 = json.at("backbone_sha256").get<std::string>();
    } catch (const nlohmann::json::exception& error) {
        throw InputError("'" + jsonPath.string() + "' is damaged (" + error.what() + ")", hint);
    }
    if ((gate.decision != "argmax" && gate.decision != "threshold") ||
        !(gate.rate >= 0 && gate.rate <= 1) || gate.sequenceChunks < 1 ||
        !std::isfinite(gate.threshold))
        throw InputError("'" + jsonPath.string() +
                             "' has an invalid decision, rate, threshold "
                             "or sequence_chunks",
                         hint);
    try {
        const auto file = SafetensorsFile::open(weightsPath);
        for (const auto& slot : tensorSlots()) {
            const auto* info = file.find(slot.name);
            if (!info || info->dtype != DType::F32 || info->shape != slot.shape)
                throw InputError("'" + weightsPath.string() + "' has no F32 tensor '" + slot.name +
                                     "' of the gate's shape",
                                 hint);
            auto& values = gate.weights.*slot.member;
            values.resize(std::size_t(info->numel()));
            std::memcpy(values.data(), file.data(*info), values.size() * sizeof(float));
            for (float v : values)
                if (!std::isfinite(v))
                    throw InputError("'" + weightsPath.string() +
                                         "' holds a non-finite value in '" + slot.name + "'",
                                     hint);
        }
    } catch (const WeightsFormatError& error) {
        throw InputError(std::string(error.what()), hint);
    }
    return gate;
}

std::shared_ptr<const GateModel> cachedGate(const fs::path& dir) {
    static std::mutex mutex;
    static std::map<std::string, std::pair<fs::file_time_type, std::shared_ptr<const GateModel>>>
        cache;
    std::error_code error;
    const auto key = fs::weakly_canonical(dir, error).string();
    const auto stamp = fs::last_write_time(dir / "gate.safetensors", error);
    std::lock_guard<std::mutex> lock(mutex);
    const auto found = cache.find(key);
    if (!error && found != cache.end() && found->second.first == stamp) return found->second.second;
    auto gate = std::make_shared<const GateModel>(loadGate(dir));
    if (!error) cache[key] = {stamp, gate};
    return gate;
}

void writeGateFiles(const fs::path& dir, const GateWeights& weights, const std::string& json) {
    std::vector<TensorToWrite> tensors;
    for (const auto& slot : tensorSlots()) {
        const auto& values = weights.*slot.member;
        tensors.push_back({slot.name, DType::F32, slot.shape,
                           std::string_view(reinterpret_cast<const char*>(values.data()),
                                            values.size() * sizeof(float))});
    }
    writeSafetensors(dir / "gate.safetensors", tensors);
    writeFileAtomic(dir / "gate.json", json);
}

void checkGateFits(const GateModel& gate, const std::string& tttSha256, bool force,
                   const std::string& whose) {
    if (force || tttSha256 == gate.tttSha256) return;
    throw InputError("gate '" + gate.dir.string() + "' was trained on another TTT layer (" +
                         gate.tttSha256.substr(0, 12) + ", " + whose + " is " +
                         (tttSha256.empty() ? "unknown" : tttSha256.substr(0, 12)) + ")",
                     "train a gate for this model with `ponder train-gate`, or pass "
                     "{--force-gate} to use it anyway");
}

std::vector<std::int64_t> gateSequenceStarts(const std::vector<std::int64_t>& fileIndex,
                                             const std::vector<std::int64_t>& block,
                                             const std::vector<std::int64_t>& chunkIndex,
                                             std::int64_t sequenceChunks) {
    const std::size_t n = fileIndex.size();
    const auto key = [&](std::size_t u) {
        return fileIndex[u] >= 0 ? chunkIndex[u] / std::max<std::int64_t>(1, sequenceChunks) : 0;
    };
    const auto same = [&](std::size_t a, std::size_t b) {
        return fileIndex[a] == fileIndex[b] && block[a] == block[b] && key(a) == key(b);
    };
    std::vector<std::int64_t> starts(n, 0);
    for (std::size_t u = 0; u < n;) {
        std::size_t end = u + 1;
        while (end < n && same(u, end))
            ++end;
        starts[u] = std::int64_t(end - u);
        u = end;
    }
    return starts;
}

namespace {

const char* const kRerunHint = "evaluate the files again with this ponder's `ponder eval`";

// Unit u's stored features as a gate input with `history` filled in; InputError when the run
// did not compute them (NaN).
std::array<float, kGateInputs> gateInput(const float* stored, std::size_t u,
                                         const GateHistory& history) {
    if (std::isnan(stored[0]))
        throw InputError("unit " + std::to_string(u) + " of this run has no gate features",
                         kRerunHint);
    auto input = gateInputFrom(stored);
    history.fill(input.data());
    return input;
}

}  // namespace

GateSession::GateSession(const GateModel& gate, std::vector<std::int64_t> sequenceStarts)
    : m_gate(&gate), m_sequenceStarts(std::move(sequenceStarts)), m_history(gate.rate) {}

bool GateSession::decide(const float* stored) {
    const std::size_t u = m_next;
    if (u >= m_sequenceStarts.size())
        throw InputError("the gate was asked for more units than its run has", kRerunHint);
    if (m_sequenceStarts[u] > 0) m_history.reset(m_sequenceStarts[u]);
    const auto input = gateInput(stored, u, m_history);
    m_lastUpdate = m_gate->decide(input.data());
    m_lastProbability = m_gate->updateProbability(input.data());
    ++m_next;
    return m_lastUpdate;
}

void GateSession::observe(double ce) {
    m_history.observe(ce, m_lastUpdate);
}

double percentile(std::vector<double> values, double percent) {
    std::sort(values.begin(), values.end());
    const double position = percent / 100.0 * double(values.size() - 1);
    const auto low = std::size_t(std::floor(position));
    const auto high = std::min(low + 1, values.size() - 1);
    return values[low] + (position - double(low)) * (values[high] - values[low]);
}

namespace {

// --lookahead: each batch of kLookaheadBatch consecutive sequences decided position by position,
// each sequence with its own history (its decision at position c feeds its input at c + 1).
void runGateLookahead(const GateModel& gate, const UnitTable& table,
                      const std::vector<std::int64_t>& starts, double rate, PolicyRun& run) {
    std::vector<std::pair<std::size_t, std::size_t>> sequences;  // first unit, length
    for (std::size_t u = 0; u < starts.size(); ++u)
        if (starts[u] > 0) sequences.emplace_back(u, std::size_t(starts[u]));
    for (std::size_t first = 0; first < sequences.size(); first += kLookaheadBatch) {
        const std::size_t count = std::min(kLookaheadBatch, sequences.size() - first);
        std::vector<GateHistory> histories(count, GateHistory(gate.rate));
        std::size_t longest = 0;
        for (std::size_t s = 0; s < count; ++s) {
            histories[s].reset(std::int64_t(sequences[first + s].second));
            longest = std::max(longest, sequences[first + s].second);
        }
        for (std::size_t position = 0; position < longest; ++position) {
            std::vector<std::size_t> units, rows;
            std::vector<double> q;
            for (std::size_t s = 0; s < count; ++s) {
                const auto [start, length] = sequences[first + s];
                if (position >= length) continue;
                const std::size_t u = start + position;
                const auto input =
                    gateInput(table.gateFeatures.data() + u * kStoredGateFeatures, u, histories[s]);
                units.push_back(u);
                rows.push_back(s);
                q.push_back(gate.updateProbability(input.data()));
            }
            const double threshold = percentile(q, 100.0 * (1.0 - rate));
            for (std::size_t k = 0; k < units.size(); ++k) {
                const std::size_t u = units[k];
                const bool update = q[k] > threshold;
                run.decisions[u] = update ? 1 : 0;
                run.threshold[u] = threshold;
                run.score[u] = q[k];
                histories[rows[k]].observe(update ? table.lossUpdate[u] : table.lossSkip[u],
                                           update);
            }
        }
    }
}

}  // namespace

void runGate(const GateModel& gate, const UnitTable& table, bool force, PolicyRun& run,
             bool lookahead, double rate) {
    const std::size_t n = table.size();
    if (table.gateFeatures.size() != n * kStoredGateFeatures || table.fileIndex.size() != n ||
        table.chunkIndex.size() != n)
        throw InputError("this run has no gate features (stored before ponder computed them)",
                         "evaluate the files again with this ponder's `ponder eval`");
    checkGateFits(gate, table.tttSha256, force, "the run's");
    run.decisions.assign(n, 0);
    run.threshold.assign(n, gate.decision == "argmax" ? 0.5 : gate.threshold);
    run.rateEma.assign(n, kNaN);
    run.score.assign(n, kNaN);
    auto starts =
        gateSequenceStarts(table.fileIndex, table.block, table.chunkIndex, gate.sequenceChunks);
    if (lookahead) return runGateLookahead(gate, table, starts, rate, run);
    GateSession session(gate, std::move(starts));
    for (std::size_t u = 0; u < n; ++u) {
        const bool update = session.decide(table.gateFeatures.data() + u * kStoredGateFeatures);
        run.decisions[u] = update ? 1 : 0;
        run.score[u] = session.lastProbability();
        // What an online run observes: the CE of the path it took.
        session.observe(update ? table.lossUpdate[u] : table.lossSkip[u]);
    }
}

}  // namespace ponder::core
