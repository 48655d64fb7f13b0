// `train-gate`: the earlier releases' learned gates (gates.md §2 Gumbel-Softmax, §3 RankNet and
// ListNet) on a frozen backbone and TTT layer. With both frozen, everything a gate's loss needs
// from the model is fixed per unit, so the corpus is evaluated once and the gate trains on
// those records: CE_skip, CE_update, recon_step1 (L_TTT), the 28 stored features and the
// slopes of the blended CE at p = 0 and 1 (the straight-through forward is exactly 0 or 1, so
// CE(z) and its gradient are those of one path: the published loss exactly, not a surrogate).
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/eval/evaluator.h"
#include "core/gating/gate.h"
#include "core/train/train_checkpoint_impl.h"
#include "core/train/train_common_impl.h"
#include "core/train/train_gate_impl.h"
#include "core/train/training.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"
#include "core/util/json_integer.h"
#include "core/util/sha256.h"

namespace ponder::core {
namespace fs = std::filesystem;
using nlohmann::json;

StraightThrough straightThrough(const torch::Tensor& logits, const torch::Tensor& gumbel,
                                double temperature) {
    const auto y = torch::softmax((logits + gumbel) / temperature, -1).select(1, 1);
    StraightThrough out;
    out.hard = (y.detach() > 0.5).to(y.scalar_type());  // argmax of two
    out.p = (out.hard - y.detach()) + y;
    return out;
}

torch::Tensor blendedCe(const StraightThrough& decision, const torch::Tensor& ceSkip,
                        const torch::Tensor& ceUpdate, const torch::Tensor& slopeSkip,
                        const torch::Tensor& slopeUpdate, const torch::Tensor& weight) {
    const auto& hard = decision.hard;
    const auto ceTaken = hard * ceUpdate + (1 - hard) * ceSkip;
    const auto slopeTaken = hard * slopeUpdate + (1 - hard) * slopeSkip;
    // Value: the taken path's CE (p - sg(p) is 0); gradient: the slope at the taken end.
    return (weight * (ceTaken + (decision.p - decision.p.detach()) * slopeTaken)).sum();
}

torch::Tensor rankNetLoss(const torch::Tensor& score, const torch::Tensor& advantage) {
    // pairs[i][j] = a_i - a_j > 0.1; the pair wants s_i above s_j.
    const auto pairs =
        ((advantage.unsqueeze(1) - advantage.unsqueeze(0)) > 0.1).to(score.scalar_type());
    const auto pairLoss = torch::softplus(score.unsqueeze(0) - score.unsqueeze(1));
    return (pairs * pairLoss).sum() / pairs.sum().clamp_min(1.0);
}

torch::Tensor listNetLoss(const torch::Tensor& score, const torch::Tensor& advantage,
                          double temperature, double rate) {
    const auto target = torch::softmax(advantage / temperature, 0);
    const auto predicted = torch::softmax(score / temperature, 0);
    return -(target * torch::log(predicted + 1e-7)).sum() +
           (torch::sigmoid(score).mean() - rate).pow(2);
}

namespace {

constexpr double kAnnealSteps = 5000, kMinTemperature = 0.1;  // τ(i) = 0.1^(i/5000), then 0.1
constexpr double kThresholdDecay = 0.99;                      // system C's inference threshold

// What training reads of one unit.
struct GateUnit {
    std::int64_t fileIndex = 0, chunkIndex = 0, tokens = 0;
    double lossSkip = 0, lossUpdate = 0, reconStep1 = 0, slopeSkip = 0, slopeUpdate = 0;
    std::vector<float> features;  // kStoredGateFeatures
};

json unitJson(const GateUnit& u) {
    return {
        {"file", u.fileIndex},       {"chunk", u.chunkIndex},         {"tokens", u.tokens},
        {"loss_skip", u.lossSkip},   {"loss_update", u.lossUpdate},   {"recon_step1", u.reconStep1},
        {"slope_skip", u.slopeSkip}, {"slope_update", u.slopeUpdate}, {"features", u.features}};
}

GateUnit unitFromJson(const json& j) {
    GateUnit u;
    u.fileIndex = jsonInteger(j.at("file"));
    u.chunkIndex = jsonInteger(j.at("chunk"));
    u.tokens = jsonInteger(j.at("tokens"));
    u.lossSkip = j.at("loss_skip").get<double>();
    u.lossUpdate = j.at("loss_update").get<double>();
    u.reconStep1 = j.at("recon_step1").get<double>();
    u.slopeSkip = j.at("slope_skip").get<double>();
    u.slopeUpdate = j.at("slope_update").get<double>();
    u.features = j.at("features").get<std::vector<float>>();
    if (u.features.size() != kStoredGateFeatures)
        throw std::invalid_argument("a unit has " + std::to_string(u.features.size()) +
                                    " features");
    return u;
}

void checkOptions(const GateTrainOptions& o) {
    const auto bad = [](const std::string& what) {
        throw InputError("train-gate: " + what, "see `ponder train-gate --help`");
    };
    if (o.kind != "gumbel" && o.kind != "ranknet" && o.kind != "listnet")
        bad("kind must be gumbel, ranknet or listnet");
    if (o.cost != "abs" && o.cost != "hinge") bad("cost must be abs or hinge");
    if (!(o.rate > 0 && o.rate < 1)) bad("rate must be within (0, 1)");
    if (o.steps < 1 || o.batch < 2 || o.sequenceChunks < 1 || o.warmup < 0)
        bad("steps and sequence chunks must be positive, batch at least 2, warmup >= 0");
    if (!(o.lr > 0) || !(o.gradClip > 0) || o.beta < 0 || o.gamma < 0 ||
        !(o.listnetTemperature > 0))
        bad("lr, clip and the ListNet temperature must be positive, beta and gamma >= 0");
    if (o.checkpointEvery < 1) bad("checkpoint-every must be positive");
    if ((o.freshTtt || o.advantageGradient) && !o.trainTtt)
        bad("{--fresh-ttt} and {--advantage-gradient} go with {--train-ttt}");
    if (o.advantageGradient && o.kind == "gumbel")
        bad("{--advantage-gradient} is for the ranking kinds (gumbel has no advantage term)");
    if (o.trainTtt && isLoraCheckpoint(o.modelDir))
        throw InputError(
            "train-gate {--train-ttt} trains a TTT-Linear layer with the gate; this "
            "model's fast weights are LoRA (algorithm.md §2.7)",
            "drop {--train-ttt}, or use a TTT-Linear model");
    std::error_code error;
    if (o.trainTtt && fs::equivalent(o.outDir, o.modelDir, error))
        throw InputError("train-gate {--train-ttt} would overwrite the model's own TTT layer",
                         "pass another {--out} folder: it becomes a model directory");
}

// Phase 1: every unit of the corpus once (file mode), cached in OUT/gate-units.json under an
// identity; a cancelled or killed run resumes after the last cached unit.
EvalPlan trainingUnits(const GateTrainOptions& options, const Evaluator& evaluator) {
    auto plan = buildEvalPlan(evaluator.tokenizer(), options.corpus.inputs,
                              evaluator.planOptions(EvalMode::File, options.chunk),
                              options.corpus.extensions);
    if (options.maxUnits > 0 && plan.units.size() > std::size_t(options.maxUnits))
        plan.units.resize(std::size_t(options.maxUnits));
    return plan;
}

std::vector<GateUnit> prepareUnits(const GateTrainOptions& options, Evaluator& evaluator,
                                   const EvalPlan& plan, const json& identity,
                                   const TrainCallbacks& callbacks, bool& cancelled) {
    const auto cachePath = options.outDir / "gate-units.json";
    std::vector<GateUnit> units;
    if (fs::exists(cachePath)) {
        try {
            const auto cached = json::parse(readFileBytes(cachePath));
            if (cached.at("identity") == identity)
                for (const auto& u : cached.at("units"))
                    units.push_back(unitFromJson(u));
        } catch (const std::exception&) {
            units.clear();  // a damaged cache is rebuilt, never trusted
        }
        if (units.size() > plan.units.size()) units.clear();
    }
    const auto save = [&] {
        json out = {{"identity", identity}, {"units", json::array()}};
        for (const auto& u : units)
            out["units"].push_back(unitJson(u));
        writeFileAtomic(cachePath, out.dump() + "\n");
    };
    const auto start = std::chrono::steady_clock::now();
    const std::size_t resumedAt = units.size();
    for (std::size_t i = units.size(); i < plan.units.size(); ++i) {
        if (callbacks.cancel && callbacks.cancel->load()) {
            save();
            cancelled = true;
            return units;
        }
        const auto record = evaluator.evaluateUnit(plan, plan.units[i]);
        GateUnit u;
        u.fileIndex = record.fileIndex;
        u.chunkIndex = record.chunkIndex;
        u.tokens = record.tokens;
        u.lossSkip = record.lossSkip;
        u.lossUpdate = record.lossUpdate;
        u.reconStep1 = record.reconStep1;
        u.slopeSkip = record.blendSlopeSkip;
        u.slopeUpdate = record.blendSlopeUpdate;
        u.features = record.gateFeatures;
        units.push_back(std::move(u));
        if (units.size() % 64 == 0) save();
        if (callbacks.onPrepare) {
            const double elapsed =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            const double done = double(units.size() - resumedAt);
            callbacks.onPrepare(units.size(), plan.units.size(),
                                elapsed / done * double(plan.units.size() - units.size()));
        }
    }
    save();
    return units;
}

// Sequences: runs of up to sequenceChunks consecutive chunks of one file (gate.h's history).
std::vector<std::vector<std::size_t>> sequencesOf(const std::vector<GateUnit>& units,
                                                  std::int64_t chunks) {
    std::vector<std::vector<std::size_t>> sequences;
    for (std::size_t i = 0; i < units.size(); ++i) {
        const bool starts = i == 0 || units[i].fileIndex != units[i - 1].fileIndex ||
                            units[i].chunkIndex / chunks != units[i - 1].chunkIndex / chunks;
        if (starts) sequences.emplace_back();
        sequences.back().push_back(i);
    }
    return sequences;
}

// LayerNorm(32, eps 1e-6) -> 64 -> ReLU -> 64 -> ReLU -> 2, LeCun-normal weights (Flax's
// default: truncated normal, variance 1/fan_in), zero biases. The inference threshold of
// system C travels with the weights as a buffer [value, initialised].
struct GateNetImpl : torch::nn::Module {
    torch::nn::LayerNorm norm{nullptr};
    torch::nn::Linear fc1{nullptr}, fc2{nullptr}, out{nullptr};
    torch::Tensor threshold;

    explicit GateNetImpl(std::uint64_t seed) {
        norm = register_module(
            "norm",
            torch::nn::LayerNorm(
                torch::nn::LayerNormOptions({std::int64_t(kGateInputs)}).eps(kGateLayerNormEps)));
        fc1 = register_module("fc1", torch::nn::Linear(kGateInputs, kGateHidden));
        fc2 = register_module("fc2", torch::nn::Linear(kGateHidden, kGateHidden));
        out = register_module("out", torch::nn::Linear(kGateHidden, 2));
        threshold = register_buffer("threshold", torch::tensor({0.5, 0.0}, torch::kFloat64));
        torch::NoGradGuard noGrad;
        auto generator = std::mt19937_64(seed);
        for (auto* layer : {&fc1, &fc2, &out}) {
            auto& weight = (*layer)->weight;
            const double deviation = 1.0 / std::sqrt(double(weight.size(1))) / 0.87962566103423978;
            std::normal_distribution<double> normal;
            auto* data = weight.data_ptr<float>();
            for (std::int64_t k = 0; k < weight.numel(); ++k) {
                double x;
                do
                    x = normal(generator);
                while (std::abs(x) > 2.0);
                data[k] = float(x * deviation);
            }
            (*layer)->bias.zero_();
        }
    }
    torch::Tensor forward(const torch::Tensor& x) {
        return out(torch::relu(fc2(torch::relu(fc1(norm(x))))));
    }
};
TORCH_MODULE(GateNet);

GateWeights weightsOf(GateNetImpl& net) {
    const auto values = [](const torch::Tensor& t) {
        const auto c = t.detach().to(torch::kFloat32).contiguous();
        return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    };
    return {values(net.norm->weight), values(net.norm->bias),  values(net.fc1->weight),
            values(net.fc1->bias),    values(net.fc2->weight), values(net.fc2->bias),
            values(net.out->weight),  values(net.out->bias)};
}

std::vector<std::string> declaredFixes(const GateTrainOptions& options) {
    const std::string padding =
        "ponder never pads, so CE is over real next tokens only (the "
        "published training left the pad logit unmasked)";
    std::vector<std::string> fixes{
        "history and budget features computed live from the gate's own decisions in training "
        "(the published jit baked their first values in)",
        "attention features kept as four zero slots (the published code always fed 0)",
        options.trainTtt
            ? "TTT layer trained jointly with the gate (published), the backbone frozen without "
              "dropout, so the features and SKIP CE are those of inference; " +
                  padding
            : "TTT layer frozen from an existing checkpoint (published: trained jointly from a "
              "fresh layer); " +
                  padding};
    if (options.kind != "gumbel") {
        fixes.push_back(
            "inference threshold: causal EMA (0.99) of each step's percentile of q "
            "(the published per-sequence percentile looks ahead)");
        if (!options.trainTtt)
            fixes.push_back(
                "ranking gradient cannot reach the TTT layer (frozen, so the "
                "published undetached advantage makes no difference)");
        else if (!options.advantageGradient)
            fixes.push_back(
                "ranking gradient cannot reach the TTT layer: the advantage is "
                "detached (published: not detached; --advantage-gradient)");
    }
    return fixes;
}

// What a joint training's checkpoint holds: the gate and the TTT layer under one module, so one
// optimizer state and one atomic checkpoint cover both.
struct JointModulesImpl : torch::nn::Module {
    JointModulesImpl(GateNet gate, TttModel ttt) {
        register_module("gate", gate);
        register_module("ttt", ttt);
    }
};
TORCH_MODULE(JointModules);

// One chunk position's rows of the drawn sequences as tensors: the gate's inputs and the
// cached losses (token-weighted).
struct GateRows {
    std::vector<std::size_t> rows, unitOf;  // batch rows with a unit here, and those units
    torch::Tensor input, ceSkip, ceUpdate, slopeSkip, slopeUpdate, recon, weight;
};

// A step's loss, the CE of the decisions taken, and the decisions (1 = UPDATE).
struct GateLoss {
    torch::Tensor loss, ce, hard;
    double reported = 0;  // what the curve shows (ranking kinds: the ranking loss)
};

// Phase 2 (gates.md §2-3): the gate (with --train-ttt also the TTT layer) learns one chunk
// position at a time on sequences drawn per batch, the history features live.
class GateTrainer {
public:
    GateTrainer(const GateTrainOptions& options, const Evaluator& evaluator, const EvalPlan& plan,
                std::vector<GateUnit> units, const json& dataIdentity)
        : m_options(options),
          m_evaluator(evaluator),
          m_units(std::move(units)),
          m_sequences(sequencesOf(m_units, options.sequenceChunks)),
          m_net(options.seed) {
        if (m_sequences.size() < 2)
            throw InputError("train-gate: the corpus gives " + std::to_string(m_units.size()) +
                                 " units, too few to train a gate",
                             "add files (each file gives one unit per " +
                                 std::to_string(options.chunk) + " tokens)");
        m_trained = m_net.get();
        if (options.trainTtt) {  // one Adam over the gate and the TTT layer (gates.md §2)
            m_joint.emplace(options, plan, evaluator.backboneSha256());
            m_jointModules = JointModules(m_net, m_joint->ttt());
            m_trained = m_jointModules.get();
        }
        m_optimizer = std::make_unique<torch::optim::Adam>(m_trained->parameters(),
                                                           torch::optim::AdamOptions(options.lr));
        m_identity = identityOf(dataIdentity);
    }

    std::int64_t trainTokens() const {
        std::int64_t tokens = 0;
        for (const auto& u : m_units)
            tokens += u.tokens;
        return tokens;
    }
    std::optional<std::int64_t> resume() {
        const auto state =
            loadTrainCheckpoint(m_options.outDir, "gate", m_identity, *m_trained, *m_optimizer);
        return state ? std::optional<std::int64_t>(state->step) : std::nullopt;
    }
    void save(std::int64_t steps) {
        saveTrainCheckpoint(m_options.outDir, {"gate", steps, m_identity}, *m_trained,
                            *m_optimizer);
        writeGate(steps);
    }

    StepReport step(std::int64_t step) {
        const std::int64_t position = step % m_options.sequenceChunks;
        if (position == 0) drawBatch(step / m_options.sequenceChunks);
        auto rows = rowsAt(position);
        StepReport report;
        report.progress.lr = m_options.lr;
        const auto n = rows.rows.size();
        std::vector<std::uint8_t> decisions(n, 0);
        std::vector<double> takenCe(n, std::numeric_limits<double>::quiet_NaN());
        if (n >= 2) {
            torch::manual_seed(stepSeed(m_options.seed ^ 0x6761746575ull, step));  // Gumbel noise
            const auto logits = m_net->forward(rows.input).to(torch::kFloat64);
            const auto loss = m_options.kind == "gumbel" ? gumbelLoss(rows, logits, step)
                                                         : rankingLoss(rows, logits, step);
            report.progress.gradNorm = optimise(loss.loss);
            report.progress.loss = loss.reported;
            report.progress.ce = loss.ce.item<double>();
            report.progress.updateRate = loss.hard.mean().item<double>();
            for (std::size_t r = 0; r < n; ++r) {
                decisions[r] = loss.hard[std::int64_t(r)].item<double>() > 0.5;
                takenCe[r] =
                    (decisions[r] ? rows.ceUpdate : rows.ceSkip)[std::int64_t(r)].item<double>();
            }
        }
        // History: the CE of the path taken (the live one when the layer learns), the cost of
        // the decision.
        for (std::size_t r = 0; r < n; ++r) {
            const auto& u = m_units[rows.unitOf[r]];
            const double taken =
                std::isnan(takenCe[r]) ? (decisions[r] ? u.lossUpdate : u.lossSkip) : takenCe[r];
            m_histories[rows.rows[r]].observe(taken, decisions[r]);
            report.tokens += u.tokens;
        }
        return report;
    }

private:
    // What a resumed run must share with the checkpoint: the data, the loss and its draws.
    // Not `steps`: a finished training can be continued to more.
    json identityOf(const json& dataIdentity) const {
        const auto& o = m_options;
        json identity = dataIdentity;
        identity.update({{"kind", o.kind},
                         {"rate", o.rate},
                         {"cost", o.cost},
                         {"batch", o.batch},
                         {"sequence_chunks", o.sequenceChunks},
                         {"warmup", o.warmup},
                         {"lr", o.lr},
                         {"clip", o.gradClip},
                         {"beta", o.beta},
                         {"gamma", o.gamma},
                         {"listnet_temperature", o.listnetTemperature},
                         {"seed", o.seed},
                         {"units", m_units.size()}});
        // Only when set, so checkpoints of frozen-layer trainings written before still resume.
        if (o.trainTtt)
            identity.update({{"train_ttt", true},
                             {"fresh_ttt", o.freshTtt},
                             {"advantage_gradient", o.advantageGradient}});
        return identity;
    }

    // The batch's sequences, drawn from (seed, batch) so a resumed run draws the same.
    void drawBatch(std::int64_t batch) {
        std::mt19937_64 generator(stepSeed(m_options.seed, batch));
        std::uniform_int_distribution<std::size_t> pick(0, m_sequences.size() - 1);
        m_drawn.assign(std::size_t(m_options.batch), 0);
        m_histories.assign(std::size_t(m_options.batch), GateHistory(m_options.rate));
        for (std::size_t b = 0; b < m_drawn.size(); ++b) {
            m_drawn[b] = pick(generator);
            m_histories[b].reset(std::int64_t(m_sequences[m_drawn[b]].size()));
        }
    }

    // The units at this chunk position (shorter sequences have none), as tensors.
    GateRows rowsAt(std::int64_t position) {
        GateRows out;
        for (std::size_t b = 0; b < m_drawn.size(); ++b)
            if (position < std::int64_t(m_sequences[m_drawn[b]].size())) {
                out.rows.push_back(b);
                out.unitOf.push_back(m_sequences[m_drawn[b]][std::size_t(position)]);
            }
        const auto n = std::int64_t(out.rows.size());
        out.input = torch::zeros({n, std::int64_t(kGateInputs)});
        out.ceSkip = torch::zeros({n}, torch::kFloat64);
        for (auto* t : {&out.ceUpdate, &out.slopeSkip, &out.slopeUpdate, &out.recon, &out.weight})
            *t = out.ceSkip.clone();
        for (std::int64_t r = 0; r < n; ++r) {
            const auto& u = m_units[out.unitOf[std::size_t(r)]];
            auto features = gateInputFrom(u.features.data());
            m_histories[out.rows[std::size_t(r)]].fill(features.data());
            std::copy(features.begin(), features.end(), out.input[r].data_ptr<float>());
            out.ceSkip[r] = u.lossSkip;
            out.ceUpdate[r] = u.lossUpdate;
            out.slopeSkip[r] = u.slopeSkip;
            out.slopeUpdate[r] = u.slopeUpdate;
            out.recon[r] = u.reconStep1;
            out.weight[r] = double(u.tokens - 1);  // token-weighted CE, as the batch's mean
        }
        if (n > 0) out.weight = out.weight / out.weight.sum();
        return out;
    }

    // --train-ttt: the UPDATE side from the learning layer, in its graph; the blended CE.
    torch::Tensor liveUpdate(GateRows& rows, const torch::Tensor& p) {
        auto live = m_joint->forward(rows.unitOf, p);
        rows.ceSkip = live.ceSkip;
        rows.ceUpdate = live.ceUpdate;
        rows.recon = live.reconStep1;
        return live.ceBlend;
    }

    // gates.md §2: straight-through Gumbel-Softmax, d = onehot(argmax y) - sg(y) + y.
    GateLoss gumbelLoss(GateRows& rows, const torch::Tensor& logits, std::int64_t step) {
        const double temperature =
            std::pow(kMinTemperature, std::min(double(step), kAnnealSteps) / kAnnealSteps);
        const auto uniform = torch::rand({logits.size(0), 2}, torch::kFloat64);
        const auto gumbel = -torch::log(-torch::log(uniform + 1e-20) + 1e-20);
        const auto decision = straightThrough(logits, gumbel, temperature);
        const auto& p = decision.p;
        // Frozen layer: the blended CE from the cached slopes; joint: through the logits.
        const auto blended = m_joint ? (rows.weight * liveUpdate(rows, p)).sum()
                                     : blendedCe(decision, rows.ceSkip, rows.ceUpdate,
                                                 rows.slopeSkip, rows.slopeUpdate, rows.weight);
        GateLoss out;
        out.hard = decision.hard;
        out.ce = (rows.weight * (out.hard * rows.ceUpdate + (1 - out.hard) * rows.ceSkip))
                     .sum()
                     .detach();
        out.loss = blended + m_options.beta * rows.recon.mean() * p.mean();
        if (step >= m_options.warmup) {
            const auto gap = p.mean() - m_options.rate;
            out.loss = out.loss +
                       m_options.gamma * (m_options.cost == "abs" ? gap.abs() : torch::relu(gap));
        }
        out.reported = out.loss.item<double>();
        return out;
    }

    // gates.md §3: the UPDATE path's CE and L_TTT (constants here) plus the ranking loss over
    // this chunk position's units. The curve shows the ranking loss: the other terms are
    // constants of the frozen model (noise in a curve).
    GateLoss rankingLoss(GateRows& rows, const torch::Tensor& logits, std::int64_t step) {
        const auto s = logits.select(1, 1) - logits.select(1, 0);
        if (m_joint) liveUpdate(rows, {});
        auto advantage = (rows.ceSkip - rows.ceUpdate).clamp(-10, 10);
        if (!m_options.advantageGradient) advantage = advantage.detach();
        GateLoss out;
        out.ce = (rows.weight * rows.ceUpdate).sum();
        out.loss = out.ce + 0.1 * rows.recon.mean();
        const auto ranking =
            m_options.kind == "ranknet"
                ? rankNetLoss(s, advantage)
                : listNetLoss(s, advantage, m_options.listnetTemperature, m_options.rate);
        out.reported = ranking.item<double>();
        if (step >= m_options.warmup) out.loss = out.loss + ranking;
        out.hard = decideAndTrackThreshold(s);
        return out;
    }

    // History sees the call the gate would make at inference, q > θ with the θ so far (s > 0
    // before the first): a history of another rule in training shifts q at inference (a
    // RankNet gate trained on s > 0 updated 99% of held-out units). θ then moves by a causal
    // EMA towards this step's percentile of q.
    torch::Tensor decideAndTrackThreshold(const torch::Tensor& score) {
        torch::NoGradGuard noGrad;
        const auto q = torch::sigmoid(score).detach();
        auto& threshold = m_net->threshold;
        const bool initialised = threshold[1].item<double>() > 0;
        const auto hard = (initialised ? q > threshold[0].item<double>() : score.detach() > 0)
                              .to(torch::kFloat64);
        std::vector<double> qs(q.data_ptr<double>(), q.data_ptr<double>() + q.numel());
        const double batchThreshold = percentile(qs, 100.0 * (1.0 - m_options.rate));
        threshold[0] = initialised ? kThresholdDecay * threshold[0].item<double>() +
                                         (1 - kThresholdDecay) * batchThreshold
                                   : batchThreshold;
        threshold[1] = 1.0;
        return hard;
    }

    // One Adam step on `loss`; the gradient norm before clipping.
    double optimise(const torch::Tensor& loss) {
        m_optimizer->zero_grad();
        if (loss.requires_grad()) {
            loss.backward();
        } else {
            // Ranking gates in warmup: every term is a constant of the frozen model. Zero
            // gradients still count as an Adam step, as in the published optax loop.
            for (auto& parameter : m_net->parameters())
                parameter.mutable_grad() = torch::zeros_like(parameter);
        }
        const double gradNorm =
            torch::nn::utils::clip_grad_norm_(m_trained->parameters(), m_options.gradClip);
        m_optimizer->step();
        return gradNorm;
    }

    void writeGate(std::int64_t steps) {
        std::string tttSha = m_evaluator.tttSha256();
        if (m_joint) {  // the gate belongs to the layer it was trained with
            m_joint->writeModelDir(m_options.outDir);
            tttSha = sha256FileHex(m_options.outDir / "ttt.safetensors");
        }
        const bool thresholded = m_options.kind != "gumbel";
        const json gate = {
            {"format", "ponderttt-gate/1"},
            {"kind", m_options.kind},
            {"features", gateInputNames()},
            {"network",
             "LayerNorm(32, eps 1e-6) -> Linear(32, 64) -> ReLU -> Linear(64, 64) -> "
             "ReLU -> Linear(64, 2) [SKIP, UPDATE]"},
            {"decision", thresholded ? "threshold" : "argmax"},
            {"threshold", thresholded ? m_net->threshold[0].item<double>() : 0.5},
            {"rate", m_options.rate},
            {"sequence_chunks", m_options.sequenceChunks},
            {"ttt_sha256", tttSha},
            {"backbone_sha256", m_evaluator.backboneSha256()},
            {"trained_steps", steps},
            {"training_units", m_units.size()},
            {"options", m_identity},
            {"declared_fixes", declaredFixes(m_options)}};
        const fs::path gateDir = m_options.trainTtt ? m_options.outDir / "gate" : m_options.outDir;
        std::error_code error;
        fs::create_directories(gateDir, error);  // writeGateFiles reports an unwritable one
        writeGateFiles(gateDir, weightsOf(*m_net), gate.dump(2) + "\n");
    }

    const GateTrainOptions& m_options;
    const Evaluator& m_evaluator;
    std::vector<GateUnit> m_units;
    std::vector<std::vector<std::size_t>> m_sequences;
    GateNet m_net;
    std::optional<JointTtt> m_joint;
    JointModules m_jointModules{nullptr};
    torch::nn::Module* m_trained = nullptr;  // the gate, or the gate and the layer
    std::unique_ptr<torch::optim::Adam> m_optimizer;
    json m_identity;
    std::vector<std::size_t> m_drawn;  // this batch's sequences
    std::vector<GateHistory> m_histories;
};

}  // namespace

TrainResult trainGate(const GateTrainOptions& options, const TrainCallbacks& callbacks) {
    checkOptions(options);
    EvalOptions evalOptions;
    evalOptions.device = options.device;
    evalOptions.keepTokenLosses = false;
    evalOptions.blendSlopes = true;  // every kind, so gates of all kinds share one cache
    evalOptions.forceCheckpoint = options.forceCheckpoint;
    Evaluator evaluator(options.modelDir, evalOptions);
    createOutDir(options.outDir);
    std::vector<std::string> inputs;
    for (const auto& input : options.corpus.inputs)
        inputs.push_back(input.string());
    const json dataIdentity = {{"backbone_sha256", evaluator.backboneSha256()},
                               {"ttt_sha256", evaluator.tttSha256()},
                               {"chunk", options.chunk},
                               {"inputs", inputs},
                               {"extensions", options.corpus.extensions},
                               {"max_units", options.maxUnits}};
    TrainResult result;
    bool cancelled = false;
    const auto plan = trainingUnits(options, evaluator);
    auto units = prepareUnits(options, evaluator, plan, dataIdentity, callbacks, cancelled);
    if (cancelled) return result;
    GateTrainer trainer(options, evaluator, plan, std::move(units), dataIdentity);
    result.trainTokens = trainer.trainTokens();
    if (const auto step = trainer.resume()) result.startStep = *step;

    const std::int64_t chunks = options.sequenceChunks;
    TrainingLoop loop;
    loop.command = "train-gate";
    loop.divergenceHint = "lower {--lr}; the last checkpoint is kept";
    loop.steps = options.steps;
    loop.mayStopBefore = [&](std::int64_t step) { return step % chunks == 0; };  // batch starts
    loop.checkpointDue = [&](std::int64_t done) {
        const auto batches = std::max<std::int64_t>(1, options.checkpointEvery / chunks);
        return done % chunks == 0 && done / chunks % batches == 0;
    };
    loop.save = [&](std::int64_t done) { trainer.save(done); };
    runTrainingLoop(
        loop, callbacks, [&](std::int64_t step) { return trainer.step(step); }, result);
    return result;
}

}  // namespace ponder::core
