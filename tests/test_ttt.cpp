// TTT-Linear layer: the dual form against an independent primal (per-token autograd) version
// written here, conv/RoPE/η against loops, causality, stats, init, checkpoint I/O with named
// errors, and the SHA-256 that ties a checkpoint to its backbone.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/model/tensor_convert_impl.h"
#include "core/model/ttt_layer_impl.h"
#include "core/util/errors.h"
#include "core/util/sha256.h"
#include "tests/test_support.h"

// LibTorch pulls in glog, whose one-argument CHECK (abort on failure, never counted) would
// replace Catch's; so Torch comes first and Catch's CHECK is the one left defined.
#undef CHECK
#include <catch2/catch.hpp>

using namespace ponder::core;
namespace fs = std::filesystem;

using ponder::testing::loadFailure;

namespace {

TttConfig smallConfig(const std::string& etaForm = "ponderttt", std::int64_t lag = 1,
                      std::int64_t causalK = 0) {
    TttConfig config;
    config.hidden = 32;
    config.heads = 2;
    config.headDim = 16;
    config.miniBatch = 16;
    config.baseLr = 0.5;
    config.etaDecay = 0.3;  // exercised, although GPT-2 small uses 0
    config.etaForm = etaForm;
    config.convWidth = 4;
    config.convLag = lag;
    config.causalK = causalK;
    return config;
}

// Published init, then every parameter nudged (non-zero wo, τ, biases, non-unit norms) so the
// checks below see all of them.
TttModel randomModel(const TttConfig& config, std::uint64_t seed = 5,
                     torch::ScalarType dtype = torch::kFloat64) {
    TttModel model(config);
    model->initialiseWeights(seed);
    torch::NoGradGuard noGrad;
    torch::manual_seed(seed + 1);
    for (auto& p : model->parameters())
        p.add_(torch::randn_like(p) * 0.1);
    model->to(dtype);
    model->eval();
    return model;
}

std::map<std::string, torch::Tensor> paramsOf(TttModel& model) {
    std::map<std::string, torch::Tensor> params;
    for (const auto& item : model->named_parameters())
        params[item.key()] = item.value().detach().to(torch::kFloat64).clone();
    return params;
}

double maxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

fs::path tempDir(const std::string& name) {
    auto dir =
        fs::temp_directory_path() / ("ponder_ttt_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

// Row LayerNorm written out (biased variance), independent of the layer's helper.
torch::Tensor refLayerNorm(const torch::Tensor& z, const torch::Tensor& gamma,
                           const torch::Tensor& beta, double eps) {
    const auto mean = z.mean(-1, true);
    const auto var = (z - mean).pow(2).mean(-1, true);
    return (z - mean) / (var + eps).sqrt() * gamma + beta;
}

torch::Tensor geluTanh(const torch::Tensor& x) {
    return 0.5 * x * (1.0 + torch::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x.pow(3))));
}

// Primal view of algorithm.md §2.5: per token j the gradient of ½‖LN(k_j W + b) − (v_j − k_j)‖²
// w.r.t. (W, b) by autograd at the mini-batch-start weights; token i uses
// W_i = W − Σ_{j∈M(i)} η_ij ∇_W ℓ_j; the carry uses all K tokens with row K−1's rates.
struct Primal {
    torch::Tensor y;                   // [B, T, D]
    torch::Tensor init, step0, step1;  // [B, H, n]
};

Primal primal(const TttInner& inner, const std::map<std::string, torch::Tensor>& p,
              const TttConfig& c, const torch::Tensor& x) {
    torch::AutoGradMode gradMode(true);
    const auto batch = inner.xq.size(0), heads = c.heads, n = inner.xq.size(2), k = c.miniBatch,
               d = c.headDim, length = n * k;
    const double eps = c.lnEps;
    auto z = torch::zeros({batch, length, heads * d}, torch::kFloat64);
    Primal result;
    result.init = torch::zeros({batch, heads, n}, torch::kFloat64);
    result.step0 = torch::zeros_like(result.init);
    result.step1 = torch::zeros_like(result.init);
    const auto lossAt = [&](const torch::Tensor& key, const torch::Tensor& target,
                            const torch::Tensor& w, const torch::Tensor& b,
                            const torch::Tensor& gamma, const torch::Tensor& beta) {
        return (refLayerNorm(key.matmul(w) + b, gamma, beta, eps) - target).pow(2).mean();
    };
    for (std::int64_t b = 0; b < batch; ++b) {
        for (std::int64_t h = 0; h < heads; ++h) {
            const auto gamma = p.at("ttt.ttt_norm.weight")[h], beta = p.at("ttt.ttt_norm.bias")[h];
            auto w = p.at("ttt.W0")[h].clone();
            auto bias = p.at("ttt.b0")[h].clone();
            for (std::int64_t m = 0; m < n; ++m) {
                const auto q = inner.xq[b][h][m], key = inner.xk[b][h][m], v = inner.xv[b][h][m];
                const auto eta = inner.eta[b][h][m];
                std::vector<torch::Tensor> gradW, gradB;
                for (std::int64_t j = 0; j < k; ++j) {
                    auto wv = w.detach().clone().requires_grad_(true);
                    auto bv = bias.detach().clone().requires_grad_(true);
                    const auto out = refLayerNorm(key[j].matmul(wv) + bv, gamma, beta, eps);
                    const auto loss = 0.5 * (out - (v[j] - key[j])).pow(2).sum();
                    const auto grads = torch::autograd::grad({loss}, {wv, bv});
                    gradW.push_back(grads[0]);
                    gradB.push_back(grads[1]);
                }
                for (std::int64_t i = 0; i < k; ++i) {
                    auto wi = w.clone();
                    auto bi = bias.clone();
                    for (std::int64_t j = 0; j <= i + c.causalK; ++j) {
                        wi = wi - eta[i][j] * gradW[j];
                        bi = bi - eta[i][j] * gradB[j];
                    }
                    z[b][m * k + i].slice(0, h * d, (h + 1) * d) =
                        q[i] + refLayerNorm(q[i].matmul(wi) + bi, gamma, beta, eps);
                }
                const auto last = key[k - 1], target = v[k - 1] - key[k - 1];
                result.init[b][h][m] =
                    lossAt(last, target, p.at("ttt.W0")[h], p.at("ttt.b0")[h], gamma, beta);
                result.step0[b][h][m] = lossAt(last, target, w, bias, gamma, beta);
                for (std::int64_t j = 0; j < k; ++j) {
                    w = w - eta[k - 1][j] * gradW[j];
                    bias = bias - eta[k - 1][j] * gradB[j];
                }
                result.step1[b][h][m] = lossAt(last, target, w, bias, gamma, beta);
            }
        }
    }
    const auto normed =
        refLayerNorm(z, p.at("ttt.post_norm.weight"), p.at("ttt.post_norm.bias"), eps);
    const auto gated = geluTanh(x.matmul(p.at("ttt.wg.weight").t())) * normed;
    result.y = gated.matmul(p.at("ttt.wo.weight").t());
    return result;
}

}  // namespace

TEST_CASE("model: the dual form equals a primal per-token implementation", "[ttt]") {
    for (const std::string etaForm : {"ponderttt", "ttt-lm"}) {
        for (std::int64_t lag : {0, 1}) {
            for (std::int64_t causalK : {0, -1}) {
                const auto config = smallConfig(etaForm, lag, causalK);
                auto model = randomModel(config);
                auto layer = model->layer();
                const auto params = paramsOf(model);
                torch::manual_seed(21);
                const auto x = torch::randn({2, 48, config.hidden}, torch::kFloat64);
                TttInner inner;
                TttOutput out;
                {
                    torch::NoGradGuard noGrad;
                    inner = layer->prepareInner(x);
                    out = layer->forward(x);
                }
                const auto expected = primal(inner, params, config, x);
                const double yDiff = maxAbsDiff(out.y, expected.y);
                const double statsDiff = std::max({maxAbsDiff(out.stats.init, expected.init),
                                                   maxAbsDiff(out.stats.step0, expected.step0),
                                                   maxAbsDiff(out.stats.step1, expected.step1)});
                INFO("eta_form " << etaForm << ", conv_lag " << lag << ", causal_k " << causalK);
                WARN("dual vs primal (" << etaForm << ", lag " << lag << ", causal_k " << causalK
                                        << "): y " << yDiff << ", stats " << statsDiff
                                        << " (|y| max " << out.y.abs().max().item<double>() << ")");
                CHECK(yDiff < 1e-5);
                CHECK(statsDiff < 1e-5);
                CHECK(out.stats.step0.sizes() == torch::IntArrayRef({2, 2, 3}));
            }
        }
    }
}

TEST_CASE("model: causal convs, RoPE and η match loops written from the formulas", "[ttt]") {
    torch::NoGradGuard noGrad;
    for (const std::string etaForm : {"ponderttt", "ttt-lm"}) {
        for (std::int64_t lag : {0, 1}) {
            const auto c = smallConfig(etaForm, lag);
            auto model = randomModel(c, 9);
            const auto p = paramsOf(model);
            torch::manual_seed(4);
            const std::int64_t batch = 2, length = 48, k = c.miniBatch, d = c.headDim;
            const auto x = torch::randn({batch, length, c.hidden}, torch::kFloat64);
            // Positions not starting at 0, so "pos mod K" matters.
            const auto positions = torch::arange(length, torch::kInt64) + 5;
            const auto inner = model->layer()->prepareInner(x, positions);
            INFO("eta_form " << etaForm << ", conv_lag " << lag);

            // design.md §3.1: out[t] = bias + Σ_k w[:,k] · xqk[t − (W−1) − lag + k].
            const auto xqk = x.matmul(p.at("ttt.wq.weight").t());
            for (const std::string name : {"conv_q", "conv_k"}) {
                const auto w = p.at("ttt." + name + ".weight");
                auto expected = p.at("ttt." + name + ".bias").repeat({batch, length, 1});
                for (std::int64_t t = 0; t < length; ++t)
                    for (std::int64_t tap = 0; tap < c.convWidth; ++tap) {
                        const auto source = t - (c.convWidth - 1) - lag + tap;
                        if (source >= 0)
                            expected.select(1, t) += w.select(1, tap) * xqk.select(1, source);
                    }
                const auto& actual = name == "conv_q" ? inner.convQ : inner.convK;
                CHECK(maxAbsDiff(actual, expected) < 1e-12);
            }

            // RoPE: pair (2p, 2p+1) rotated by (pos mod K)·θ^(−2p/d); V is not rotated.
            auto rotatedQ = torch::zeros({batch, c.heads, length, d}, torch::kFloat64);
            for (std::int64_t t = 0; t < length; ++t)
                for (std::int64_t h = 0; h < c.heads; ++h)
                    for (std::int64_t pair = 0; pair < d / 2; ++pair) {
                        const double angle = double((t + 5) % k) *
                                             std::pow(c.ropeTheta, -2.0 * double(pair) / double(d));
                        const auto a = inner.convQ.select(1, t).select(1, h * d + 2 * pair);
                        const auto b = inner.convQ.select(1, t).select(1, h * d + 2 * pair + 1);
                        auto row = rotatedQ.select(1, h).select(1, t);
                        row.select(1, 2 * pair) = a * std::cos(angle) - b * std::sin(angle);
                        row.select(1, 2 * pair + 1) = a * std::sin(angle) + b * std::cos(angle);
                    }
            CHECK(maxAbsDiff(inner.xq.reshape({batch, c.heads, length, d}), rotatedQ) < 1e-12);
            const auto xv = x.matmul(p.at("ttt.wv.weight").t())
                                .reshape({batch, length, c.heads, d})
                                .permute({0, 2, 1, 3});
            CHECK(maxAbsDiff(inner.xv.reshape({batch, c.heads, length, d}), xv) < 1e-12);

            // η (algorithm.md §2.4), element by element.
            auto eta = torch::zeros({batch, c.heads, length / k, k, k}, torch::kFloat64);
            const auto tau = p.at("ttt.token_idx_offset");
            for (std::int64_t b = 0; b < batch; ++b)
                for (std::int64_t h = 0; h < c.heads; ++h)
                    for (std::int64_t m = 0; m < length / k; ++m)
                        for (std::int64_t i = 0; i < k; ++i)
                            for (std::int64_t j = 0; j < k; ++j) {
                                const auto gate = torch::sigmoid(
                                    p.at("ttt.lr_gate.weight")[h].dot(x[b][m * k + j]) +
                                    p.at("ttt.lr_gate.bias")[h]);
                                if (etaForm == "ponderttt") {
                                    const auto pos =
                                        torch::clamp_min(1.0 / (j + 1.0) + tau[j], 0.0);
                                    eta[b][h][m][i][j] =
                                        c.baseLr * pos *
                                        std::exp(c.etaDecay * double(j - (k - 1))) * gate *
                                        (768.0 / c.hidden) / double(d);
                                } else {
                                    const auto pos =
                                        torch::clamp_min(1.0 / (i + 1.0) + tau[i], 0.0);
                                    eta[b][h][m][i][j] = c.baseLr * pos * gate / double(d);
                                }
                            }
            CHECK(maxAbsDiff(inner.eta, eta) < 1e-12);
        }
    }
}

TEST_CASE("model: the closed-form inner LayerNorm gradient equals autograd's", "[ttt]") {
    torch::manual_seed(3);
    const auto z = torch::randn({5, 7, 16}, torch::kFloat64) * 3.0;
    const auto target = torch::randn({5, 7, 16}, torch::kFloat64);
    const auto gamma = torch::randn({16}, torch::kFloat64),
               beta = torch::randn({16}, torch::kFloat64);
    auto zv = z.clone().requires_grad_(true);
    const auto out = torch::layer_norm(zv, {16}, gamma, beta, 1e-5);
    const auto loss = 0.5 * (out - target).pow(2).sum();
    const auto expected = torch::autograd::grad({loss}, {zv})[0];
    const auto closed = innerLayerNormGrad(z, target, gamma, beta, 1e-5);
    const double diff = maxAbsDiff(closed, expected);
    WARN("closed-form LN gradient vs autograd: " << diff);
    CHECK(diff < 1e-10);
}

TEST_CASE("model: TTT model outputs at t never depend on tokens after t", "[ttt]") {
    torch::NoGradGuard noGrad;
    for (const std::string etaForm : {"ponderttt", "ttt-lm"}) {
        for (std::int64_t lag : {0, 1}) {
            auto model = randomModel(smallConfig(etaForm, lag), 13);
            torch::manual_seed(8);
            const auto h = torch::randn({2, 64, 32}, torch::kFloat64);
            const auto base = model->forward(h);
            for (std::int64_t t : {0, 14, 15, 16, 33, 62}) {
                auto changed = h.clone();
                changed.slice(1, t + 1) += torch::randn_like(changed.slice(1, t + 1));
                const auto out = model->forward(changed);
                INFO("eta_form " << etaForm << ", conv_lag " << lag << ", t = " << t);
                CHECK(maxAbsDiff(out.hidden.slice(1, 0, t + 1), base.hidden.slice(1, 0, t + 1)) <
                      1e-12);
                CHECK(maxAbsDiff(out.hidden.slice(1, t + 1), base.hidden.slice(1, t + 1)) > 1e-6);
                // Stats of mini-batches that end at or before t are unchanged too.
                const auto complete = (t + 1) / 16;
                if (complete > 0)
                    CHECK(maxAbsDiff(out.stats.step1.slice(2, 0, complete),
                                     base.stats.step1.slice(2, 0, complete)) < 1e-12);
            }
        }
    }
}

TEST_CASE("model: a chunk that is not a multiple of K is refused with a clear message", "[ttt]") {
    torch::NoGradGuard noGrad;
    auto model = randomModel(smallConfig());
    const auto h = torch::randn({1, 40, 32}, torch::kFloat64);
    CHECK_THROWS_AS(model->forward(h), std::invalid_argument);
    CHECK_THROWS_WITH(model->forward(h),
                      Catch::Contains("chunk of 40 tokens is not a multiple of the TTT mini-batch "
                                      "K = 16") &&
                          Catch::Contains("trim it to 32"));
    CHECK_THROWS_WITH(model->forward(torch::randn({1, 32, 31})),
                      Catch::Contains("[batch, tokens, 32]"));
}

TEST_CASE("model: published init: zero wo makes UPDATE equal SKIP, with LeCun scales and a seed",
          "[ttt]") {
    torch::NoGradGuard noGrad;
    TttConfig config = smallConfig();
    config.hidden = 64;
    config.heads = 4;
    TttModel model(config);
    model->initialiseWeights(17);
    torch::manual_seed(2);
    const auto h = torch::randn({2, 32, 64});
    const auto out = model->forward(h);
    CHECK(torch::equal(out.hidden, h));

    auto p = paramsOf(model);
    const double lecun = std::sqrt(1.0 / 64.0);
    for (const std::string name : {"ttt.wq.weight", "ttt.wv.weight", "ttt.wg.weight"}) {
        INFO(name);
        CHECK(std::abs(p.at(name).std().item<double>() / lecun - 1.0) < 0.06);
        CHECK(p.at(name).abs().max().item<double>() <= 2.0 * lecun / 0.87962566103423978 + 1e-9);
    }
    CHECK(std::abs(p.at("ttt.conv_q.weight").std().item<double>() / std::sqrt(0.25) - 1.0) < 0.1);
    CHECK(std::abs(p.at("ttt.W0").std().item<double>() / 0.02 - 1.0) < 0.06);
    for (const std::string name :
         {"ttt.wo.weight", "ttt.conv_q.bias", "ttt.lr_gate.bias", "ttt.token_idx_offset", "ttt.b0",
          "ttt.ttt_norm.bias", "ttt.post_norm.bias", "fast_norm.bias"})
        CHECK(p.at(name).abs().max().item<double>() == 0.0);
    for (const std::string name :
         {"ttt.ttt_norm.weight", "ttt.post_norm.weight", "fast_norm.weight"})
        CHECK(torch::equal(p.at(name), torch::ones_like(p.at(name))));

    TttModel same(config), other(config);
    same->initialiseWeights(17);
    other->initialiseWeights(18);
    const auto q = paramsOf(same), r = paramsOf(other);
    CHECK(torch::equal(q.at("ttt.wq.weight"), p.at("ttt.wq.weight")));
    CHECK(torch::equal(q.at("ttt.W0"), p.at("ttt.W0")));
    CHECK_FALSE(torch::equal(r.at("ttt.wq.weight"), p.at("ttt.wq.weight")));
}

TEST_CASE("model: stats: init == step0 on the first mini-batch and a small step lowers the loss",
          "[ttt]") {
    torch::NoGradGuard noGrad;
    for (const std::string etaForm : {"ponderttt", "ttt-lm"}) {
        auto config = smallConfig(etaForm);
        config.baseLr = 0.05;
        TttModel model(config);
        model->initialiseWeights(23);
        model->to(torch::kFloat64);
        // Tokens sharing a per-sequence direction, so per-token gradients agree and one
        // mini-batch step helps its last token too.
        torch::manual_seed(6);
        const auto h = torch::randn({4, 1, 32}, torch::kFloat64) +
                       0.3 * torch::randn({4, 64, 32}, torch::kFloat64);
        const auto stats = model->forward(h).stats;
        INFO("eta_form " << etaForm);
        CHECK(stats.init.sizes() == torch::IntArrayRef({4, 2, 4}));
        CHECK(maxAbsDiff(stats.init.select(2, 0), stats.step0.select(2, 0)) < 1e-12);
        CHECK(maxAbsDiff(stats.init.slice(2, 1), stats.step0.slice(2, 1)) > 1e-8);
        const double step0 = stats.step0.mean().item<double>();
        const double step1 = stats.step1.mean().item<double>();
        WARN(etaForm << ": mean step0 " << step0 << ", step1 " << step1 << ", init "
                     << stats.init.mean().item<double>());
        CHECK(step1 < step0);
    }
}

TEST_CASE("model: initLoss equals the stats.init of a full forward for every config and positions",
          "[ttt][fast-path]") {
    torch::NoGradGuard noGrad;
    for (const std::string etaForm : {"ponderttt", "ttt-lm"})
        for (std::int64_t lag : {0, 1}) {
            TttModel model(smallConfig(etaForm, lag));
            model->initialiseWeights(29);
            model->to(torch::kFloat64);
            torch::manual_seed(8);
            const auto h = torch::randn({3, 64, 32}, torch::kFloat64);
            // Shifted positions move RoPE's pos mod K: both paths must use the same ones.
            const auto positions = torch::arange(64, torch::kInt64) + 5;
            const auto full = model->forward(h, positions).stats.init;
            const auto early = model->initLoss(h, positions);
            INFO("eta_form " << etaForm << ", conv lag " << lag);
            CHECK(early.sizes() == full.sizes());
            CHECK(maxAbsDiff(early, full) < 1e-13);
            // The key's conv reads earlier tokens: changing them must change the statistic
            // (by a non-constant vector: fast_norm would remove a constant shift).
            auto changed = h.clone();
            changed.slice(1, 12, 14).add_(torch::randn({3, 2, 32}, torch::kFloat64));
            CHECK(maxAbsDiff(model->initLoss(changed, positions).select(2, 0), early.select(2, 0)) >
                  1e-8);
        }
}

TEST_CASE("model: the static path equals a forward with base_lr 0, and differs from the inner loop",
          "[ttt][split]") {
    // algorithm.md §4.1: the layer at its initial fast weights for every token. The reference
    // is the full scan of §2.5 with every η zero (base_lr 0), in float64, with the same weights.
    torch::NoGradGuard noGrad;
    for (const std::string etaForm : {"ponderttt", "ttt-lm"})
        for (std::int64_t lag : {0, 1})
            for (std::int64_t width : {0, 24}) {  // 24: a ttt_width projection (Gemma 3's shape)
                auto config = smallConfig(etaForm, lag);
                config.tttWidth = width;
                auto model = randomModel(config, 31);
                auto frozenConfig = config;
                frozenConfig.baseLr = 0.0;
                auto frozen = randomModel(frozenConfig, 31);  // the same draws: same weights
                const auto weights = paramsOf(model), frozenWeights = paramsOf(frozen);
                for (const auto& [name, value] : weights)
                    REQUIRE(maxAbsDiff(value, frozenWeights.at(name)) == 0.0);
                torch::manual_seed(12);
                const auto h = torch::randn({2, 48, 32}, torch::kFloat64);
                const auto positions = torch::arange(48, torch::kInt64) + 3;
                const auto staticHidden = model->forwardStatic(h, positions);
                INFO("eta_form " << etaForm << ", conv lag " << lag << ", ttt_width " << width);
                CHECK(maxAbsDiff(staticHidden, frozen->forward(h, positions).hidden) < 1e-12);
                // The inner loop moves the output (else adv_inner would be 0 by construction).
                CHECK(maxAbsDiff(staticHidden, model->forward(h, positions).hidden) > 1e-6);
            }
}

TEST_CASE(
    "model: gradients reach every TTT parameter and float32, float64 and inference mode agree",
    "[ttt]") {
    const auto config = smallConfig();
    auto model = randomModel(config, 31);
    torch::manual_seed(12);
    const auto h = torch::randn({2, 32, 32}, torch::kFloat64);
    const auto out = model->forward(h);
    const auto loss = out.hidden.pow(2).mean() + out.stats.init.mean() + out.stats.step0.mean() +
                      out.stats.step1.mean();
    loss.backward();
    for (const auto& item : model->named_parameters()) {
        INFO(item.key());
        REQUIRE(item.value().grad().defined());
        CHECK(torch::isfinite(item.value().grad()).all().item<bool>());
        CHECK(item.value().grad().abs().max().item<double>() > 0.0);
    }

    torch::Tensor inference;
    {
        c10::InferenceMode guard;
        inference = model->forward(h).hidden;
    }
    CHECK(torch::equal(inference, out.hidden.detach()));
    auto single = randomModel(config, 31, torch::kFloat32);
    torch::NoGradGuard noGrad;
    const auto single32 = single->forward(h.to(torch::kFloat32)).hidden;
    CHECK(single32.scalar_type() == torch::kFloat32);
    CHECK(maxAbsDiff(single32, out.hidden) < 1e-4);
}

TEST_CASE("model: TTT checkpoints round-trip and refuse a wrong backbone unless forced",
          "[ttt][io]") {
    torch::NoGradGuard noGrad;
    const auto dir = tempDir("roundtrip");
    auto config = smallConfig();
    config.backboneSha256 = sha256Hex("backbone A");
    auto model = randomModel(config, 41, torch::kFloat32);
    saveTttCheckpoint(model, dir);

    // design.md §3.1 names and shapes.
    const std::map<std::string, std::vector<std::int64_t>> expected = {
        {"fast_norm.weight", {32}},
        {"fast_norm.bias", {32}},
        {"ttt.wq.weight", {32, 32}},
        {"ttt.wv.weight", {32, 32}},
        {"ttt.wg.weight", {32, 32}},
        {"ttt.wo.weight", {32, 32}},
        {"ttt.conv_q.weight", {32, 4}},
        {"ttt.conv_q.bias", {32}},
        {"ttt.conv_k.weight", {32, 4}},
        {"ttt.conv_k.bias", {32}},
        {"ttt.lr_gate.weight", {2, 32}},
        {"ttt.lr_gate.bias", {2}},
        {"ttt.token_idx_offset", {16}},
        {"ttt.ttt_norm.weight", {2, 16}},
        {"ttt.ttt_norm.bias", {2, 16}},
        {"ttt.post_norm.weight", {32}},
        {"ttt.post_norm.bias", {32}},
        {"ttt.W0", {2, 16, 16}},
        {"ttt.b0", {2, 16}}};
    std::map<std::string, std::vector<std::int64_t>> stored;
    const auto file = SafetensorsFile::open(dir / "ttt.safetensors");
    for (const auto& t : file.tensors())
        stored[t.name] = t.shape;
    CHECK(stored == expected);

    torch::manual_seed(1);
    const auto h = torch::randn({2, 32, 32});
    const auto before = model->forward(h);
    auto loaded = loadTttCheckpoint(dir, 32, config.backboneSha256, false);
    CHECK(loaded->config().etaForm == config.etaForm);
    CHECK(loaded->config().etaDecay == config.etaDecay);
    const auto after = loaded->forward(h);
    CHECK(torch::equal(before.hidden, after.hidden));
    CHECK(torch::equal(before.stats.step0, after.stats.step0));

    const auto other = sha256Hex("backbone B");
    const auto refused = loadFailure([&] { loadTttCheckpoint(dir, 32, other, false); });
    CHECK_THAT(refused.what, Catch::Contains("checkpoint was trained for another backbone") &&
                                 Catch::Contains(config.backboneSha256.substr(0, 12)) &&
                                 Catch::Contains(other.substr(0, 12)));
    CHECK_THAT(refused.hint, Catch::Contains("--force-checkpoint"));
    CHECK(torch::equal(loadTttCheckpoint(dir, 32, other, true)->forward(h).hidden, before.hidden));

    CHECK_THAT(loadFailure([&] { loadTttCheckpoint(dir, 64, config.backboneSha256, true); }).what,
               Catch::Contains("hidden 32") && Catch::Contains("width is 64"));
    const auto missing = loadFailure([&] { loadTttCheckpoint(dir / "nowhere", 32, "", false); });
    CHECK_THAT(missing.what, Catch::Contains("no TTT checkpoint"));
    CHECK_THAT(missing.hint, Catch::Contains("ponder train-ttt") && Catch::Contains("--ttt"));
    fs::remove_all(dir);
}

TEST_CASE("model: missing, misshapen, unexpected, non-float or non-finite TTT tensors are named",
          "[ttt][io]") {
    torch::NoGradGuard noGrad;
    const auto dir = tempDir("errors");
    auto config = smallConfig();
    auto model = randomModel(config, 43, torch::kFloat32);
    saveTttCheckpoint(model, dir);
    const auto withChange = [&](const std::string& drop, const std::string& addName,
                                const torch::Tensor& addValue) {
        NamedTensors tensors;
        for (const auto& item : model->named_parameters())
            if (item.key() != drop) tensors.emplace_back(item.key(), item.value());
        if (!addName.empty()) tensors.emplace_back(addName, addValue);
        saveTensors(dir / "ttt.safetensors", tensors);
        return loadFailure([&] { loadTttCheckpoint(dir, 32, "", false); }).what;
    };
    CHECK(withChange("", "", {}).empty());
    CHECK_THAT(withChange("ttt.W0", "", {}), Catch::Contains("missing tensor 'ttt.W0'"));
    CHECK_THAT(withChange("ttt.conv_q.weight", "ttt.conv_q.weight", torch::zeros({32, 3})),
               Catch::Contains("'ttt.conv_q.weight'") && Catch::Contains("shape"));
    CHECK_THAT(withChange("", "ttt.extra", torch::zeros({2})),
               Catch::Contains("unexpected tensor 'ttt.extra'"));
    CHECK_THAT(withChange("ttt.b0", "ttt.b0", torch::zeros({2, 16}, torch::kInt64)),
               Catch::Contains("'ttt.b0'") && Catch::Contains("I64"));
    auto poisoned = model->named_parameters()["ttt.lr_gate.bias"].clone();
    poisoned[1] = std::nan("");
    CHECK_THAT(withChange("ttt.lr_gate.bias", "ttt.lr_gate.bias", poisoned),
               Catch::Contains("'ttt.lr_gate.bias'") && Catch::Contains("NaN"));
    // F16 storage is accepted (converted to float32).
    NamedTensors half;
    for (const auto& item : model->named_parameters())
        half.emplace_back(item.key(), item.value().to(torch::kFloat16));
    saveTensors(dir / "ttt.safetensors", half);
    CHECK(loadFailure([&] { loadTttCheckpoint(dir, 32, "", false); }).what.empty());
    fs::remove_all(dir);
}

TEST_CASE("model: ttt.json: exact field names, round trip and named validation errors",
          "[ttt][io]") {
    const auto dir = tempDir("json");
    auto config = TttConfig::forBackbone(1024);
    CHECK(config.heads == 16);
    CHECK(config.headDim == 64);
    CHECK(config.etaDecay == 0.3);
    CHECK(TttConfig::forBackbone(768).etaDecay == 0.0);
    CHECK(TttConfig::forBackbone(32).heads == 1);
    CHECK(config.convLag == 1);
    CHECK(config.etaForm == "ponderttt");
    config.backboneSha256 = sha256Hex("x");
    const auto text = tttConfigJson(config);
    const auto parsed = nlohmann::json::parse(text);
    std::set<std::string> keys;
    for (const auto& item : parsed.items())
        keys.insert(item.key());
    const std::set<std::string> expectedKeys = {
        "format",     "hidden",    "heads",    "head_dim",       "mini_batch",
        "base_lr",    "eta_decay", "eta_form", "conv_width",     "conv_lag",
        "rope_theta", "causal_k",  "ln_eps",   "backbone_sha256"};
    CHECK(keys == expectedKeys);
    CHECK(parsed["format"] == "ponderttt-ttt/1");
    saveTttConfig(config, dir / "ttt.json");
    const auto back = loadTttConfig(dir / "ttt.json");
    CHECK(tttConfigJson(back) == text);

    const auto refusedWith = [&](const std::string& key, const nlohmann::json& value) {
        auto edited = parsed;
        if (value.is_null())
            edited.erase(key);
        else
            edited[key] = value;
        std::ofstream(dir / "ttt.json") << edited.dump();
        return loadFailure([&] { loadTttConfig(dir / "ttt.json"); }).what;
    };
    CHECK_THAT(refusedWith("format", "ponderttt-ttt/2"), Catch::Contains("format"));
    CHECK_THAT(refusedWith("heads", -1), Catch::Contains("heads must be a positive integer"));
    CHECK_THAT(refusedWith("mini_batch", nullptr), Catch::Contains("missing field mini_batch"));
    CHECK_THAT(refusedWith("eta_form", "sgd"), Catch::Contains("eta_form"));
    CHECK_THAT(refusedWith("conv_lag", 2), Catch::Contains("conv_lag must be 0 or 1"));
    CHECK_THAT(refusedWith("causal_k", 1), Catch::Contains("causal_k must be 0 or -1"));
    CHECK_THAT(refusedWith("ln_eps", 0.0), Catch::Contains("ln_eps must be positive"));
    // The optional fields that a Gemma 3 checkpoint adds (design.md's ttt.json table).
    CHECK_THAT(refusedWith("fast_norm_eps", -1.0),
               Catch::Contains("fast_norm_eps must be positive"));
    CHECK_THAT(refusedWith("fast_norm", "batchnorm"),
               Catch::Contains("expected layernorm or rmsnorm"));
    CHECK_THAT(refusedWith("backbone_arch", "llama"),
               Catch::Contains("backbone_arch is \"llama\""));
    CHECK_THAT(refusedWith("ttt_width", 0), Catch::Contains("ttt_width must be a positive"));
    CHECK_THAT(refusedWith("base_lr", "fast"), Catch::Contains("base_lr"));
    CHECK_THAT(refusedWith("backbone_sha256", "xyz"), Catch::Contains("backbone_sha256"));
    CHECK_THAT(refusedWith("update_steps", 0), Catch::Contains("update_steps must be a positive"));
    CHECK_THAT(refusedWith("update_steps", kMaxUpdateSteps + 1),
               Catch::Contains("update_steps must be at most"));
    // Optional: absent is UPDATE_1; a stored run's unreadable ttt.json counts as 1 too.
    auto withSteps = parsed;
    withSteps["update_steps"] = 4;
    CHECK(parseTttConfig(withSteps.dump(), "t").updateSteps == 4);
    CHECK(parseTttConfig(text, "t").updateSteps == 1);
    CHECK(updateStepsOf(withSteps.dump()) == 4);
    CHECK(updateStepsOf("{not json") == 1);
    CHECK(updateStepsOf("") == 1);
    std::ofstream(dir / "ttt.json") << "{not json";
    CHECK_THAT(loadFailure([&] { loadTttConfig(dir / "ttt.json"); }).what,
               Catch::Contains("not valid JSON"));
    // The checkpoint loader reads ttt.json before the weights and reports it the same way.
    std::ofstream(dir / "ttt.safetensors") << "unused";
    CHECK_THAT(loadFailure([&] { loadTttCheckpoint(dir, 1024, "", true); }).what,
               Catch::Contains("not valid JSON"));
    fs::remove_all(dir);
}

TEST_CASE("model: SHA-256 matches the FIPS 180-4 vectors, in memory and streamed from a file",
          "[ttt][sha256]") {
    CHECK(sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const std::string million(1000000, 'a');
    CHECK(sha256Hex(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

    const auto dir = tempDir("sha");
    std::ofstream(dir / "million", std::ios::binary) << million;
    CHECK(sha256FileHex(dir / "million") == sha256Hex(million));
    // Longer than the 1 MiB read buffer, and not a multiple of the 64-byte block.
    std::string big;
    for (int i = 0; i < 3 * (1 << 20) + 77; ++i)
        big += char(i * 31 % 251);
    std::ofstream(dir / "big", std::ios::binary) << big;
    CHECK(sha256FileHex(dir / "big") == sha256Hex(big));
    CHECK_THROWS_AS(sha256FileHex(dir / "absent"), InputError);
    CHECK_THROWS_AS(sha256FileHex(dir), InputError);
    fs::remove_all(dir);
}
