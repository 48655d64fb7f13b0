// LoRA fast-weight layer (algorithm.md §2.7): the forward against a float64 loop reference
// written here from the formulas, causality, the initialisation (B = 0 makes q = v = x), the
// checkpoint round trip with its refusals, and the additive ttt.json fields.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/model/lora_layer_impl.h"
#include "core/model/tensor_convert_impl.h"
#include "core/model/ttt_layer_impl.h"
#include "core/util/errors.h"
#include "core/util/sha256.h"
#include "tests/test_support.h"

// LibTorch pulls in glog, whose one-argument CHECK would replace Catch's (see test_ttt.cpp).
#undef CHECK
#include <catch2/catch.hpp>

using namespace ponder::core;
namespace fs = std::filesystem;

using ponder::testing::loadFailure;

namespace {

constexpr std::int64_t kWidth = 32;

TttConfig loraConfig(std::int64_t rank = 4, double alpha = 8.0, double dropout = 0.1) {
    BackboneInfo backbone;
    backbone.hidden = kWidth;
    auto config = TttConfig::forLora(backbone, rank);
    config.loraAlpha = alpha;
    config.loraDropout = dropout;
    return config;
}

// Published init, then every parameter nudged (non-zero B, non-unit fast_norm) so the checks
// below see all of them.
LoraModel randomModel(const TttConfig& config, std::uint64_t seed = 5,
                      torch::ScalarType dtype = torch::kFloat64) {
    LoraModel model(config);
    model->initialiseWeights(seed);
    torch::NoGradGuard noGrad;
    torch::manual_seed(seed + 1);
    for (auto& p : model->parameters())
        p.add_(torch::randn_like(p) * 0.1);
    model->to(dtype);
    model->eval();
    return model;
}

double maxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

fs::path tempDir(const std::string& name) {
    auto dir =
        fs::temp_directory_path() / ("ponder_lora_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

using Matrix = std::vector<std::vector<double>>;

Matrix matrixOf(const torch::Tensor& t) {  // [rows, cols]
    const auto c = t.detach().to(torch::kFloat64).contiguous();
    Matrix m(c.size(0), std::vector<double>(c.size(1)));
    const auto a = c.accessor<double, 2>();
    for (std::int64_t i = 0; i < c.size(0); ++i)
        for (std::int64_t j = 0; j < c.size(1); ++j)
            m[i][j] = a[i][j];
    return m;
}

std::vector<double> vectorOf(const torch::Tensor& t) {
    const auto c = t.detach().to(torch::kFloat64).contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// W·x for W [out, in].
std::vector<double> matVec(const Matrix& w, const std::vector<double>& x) {
    std::vector<double> out(w.size(), 0.0);
    for (std::size_t o = 0; o < w.size(); ++o)
        for (std::size_t i = 0; i < x.size(); ++i)
            out[o] += w[o][i] * x[i];
    return out;
}

// The parameters of one model, in float64, read by name (design.md §3.1's LoRA names).
struct RefParams {
    std::vector<double> gamma, beta;
    Matrix qA, qB, vA, vB;
    double scale = 1.0, eps = 1e-5;
    bool withLora = true;  // false: q = v = x, whatever A and B hold
};

RefParams refParams(LoraModel& model) {
    auto named = model->named_parameters();
    RefParams p;
    p.gamma = vectorOf(named["fast_norm.weight"]);
    p.beta = vectorOf(named["fast_norm.bias"]);
    p.qA = matrixOf(named["lora.q_lora.lora_A.weight"]);
    p.qB = matrixOf(named["lora.q_lora.lora_B.weight"]);
    p.vA = matrixOf(named["lora.v_lora.lora_A.weight"]);
    p.vB = matrixOf(named["lora.v_lora.lora_B.weight"]);
    const auto& c = model->config();
    p.scale = c.loraAlphaValue() / double(c.loraRank);
    p.eps = c.lnEps;
    return p;
}

// algorithm.md §2.7 in plain loops: x = LN(h), q = x + B_q A_q x · α/r, k = x,
// v = x + B_v A_v x · α/r, w_t = softmax_{u ≤ t}(q_t · x_u / √D), h'_t = h_t + Σ_u w_tu v_u.
torch::Tensor referenceHidden(const torch::Tensor& h, const RefParams& p) {
    const auto batch = h.size(0), length = h.size(1), width = h.size(2);
    const auto hd = h.to(torch::kFloat64).contiguous();
    const auto ha = hd.accessor<double, 3>();
    auto out = torch::zeros_like(hd);
    auto oa = out.accessor<double, 3>();
    for (std::int64_t b = 0; b < batch; ++b) {
        std::vector<std::vector<double>> x(length), q(length), v(length);
        for (std::int64_t t = 0; t < length; ++t) {
            double mean = 0.0, var = 0.0;
            for (std::int64_t i = 0; i < width; ++i)
                mean += ha[b][t][i] / double(width);
            for (std::int64_t i = 0; i < width; ++i)
                var += (ha[b][t][i] - mean) * (ha[b][t][i] - mean) / double(width);
            x[t].resize(width);
            for (std::int64_t i = 0; i < width; ++i)
                x[t][i] = (ha[b][t][i] - mean) / std::sqrt(var + p.eps) * p.gamma[i] + p.beta[i];
            q[t] = x[t];
            v[t] = x[t];
            if (p.withLora) {
                const auto qd = matVec(p.qB, matVec(p.qA, x[t]));
                const auto vd = matVec(p.vB, matVec(p.vA, x[t]));
                for (std::int64_t i = 0; i < width; ++i) {
                    q[t][i] += qd[i] * p.scale;
                    v[t][i] += vd[i] * p.scale;
                }
            }
        }
        for (std::int64_t t = 0; t < length; ++t) {
            std::vector<double> scores(t + 1);
            double top = -INFINITY;
            for (std::int64_t u = 0; u <= t; ++u) {
                double s = 0.0;
                for (std::int64_t i = 0; i < width; ++i)
                    s += q[t][i] * x[u][i];
                scores[u] = s / std::sqrt(double(width));
                top = std::max(top, scores[u]);
            }
            double total = 0.0;
            for (auto& s : scores)
                total += (s = std::exp(s - top));
            for (std::int64_t i = 0; i < width; ++i) {
                double y = 0.0;
                for (std::int64_t u = 0; u <= t; ++u)
                    y += scores[u] / total * v[u][i];
                oa[b][t][i] = ha[b][t][i] + y;
            }
        }
    }
    return out;
}

}  // namespace

TEST_CASE("model: LoRA forward equals a float64 loop reference, in float32 and streamed too",
          "[lora]") {
    torch::NoGradGuard noGrad;
    for (const std::string norm : {"layernorm", "rmsnorm"}) {
        auto config = loraConfig();
        if (norm == "rmsnorm") {
            config.fastNorm = "rmsnorm";
            config.fastNormEps = 1e-6;
        }
        auto model = randomModel(config);
        torch::manual_seed(3);
        const auto h = torch::randn({2, 24, kWidth}, torch::kFloat64) * 2.0;
        const auto out = model->forward(h);
        CHECK(out.hidden.sizes() == h.sizes());
        if (norm == "layernorm") {
            const auto expected = referenceHidden(h, refParams(model));
            CHECK(maxAbsDiff(out.hidden, expected) < 1e-12);
            // Monitoring values per sequence: ‖y‖ and an entropy between 0 and log(T).
            const auto y = expected - h;
            CHECK(maxAbsDiff(out.stats.outputNorm, y.flatten(1).norm(2, 1)) < 1e-10);
            CHECK(out.stats.qDeltaNorm.sizes() == torch::IntArrayRef({2}));
            CHECK((out.stats.qDeltaNorm > 0).all().item<bool>());
            CHECK((out.stats.attnEntropy > 0).all().item<bool>());
            CHECK((out.stats.attnEntropy < std::log(24.0)).all().item<bool>());
        } else {
            // Gemma's RMS fast norm: x = h / rms(h) · (1 + w).
            auto named = model->named_parameters();
            const auto x = h * torch::rsqrt(h.pow(2).mean(-1, true) + 1e-6) *
                           (1.0 + named["fast_norm.weight"]);
            const auto layerOut = model->layer()->forward(x);
            CHECK(maxAbsDiff(out.hidden, h + layerOut.y) < 1e-12);
        }

        // Float32 agrees with float64.
        auto single = randomModel(config, 5, torch::kFloat32);
        CHECK(maxAbsDiff(single->forward(h.to(torch::kFloat32)).hidden, out.hidden) < 1e-4);

        // Streaming token by token gives forward()'s rows.
        auto state = model->startStream();
        for (std::int64_t t = 0; t < h.size(1); ++t) {
            const auto row = model->streamStep(state, h[1][t].unsqueeze(0));
            CHECK(maxAbsDiff(row, out.hidden[1][t].unsqueeze(0)) < 1e-12);
        }
        CHECK(state.position == h.size(1));
    }

    // Any length, positions only checked.
    auto model = randomModel(loraConfig());
    const auto h = torch::randn({1, 7, kWidth}, torch::kFloat64);
    CHECK(torch::equal(model->forward(h, torch::arange(7)).hidden, model->forward(h).hidden));
    CHECK_THROWS_WITH(model->forward(h, torch::arange(6)), Catch::Contains("positions"));
    CHECK_THROWS_WITH(model->forward(torch::randn({1, 7, 16}, torch::kFloat64)),
                      Catch::Contains("[batch, tokens >= 1, 32]"));
}

TEST_CASE(
    "model: LoRA dropout acts on A(x) in training mode only, and gradients reach every "
    "parameter",
    "[lora]") {
    const auto h = torch::randn({2, 16, kWidth}, torch::kFloat64);
    auto model = randomModel(loraConfig(4, 8.0, 0.5));
    const auto evalOut = model->forward(h).hidden;
    CHECK(torch::equal(evalOut, model->forward(h).hidden));
    model->train();
    torch::manual_seed(11);
    const auto trainOut = model->forward(h).hidden;
    CHECK(maxAbsDiff(trainOut, evalOut) > 1e-6);
    // Dropout rate 0: training mode computes what evaluation does.
    auto noDropout = randomModel(loraConfig(4, 8.0, 0.0));
    const auto reference = noDropout->forward(h).hidden;
    noDropout->train();
    CHECK(torch::equal(noDropout->forward(h).hidden, reference));

    // Dropout zeroes whole entries of A(x), scaled by 1/(1-p), each adapter its own mask.
    LoraLinear adapter(kWidth, 4, 4.0, 0.5);
    adapter->to(torch::kFloat64);
    {
        torch::NoGradGuard noGrad;
        adapter->lora_B->weight.copy_(torch::eye(kWidth, 4, torch::kFloat64));
    }
    adapter->train();
    const auto x = torch::randn({64, kWidth}, torch::kFloat64);
    const auto down = torch::matmul(x, adapter->lora_A->weight.t());
    const auto up = adapter->forward(x).detach().slice(1, 0, 4);  // B = eye: rows 0..3 = A(x)
    const auto kept = up.abs() > 0;
    CHECK(maxAbsDiff(torch::where(kept, up, torch::zeros_like(up)),
                     torch::where(kept, down * 2.0, torch::zeros_like(down))) < 1e-12);
    const auto keptShare = kept.to(torch::kFloat64).mean().item<double>();
    CHECK(keptShare > 0.3);
    CHECK(keptShare < 0.7);

    model->eval();
    for (auto& p : model->parameters())
        p.mutable_grad() = torch::Tensor();
    model->forward(h).hidden.pow(2).sum().backward();
    for (const auto& item : model->named_parameters()) {
        INFO(item.key());
        REQUIRE(item.value().grad().defined());
        CHECK(item.value().grad().abs().sum().item<double>() > 0);
    }
}

TEST_CASE("model: LoRA is causal: outputs 0..t never depend on tokens after t", "[lora]") {
    torch::NoGradGuard noGrad;
    auto model = randomModel(loraConfig());
    torch::manual_seed(7);
    const auto h = torch::randn({2, 20, kWidth}, torch::kFloat64);
    const auto base = model->forward(h).hidden;
    for (std::int64_t t : {0, 5, 18}) {
        auto changed = h.clone();
        changed.slice(1, t + 1) = torch::randn_like(changed.slice(1, t + 1)) * 3.0;
        const auto later = model->forward(changed).hidden;
        INFO("t = " << t);
        CHECK(maxAbsDiff(later.slice(1, 0, t + 1), base.slice(1, 0, t + 1)) < 1e-13);
        if (t + 1 < h.size(1))
            CHECK(maxAbsDiff(later.slice(1, t + 1), base.slice(1, t + 1)) > 1e-3);
        // Token t itself changes output t (and the later outputs that attend to it).
        auto own = h.clone();
        own[0][t] = torch::randn({kWidth}, torch::kFloat64) * 3.0;
        const auto mine = model->forward(own).hidden;
        CHECK(maxAbsDiff(mine[0][t], base[0][t]) > 1e-3);
        if (t > 0) CHECK(maxAbsDiff(mine.slice(1, 0, t), base.slice(1, 0, t)) < 1e-13);
        CHECK(torch::equal(mine[1], base[1]));  // sequences stay independent
    }
}

TEST_CASE("model: LoRA init: B = 0 makes q = v = x, A ~ N(0, 0.02), one seed one layer", "[lora]") {
    torch::NoGradGuard noGrad;
    BackboneInfo backbone;
    backbone.hidden = 64;
    const auto config = TttConfig::forLora(backbone, 16);
    LoraModel model(config);
    model->to(torch::kFloat64);
    model->initialiseWeights(42);
    auto named = model->named_parameters();
    for (const char* adapter : {"q_lora", "v_lora"}) {
        const auto prefix = std::string("lora.") + adapter;
        const auto a = named[prefix + ".lora_A.weight"];
        CHECK(torch::equal(named[prefix + ".lora_B.weight"], torch::zeros({64, 16}, a.options())));
        CHECK(std::abs(a.mean().item<double>()) < 0.003);
        CHECK(std::abs(a.std().item<double>() - 0.02) < 0.002);
    }
    CHECK(!torch::equal(named["lora.q_lora.lora_A.weight"], named["lora.v_lora.lora_A.weight"]));
    CHECK(torch::equal(named["fast_norm.weight"], torch::ones({64}, torch::kFloat64)));
    CHECK(torch::equal(named["fast_norm.bias"], torch::zeros({64}, torch::kFloat64)));

    // Zero deltas, so the layer is plain causal attention over x: softmax(x xᵀ/√D) x.
    const auto h = torch::randn({2, 12, 64}, torch::kFloat64);
    const auto x = torch::layer_norm(h, {64}, {}, {}, 1e-5);
    CHECK(model->layer()->q_lora->forward(x).abs().max().item<double>() == 0.0);
    CHECK(model->layer()->v_lora->forward(x).abs().max().item<double>() == 0.0);
    auto params = refParams(model);
    params.withLora = false;
    const auto out = model->forward(h);
    CHECK(maxAbsDiff(out.hidden, referenceHidden(h, params)) < 1e-12);
    CHECK(out.stats.qDeltaNorm.abs().max().item<double>() == 0.0);
    CHECK(maxAbsDiff(out.hidden, h) > 1e-3);  // UPDATE != SKIP at init, unlike TTT-Linear

    // The same seed gives the same layer in float32 (draws made in float64, then copied).
    LoraModel single(config);
    single->initialiseWeights(42);
    for (const auto& item : single->named_parameters())
        CHECK(torch::equal(item.value(), named[item.key()].to(torch::kFloat32)));
    LoraModel other(config);
    other->initialiseWeights(43);
    CHECK(!torch::equal(other->named_parameters()["lora.q_lora.lora_A.weight"],
                        single->named_parameters()["lora.q_lora.lora_A.weight"]));

    CHECK_THROWS_WITH(LoraModel(TttConfig::forBackbone(64)), Catch::Contains("fast_weights"));
    auto badRank = config;
    badRank.loraRank = 0;
    CHECK_THROWS_WITH(LoraModel(badRank), Catch::Contains("lora_rank"));
}

TEST_CASE("model: LoRA checkpoints round-trip and are refused for another backbone", "[lora][io]") {
    torch::NoGradGuard noGrad;
    const auto dir = tempDir("roundtrip");
    auto config = loraConfig(4, 8.0, 0.2);
    config.backboneSha256 = sha256Hex("backbone A");
    auto model = randomModel(config, 41, torch::kFloat32);
    saveLoraCheckpoint(model, dir);

    // design.md §3.1's LoRA names and shapes.
    const std::map<std::string, std::vector<std::int64_t>> expected = {
        {"fast_norm.weight", {32}},
        {"fast_norm.bias", {32}},
        {"lora.q_lora.lora_A.weight", {4, 32}},
        {"lora.q_lora.lora_B.weight", {32, 4}},
        {"lora.v_lora.lora_A.weight", {4, 32}},
        {"lora.v_lora.lora_B.weight", {32, 4}}};
    std::map<std::string, std::vector<std::int64_t>> stored;
    const auto file = SafetensorsFile::open(dir / "ttt.safetensors");
    for (const auto& t : file.tensors())
        stored[t.name] = t.shape;
    CHECK(stored == expected);
    CHECK(isLoraCheckpoint(dir));

    BackboneInfo backbone;
    backbone.hidden = kWidth;
    const auto h = torch::randn({2, 16, kWidth});
    const auto before = model->forward(h).hidden;
    auto loaded = loadLoraCheckpoint(dir, backbone, config.backboneSha256, false);
    CHECK(loaded->config().loraRank == 4);
    CHECK(loaded->config().loraAlphaValue() == 8.0);
    CHECK(loaded->config().loraDropout == 0.2);
    CHECK(!loaded->is_training());
    CHECK(torch::equal(loaded->forward(h).hidden, before));

    const auto other = sha256Hex("backbone B");
    const auto refused = loadFailure([&] { loadLoraCheckpoint(dir, backbone, other, false); });
    CHECK_THAT(refused.what, Catch::Contains("checkpoint was trained for another backbone") &&
                                 Catch::Contains(config.backboneSha256.substr(0, 12)) &&
                                 Catch::Contains(other.substr(0, 12)));
    CHECK_THAT(refused.hint, Catch::Contains("--force-checkpoint"));
    CHECK(torch::equal(loadLoraCheckpoint(dir, backbone, other, true)->forward(h).hidden, before));

    auto wider = backbone;
    wider.hidden = 64;
    CHECK_THAT(
        loadFailure([&] { loadLoraCheckpoint(dir, wider, config.backboneSha256, true); }).what,
        Catch::Contains("hidden 32") && Catch::Contains("width is 64"));
    auto gemma = backbone;
    gemma.arch = kArchGemma3;
    CHECK_THAT(
        loadFailure([&] { loadLoraCheckpoint(dir, gemma, config.backboneSha256, true); }).what,
        Catch::Contains("made for a gpt2 backbone"));
    const auto missing =
        loadFailure([&] { loadLoraCheckpoint(dir / "nowhere", backbone, "", false); });
    CHECK_THAT(missing.what, Catch::Contains("no LoRA checkpoint"));
    CHECK(!isLoraCheckpoint(dir / "nowhere"));

    // Tensors: missing, misshapen, unexpected, non-finite.
    const auto withChange = [&](const std::string& drop, const std::string& addName,
                                const torch::Tensor& addValue) {
        NamedTensors tensors;
        for (const auto& item : model->named_parameters())
            if (item.key() != drop) tensors.emplace_back(item.key(), item.value());
        if (!addName.empty()) tensors.emplace_back(addName, addValue);
        saveTensors(dir / "ttt.safetensors", tensors);
        return loadFailure([&] { loadLoraCheckpoint(dir, backbone, "", true); }).what;
    };
    CHECK(withChange("", "", {}).empty());
    CHECK_THAT(withChange("lora.v_lora.lora_B.weight", "", {}),
               Catch::Contains("missing tensor 'lora.v_lora.lora_B.weight'"));
    CHECK_THAT(
        withChange("lora.q_lora.lora_A.weight", "lora.q_lora.lora_A.weight", torch::zeros({8, 32})),
        Catch::Contains("'lora.q_lora.lora_A.weight'") && Catch::Contains("shape"));
    CHECK_THAT(withChange("", "ttt.W0", torch::zeros({2})),
               Catch::Contains("unexpected tensor 'ttt.W0'"));
    auto poisoned = model->named_parameters()["fast_norm.bias"].clone();
    poisoned[3] = std::nan("");
    CHECK_THAT(withChange("fast_norm.bias", "fast_norm.bias", poisoned),
               Catch::Contains("'fast_norm.bias'") && Catch::Contains("NaN"));

    // A TTT-Linear checkpoint is not a LoRA one, and the other way round.
    const auto tttDir = tempDir("ttt");
    TttConfig tttConfig = TttConfig::forBackbone(kWidth);
    TttModel ttt(tttConfig);
    ttt->initialiseWeights(1);
    saveTttCheckpoint(ttt, tttDir);
    CHECK(!isLoraCheckpoint(tttDir));
    CHECK_THAT(loadFailure([&] { loadLoraCheckpoint(tttDir, backbone, "", true); }).what,
               Catch::Contains("holds a ttt-linear layer, not a LoRA one"));
    std::ofstream(tttDir / "ttt.json") << "{not json";
    CHECK_THROWS_AS(isLoraCheckpoint(tttDir), ModelLoadError);
    fs::remove_all(tttDir);
    fs::remove_all(dir);
}

TEST_CASE(
    "model: ttt.json fast_weights: LoRA fields round-trip, defaults, validation, and "
    "TTT-Linear files unchanged",
    "[lora][io]") {
    // A TTT-Linear config writes none of the new fields: the committed default model's
    // ttt.json comes back byte for byte.
    const fs::path committed = fs::path(PONDER_SOURCE_DIR) / "assets/default-model/ttt.json";
    std::ifstream in(committed, std::ios::binary);
    const std::string committedText((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
    REQUIRE(!committedText.empty());
    const auto tttConfig = parseTttConfig(committedText, "default model");
    CHECK(tttConfig.fastWeights == "ttt-linear");
    CHECK(!tttConfig.isLora());
    CHECK(tttConfigJson(tttConfig) == committedText);
    CHECK(tttConfigJson(TttConfig::forBackbone(768)).find("fast_weights") == std::string::npos);
    CHECK(tttConfigJson(TttConfig::forBackbone(768)).find("lora") == std::string::npos);

    // LoRA: the three fields follow fast_weights at the end, after the TTT-Linear ones.
    auto config = loraConfig(8, 16.0, 0.05);
    config.backboneSha256 = sha256Hex("x");
    const auto text = tttConfigJson(config);
    const auto parsed = nlohmann::ordered_json::parse(text);
    std::vector<std::string> keys;
    for (const auto& item : parsed.items())
        keys.push_back(item.key());
    const std::vector<std::string> tail(keys.end() - 4, keys.end());
    CHECK(tail ==
          std::vector<std::string>{"fast_weights", "lora_rank", "lora_alpha", "lora_dropout"});
    CHECK(parsed["fast_weights"] == "lora");
    CHECK(parsed["lora_rank"] == 8);
    CHECK(parsed["lora_alpha"] == 16.0);
    CHECK(parsed["lora_dropout"] == 0.05);
    const auto back = parseTttConfig(text, "t");
    CHECK(back.isLora());
    CHECK(back.loraRank == 8);
    CHECK(back.loraAlphaValue() == 16.0);
    CHECK(back.loraDropout == 0.05);
    CHECK(tttConfigJson(back) == text);

    // Defaults: rank 64, α = rank, dropout 0.1; a struct α of 0 is written as the rank.
    const auto edited = [&](const std::map<std::string, nlohmann::json>& changes) {
        auto json = nlohmann::json::parse(text);
        for (const auto& [key, value] : changes) {
            if (value.is_null())
                json.erase(key);
            else
                json[key] = value;
        }
        return json.dump();
    };
    const auto defaults = parseTttConfig(
        edited({{"lora_rank", nullptr}, {"lora_alpha", nullptr}, {"lora_dropout", nullptr}}), "t");
    CHECK(defaults.loraRank == 64);
    CHECK(defaults.loraAlphaValue() == 64.0);
    CHECK(defaults.loraDropout == 0.1);
    CHECK(parseTttConfig(edited({{"lora_alpha", nullptr}}), "t").loraAlphaValue() == 8.0);
    auto unset = config;
    unset.loraAlpha = 0.0;
    CHECK(nlohmann::json::parse(tttConfigJson(unset))["lora_alpha"] == 8.0);
    BackboneInfo backbone;
    backbone.hidden = 768;
    const auto published = TttConfig::forLora(backbone);
    CHECK(published.loraRank == 64);
    CHECK(published.loraAlphaValue() == 64.0);
    CHECK(published.loraDropout == 0.1);
    CHECK(published.fastNorm == "layernorm");

    const auto refusal = [&](const std::map<std::string, nlohmann::json>& changes) {
        return loadFailure([&] { parseTttConfig(edited(changes), "t"); }).what;
    };
    CHECK(refusal({}).empty());
    CHECK_THAT(refusal({{"fast_weights", "adapter"}}),
               Catch::Contains("fast_weights is \"adapter\", expected \"ttt-linear\" or \"lora\""));
    CHECK_THAT(refusal({{"lora_rank", 0}}),
               Catch::Contains("lora_rank must be a positive integer"));
    CHECK_THAT(refusal({{"lora_rank", 2.5}}),
               Catch::Contains("lora_rank must be a positive integer"));
    CHECK_THAT(refusal({{"lora_alpha", 0.0}}), Catch::Contains("lora_alpha must be positive"));
    CHECK_THAT(refusal({{"lora_alpha", -4}}), Catch::Contains("lora_alpha must be positive"));
    CHECK_THAT(refusal({{"lora_alpha", "big"}}),
               Catch::Contains("lora_alpha must be a finite number"));
    CHECK_THAT(refusal({{"lora_dropout", 1.0}}), Catch::Contains("lora_dropout must be in [0, 1)"));
    CHECK_THAT(refusal({{"lora_dropout", -0.1}}),
               Catch::Contains("lora_dropout must be in [0, 1)"));
    CHECK(refusal({{"lora_dropout", 0.0}}).empty());
    CHECK_THAT(refusal({{"ttt_width", 16}}), Catch::Contains("ttt_width is not supported"));
    // LoRA fields without fast_weights "lora" are a mistake, not silently ignored.
    CHECK_THAT(refusal({{"fast_weights", nullptr}}),
               Catch::Contains("lora_rank is only used with fast_weights \"lora\""));
    CHECK(parseTttConfig(edited({{"fast_weights", "ttt-linear"},
                                 {"lora_rank", nullptr},
                                 {"lora_alpha", nullptr},
                                 {"lora_dropout", nullptr}}),
                         "t")
              .fastWeights == "ttt-linear");
}
