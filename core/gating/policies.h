// Replayable gating policies over a column table of unit records (design.md §5,
// algorithm.md §5): pure, Torch-free functions that re-decide 100k units in milliseconds.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace ponder::core {

struct UnitRecord;  // core/eval/evaluator.h

// The per-unit quantities a policy can gate on (design.md §4 names them). Entropy and
// Confidence are the SKIP path's; EntropyUpdate and ConfidenceUpdate the UPDATE path's.
enum class Signal {
    ReconStep0,
    ReconInit,
    ReconStep1,
    Improvement,
    Entropy,
    Confidence,
    LossSkip,
    EntropyUpdate,
    ConfidenceUpdate
};

// Which advantage a correlation, an oracle or a plot reads (algorithm.md §4.1): the published
// loss_skip − loss_update, or one of the two parts it splits into.
enum class AdvantagePart { Whole, Static, Inner };
// "advantage" | "adv_static" | "adv_inner"
std::string advantagePartName(AdvantagePart part);

// recon_step0 | recon_init | recon_step1 | improvement | entropy | confidence | loss_skip |
// entropy_update | confidence_update
std::string signalName(Signal signal);
// Throws InputError (hint lists the valid names) for an unknown name.
Signal parseSignal(const std::string& name);
std::vector<Signal> allSignals();

// Unit records as columns, in data order: replaying a policy touches only what it needs.
struct UnitTable {
    std::vector<double> lossSkip, lossUpdate, advantage, reconStep0, reconInit, reconStep1,
        improvement, entropy, confidence, entropyUpdate, confidenceUpdate;
    // The advantage split (algorithm.md §4.1): the static path's loss and the two parts,
    // advStatic = lossSkip − lossStatic and advInner = lossStatic − lossUpdate; NaN where the
    // static path was not computed.
    std::vector<double> lossStatic, advStatic, advInner;
    // Bootstrap block of each unit (metrics.h): unitTableFrom sets the file index in file mode
    // and the batch index in paper mode (the two chunks of one batch share their 16 windows).
    // Callers may overwrite it, e.g. with contiguousBlocks().
    std::vector<std::int64_t> block;
    // Where each unit sits (file index, -1 in paper mode; chunk index in the file or window),
    // its 28 stored gate features (gate.h; NaN where not computed), and the SHA-256 of the
    // run's ttt.safetensors (empty when unknown): what the learned gates replay from.
    std::vector<std::int64_t> fileIndex, chunkIndex;
    std::vector<float> gateFeatures;
    std::string tttSha256;
    // The TTT layer's UPDATE_N (ttt.json update_steps): an UPDATE costs 1 + 2N (algorithm.md §5).
    std::int64_t updateSteps = 1;
    double updateCost() const { return 1.0 + 2.0 * double(updateSteps); }
    // The notional cost of updating a fraction `rate` of the units: 1 + 2N·rate.
    double costAtRate(double rate) const { return 1.0 + (updateCost() - 1.0) * rate; }

    // Every per-unit double column above, for code that copies or picks whole rows.
    using DoubleColumn = std::vector<double> UnitTable::*;
    static const std::vector<DoubleColumn>& doubleColumns();

    std::size_t size() const { return lossSkip.size(); }
    // The units `indices` (kept in the given order; std::out_of_range past the end): every
    // per-unit column picked, the run's hash and update steps kept. A column a table does
    // not fill stays empty.
    UnitTable rows(const std::vector<std::size_t>& indices) const;
    const std::vector<double>& signal(Signal s) const;
    const std::vector<double>& advantageOf(AdvantagePart part) const;
    // A gated fast-path run (`ponder eval --fast`): some units have no UPDATE-path values.
    bool partial() const;
    // Every unit has the static path, so the advantage splits (algorithm.md §4.1).
    bool hasSplit() const;
};

// values[i] for each index in order (`width` consecutive values per unit); an empty column
// (one a table does not fill) stays empty; std::out_of_range past the end.
template <class T>
std::vector<T> pickRows(const std::vector<T>& values, const std::vector<std::size_t>& indices,
                        std::size_t width = 1) {
    if (values.empty()) return {};
    std::vector<T> out;
    out.reserve(indices.size() * width);
    for (auto i : indices) {
        if ((i + 1) * width > values.size())
            throw std::out_of_range("unit " + std::to_string(i) + " of " +
                                    std::to_string(values.size() / width));
        const auto first = values.begin() + std::ptrdiff_t(i * width);
        out.insert(out.end(), first, first + std::ptrdiff_t(width));
    }
    return out;
}

// True when some value is NaN: not computed (a fast-path run's UPDATE side).
bool anyNotComputed(const std::vector<double>& values);

// `tttSha256`: the run's ttt.safetensors hash (RunDescription), for the learned gates;
// `updateSteps`: its ttt.json's (updateStepsOf), for the cost columns.
UnitTable unitTableFrom(const std::vector<UnitRecord>& records, const std::string& tttSha256 = {},
                        std::int64_t updateSteps = 1);

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct PolicySpec {
    // One of policyNames(): skip | update | random | oracle | recon-ema | recon-ema-paper |
    // threshold | improvement-topk | improvement-threshold | multi-signal |
    // advanced-threshold | advanced-budget | advanced-budget-ema, or gate:DIR (a learned gate
    // written by `ponder train-gate`, gate.h).
    std::string name = "recon-ema";
    double rate = 0.5;                   // target update rate ρ, in [0, 1]
    double alpha = 0.1;                  // EMA α, in (0, 1]
    Signal signal = Signal::ReconStep0;  // what recon-ema, recon-ema-paper and threshold gate on
    // Fixed τ of `threshold` (required) and `improvement-threshold` (NaN: the median of the
    // run's improvement, App. E's choice; like improvement-topk it looks at the whole run).
    double threshold = kNaN;
    // EMA policies: "paper" forces the first calibrationUnits units to UPDATE and takes τ0 from
    // them; "profile" starts at τ0 = profileTau0 (the caller's (1-ρ) quantile from
    // calibration.json, see empiricalThreshold) and gates from unit 0 (design.md §6).
    std::string calibration = "paper";
    double profileTau0 = kNaN;
    // recon-ema-inverted's profile start: the ρ quantile of the signal (it updates iff s < τ).
    // setProfileThresholds fills both, so one spec serves Ours and every extra policy.
    double profileTau0Low = kNaN;
    int calibrationUnits = 16;  // published: calibration_batches 2 x 8 (algorithm.md §5)
    std::uint64_t seed = 42;    // random
    // The advanced-* policies' σ step (gates.md §1): "running" feeds it the running
    // standard deviation over the units so far (our declared fix); "published" the published
    // code's deviation over a batch of one unit, i.e. 0, so σ shrinks towards 1e-6.
    std::string advancedStd = "running";
    // gate:DIR policies: run a gate trained on another TTT layer than the run's anyway.
    bool forceGate = false;
    // gate:DIR policies: the published non-causal threshold, the 100(1 - ρ) percentile of q over
    // each batch of 16 sequences at each chunk position (runGate); no fast path.
    bool gateLookahead = false;
};

// Decisions plus, per unit, the τ and realized-rate EMA r in effect WHEN DECIDING that unit,
// i.e. before the unit's own update_state (the values the decision compared against). NaN
// where the policy has none: fixed policies, calibration units before the last one (the last
// calibration unit records the freshly calibrated τ0 and r = ρ), and r for fixed thresholds.
struct PolicyRun {
    std::string name;
    std::vector<std::uint8_t> decisions;  // 1 = UPDATE
    std::vector<double> threshold;
    std::vector<double> rateEma;
    // The value each decision compared against `threshold`: the signal (single-signal rules),
    // the z-score sum (multi-signal), system A's score c (advanced-*), a learned gate's q; NaN
    // for the rules without one (fixed, random, top-k). What the signal plot draws.
    std::vector<double> score;
};

// Semantics (algorithm.md §5 and §9 item 2):
// - skip / update: d ≡ 0 / ≡ 1.  random: seeded Bernoulli(ρ) (decideRandom).
// - oracle: top k = max(1, floor(Nρ)) units by advantage, stable (decideOracle); so ρ = 0
//   still updates one unit, as published.  improvement-topk: the same ranking by improvement.
// - recon-ema: the published ReconstructionGating exactly. Paper calibration: the first
//   calibrationUnits units are UPDATE and collected; at the last of them τ = sorted[min(
//   int((1-ρ)·n), n-1)] and r = ρ, and update_state already runs on that unit. After that
//   d = [s > τ]. update_state: r ← (1-α)r + α·d, then τ ← max(0.01, τ + α(r-ρ)·max(0.1,|τ|))
//   using the NEW r. With fewer units than calibrationUnits calibration never completes and
//   every unit is UPDATE (the published behaviour).
// - recon-ema-inverted: the authors' "Inverted Gating", which their README used for GPT-2
//   350M-1.5B, where r(signal, advantage) came out negative: recon-ema's rule on the negated
//   signal (EmaRule::inverted), so the units with the LOWEST signal update at rate ρ. Paper
//   calibration takes τ from the forced units as recon-ema does; profile calibration needs
//   τ0 = the ρ quantile of the signal (profileTau0Low, setProfileThresholds).
// - recon-ema-paper: the printed equation τ ← τ + α(r̂-ρ)|τ| with the PRE-update r̂, no
//   floors; then r̂ ← (1-α)r̂ + α·d. Same calibration.
// - threshold: d = [signal > τ], τ required, except under profile calibration, where a missing
//   τ is τ0 (the (1-ρ) quantile of calibration.json).  improvement-threshold: d = [improvement >
//   τ].
// - multi-signal: score s_u = z(recon_step0) + z(entropy) - z(confidence), where each z uses
//   the running mean and population standard deviation over units 0..u (z = 0 while the
//   deviation is 0, e.g. at u = 0): a high reconstruction loss and an uncertain SKIP
//   distribution both suggest TTT has something to gain. Then the recon-ema rule on s
//   (same calibration and update) except that τ has no 0.01 floor, since z-scores are centred
//   at 0 and a positive floor would cap the rate below ρ.
// - advanced-threshold / advanced-budget / advanced-budget-ema (system A, the earlier
//   releases' multi-signal + budget-aware gate, gates.md §1; AdvancedScore): the score c_u
//   of the UPDATE path's improvement, entropy_update and 1 - confidence_update.
//   advanced-threshold: d = [c > 0.5]. advanced-budget: τ = 0.5 + o, d = [c > τ], then
//   r ← 0.9r + 0.1d (r₀ = ρ) and o ← clip(o + 0.001(r - ρ), ±0.05) (published constants; α is
//   unused). advanced-budget-ema: recon-ema's rule (α, floors) on c from τ₀ = 0.5, r₀ = ρ,
//   with no forced units. They need the UPDATE path's statistics: a run without them (stored
//   before they existed, or by the gated fast path) is refused with an InputError.
// - gate:DIR (systems B and C, gates.md §2-3): the learned gate in DIR decides each unit from
//   its stored features and live history (runGate); ρ, α and the signal are unused.
// Throws InputError for an unknown name or calibration, ρ outside [0, 1], α outside (0, 1],
// calibrationUnits < 1, a missing τ or profileTau0.
PolicyRun runPolicy(const PolicySpec& spec, const UnitTable& table);
// The same into `run`, reusing its buffers: a slider that replays on every move allocates
// (and page-faults) nothing for recon-ema, recon-ema-paper and the fixed thresholds.
void runPolicyInto(const PolicySpec& spec, const UnitTable& table, PolicyRun& run);

// Mean and population deviation of the values added so far (Welford): the running statistics
// of the multi-signal and advanced-* scores, so a unit's score uses nothing after it.
struct RunningMoments {
    double mean = 0, m2 = 0;
    std::size_t count = 0;
    void add(double x) {
        ++count;
        const double delta = x - mean;
        mean += delta / double(count);
        m2 += delta * (x - mean);
    }
    double deviation() const { return count ? std::sqrt(m2 / double(count)) : 0.0; }
};

// System A's score (gates.md §1), one unit at a time: s_k = sigmoid((x_k - μ_k)/(σ_k + 1e-6))
// for x = (improvement, entropy_update, 1 - confidence_update) with priors μ = (0.034, 2.0, 0.5),
// σ = (0.02, 1.0, 0.2); c = (1.0 s_1 + 0.3 s_2 + 0.2 s_3)/1.5. After each unit (the caller has
// decided on c by then): μ ← 0.99μ + 0.01x, σ ← 0.99σ + 0.01(std + 1e-6), std being the running
// population deviation of x over the units so far, or 0 with publishedStd.
class AdvancedScore {
public:
    explicit AdvancedScore(bool publishedStd) : m_publishedStd(publishedStd) {}
    double next(double improvement, double entropyUpdate, double confidenceUpdate);

private:
    bool m_publishedStd;
    double m_mean[3] = {0.034, 2.0, 0.5}, m_sigma[3] = {0.02, 1.0, 0.2};
    RunningMoments m_seen[3];  // over the units so far: the "running" deviation
};

// How an EMA policy moves τ after each decision (algorithm.md §5 vs the paper, §9 item 2).
struct EmaRule {
    bool preUpdateRate;  // paper: τ moves with r̂_t before r̂ absorbs d_t
    double scaleFloor;   // step scale max(scaleFloor, |τ|); 0 gives the paper's |τ|
    double tauFloor;     // τ = max(tauFloor, τ)
    // -1: the rule runs on the negated score, so a LOW score updates (inverted gating); the
    // recorded threshold is given back on the score's own scale (update iff score < it).
    double direction = 1.0;
    static EmaRule published() { return {false, 0.1, 0.01}; }            // recon-ema
    static EmaRule printedEquation() { return {true, 0.0, -HUGE_VAL}; }  // recon-ema-paper
    static EmaRule zScores() { return {false, 0.1, -HUGE_VAL}; }         // multi-signal
    // recon-ema-inverted: recon-ema's step on -s, without the 0.01 floor (-s is negative).
    static EmaRule inverted() { return {false, 0.1, -HUGE_VAL, -1.0}; }
};

// The EMA policies one unit at a time, for a caller that must decide before it computes the
// unit's UPDATE path (the gated fast path). runPolicy replays recon-ema, recon-ema-paper and
// multi-signal through this same class, so an online run and a replay decide identically.
class EmaGate {
public:
    // recon-ema, recon-ema-paper or recon-ema-inverted (InputError otherwise, or for an
    // invalid spec).
    explicit EmaGate(const PolicySpec& spec);
    EmaGate(const PolicySpec& spec, const EmaRule& rule);
    struct Step {
        std::uint8_t decision = 1;  // calibration units are UPDATE
        double threshold = kNaN;    // τ and r in effect when deciding (PolicyRun's meaning)
        double rateEma = kNaN;
    };
    // Decides the next unit from its score, then updates τ and r with that decision.
    Step decide(double score);

private:
    PolicySpec m_spec;
    EmaRule m_rule;
    bool m_calibrated = false;
    double m_tau = kNaN, m_rate = kNaN;
    std::vector<double> m_calibration;
};

// What each policy is, in one table: parsing, validation, report labels and the calibration
// rules all read it, so the CLI, the studio and the exports cannot disagree.
struct PolicyInfo {
    const char* name;    // as typed: --policy NAME, PolicySpec::name, stored runs
    const char* method;  // label in tables and reports (the published code's method names)
    bool ema;            // τ adapted by an EMA; paper calibration forces the first units UPDATE
    bool usesSignal;     // gates on PolicySpec::signal
    // Can start from calibration.json (a quantile of a stored signal): not multi-signal, whose
    // z-score calibration.json does not describe.
    bool profileCalibration;
    const char* summary;  // one line for help texts and tooltips
};

// skip, update, random, oracle, recon-ema, recon-ema-paper, threshold, improvement-topk,
// improvement-threshold, multi-signal, advanced-threshold, advanced-budget, advanced-budget-ema.
const std::vector<PolicyInfo>& policyTable();
// InputError (hint lists the names) for an unknown name. Every gate:DIR shares one entry.
const PolicyInfo& policyInfo(const std::string& name);
// Whether `policyName` decides on a score of its own rather than one of the signals: a learned
// gate's q, the advanced-* rules' c, multi-signal's z-sum (PolicyRun::score holds it).
bool hasOwnScore(const std::string& policyName);
// The name of that score ("gate q = P(UPDATE)", ...); "signal" for the single-signal rules.
std::string scoreName(const std::string& policyName);
// True for gate:DIR; gateDirOf returns DIR.
bool isGatePolicy(const std::string& name);
std::string gateDirOf(const std::string& name);
std::vector<std::string> policyNames();
// skip, update, random and oracle: every run reports them, beside Ours.
bool isBaselinePolicy(const std::string& name);

// The checks runPolicy makes, for callers that want them before any work (the CLI before
// loading a model, the studio before a replay): unknown name or calibration, ρ outside [0, 1],
// α outside (0, 1], calibrationUnits < 1, profile calibration of a policy that has none or
// without τ0, `threshold` without τ, an advancedStd other than running|published. Throws
// InputError with a hint.
void validatePolicy(const PolicySpec& spec);

// True for the EMA policies whose paper calibration forces the first calibrationUnits units
// to UPDATE (algorithm.md §5): recon-ema, recon-ema-paper and multi-signal.
bool forcesCalibrationUnits(const PolicySpec& spec);

// Whether the target rate ρ enters the policy's decisions at all: not for a learned gate (unless
// --lookahead), advanced-threshold, or the fixed thresholds. A front end's rate control does not
// apply to those.
bool usesTargetRate(const PolicySpec& spec);
// Whether a policy spends its own budget rather than holding ρ: those that ignore ρ, and
// advanced-budget (whose additive offset often cannot reach it, gates.md §1). Such a policy is
// reported at the rate it realized, against Random and the Oracle at that rate (run_analysis.h).
bool reportedAtOwnRate(const PolicySpec& spec);

class Calibration;  // core/gating/calibration.h
// The profile starts of `spec` from calibration.json at its rate and signal: profileTau0 = the
// (1-ρ) quantile (recon-ema, recon-ema-paper), profileTau0Low = the ρ quantile
// (recon-ema-inverted). InputError when the file lacks the signal.
void setProfileThresholds(const Calibration& calibration, PolicySpec& spec);

// recon-ema's calibration rule on any sample: sorted[min(int((1-ρ)·n), n-1)] (NaN last; NaN for
// an empty sample). With ρ = 0.5 and 16 values it is the 9th smallest.
double empiricalThreshold(std::vector<double> values, double rate);

}  // namespace ponder::core
