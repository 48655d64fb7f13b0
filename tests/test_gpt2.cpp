// GPT-2 in LibTorch: agreement with an independent float64 reference written here with plain
// per-position loops, causality, batch invariance, determinism, and HF-layout weight I/O
// with named errors for every mismatch.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <unistd.h>

#include "core/model/backbone_impl.h"
#include "core/model/gpt2_model_impl.h"
#include "core/model/hashed_dropout_impl.h"
#include "core/model/model_dir.h"
#include "core/model/tensor_convert_impl.h"
#include "core/runtime/cpu_allocator_impl.h"
#include "core/util/errors.h"

// LibTorch pulls in glog, whose one-argument CHECK (abort on failure, never counted) would
// replace Catch's; so Torch comes first and Catch's CHECK is the one left defined.
#undef CHECK
#include <catch2/catch.hpp>

using namespace ponder::core;
namespace fs = std::filesystem;

namespace {

Gpt2Config tinyConfig() {
    Gpt2Config config;
    config.vocabSize = 97;
    config.nPositions = 64;
    config.nEmbd = 32;
    config.nLayer = 2;
    config.nHead = 4;
    return config;
}

Gpt2Model tinyModel(std::uint64_t seed = 7, bool tied = true) {
    Gpt2Model model(tinyConfig(), tied);
    model->initialiseWeights(seed);
    // Non-trivial norms and biases, so the reference checks them too.
    torch::NoGradGuard noGrad;
    torch::manual_seed(seed + 1);
    for (auto& p : model->parameters())
        if (p.dim() == 1) p.add_(torch::randn_like(p) * 0.1);
    model->eval();
    return model;
}

fs::path tempDir(const std::string& name) {
    auto dir =
        fs::temp_directory_path() / ("ponder_gpt2_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

// Independent reference: float64, explicit loops over positions and heads, LayerNorm and the
// tanh-GELU written out, attention as a softmax over keys 0..t only (no mask matrix).
struct Reference {
    std::map<std::string, torch::Tensor> w;
    Gpt2Config c;

    explicit Reference(Gpt2Model& model) : c(model->config()) {
        for (const auto& item : model->named_parameters())
            w[item.key()] = item.value().detach().to(torch::kFloat64).clone();
    }
    torch::Tensor layerNorm(const torch::Tensor& x, const std::string& name) const {
        const auto mean = x.mean(-1, true);
        const auto var = (x - mean).pow(2).mean(-1, true);
        return (x - mean) / (var + c.layerNormEpsilon).sqrt() * w.at(name + ".weight") +
               w.at(name + ".bias");
    }
    torch::Tensor conv1d(const torch::Tensor& x, const std::string& name) const {
        return x.matmul(w.at(name + ".weight")) + w.at(name + ".bias");
    }
    static torch::Tensor gelu(const torch::Tensor& x) {
        return 0.5 * x * (1.0 + torch::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x.pow(3))));
    }
    // ids: [T] -> hidden [T, D]
    torch::Tensor hidden(const torch::Tensor& ids) const {
        const auto length = ids.size(0);
        const auto d = c.nEmbd, hd = c.headDim();
        auto x = w.at("wte.weight").index_select(0, ids) + w.at("wpe.weight").slice(0, 0, length);
        for (std::int64_t layer = 0; layer < c.nLayer; ++layer) {
            const std::string p = "h." + std::to_string(layer) + ".";
            const auto qkv = conv1d(layerNorm(x, p + "ln_1"), p + "attn.c_attn");
            auto attended = torch::zeros({length, d}, torch::kFloat64);
            for (std::int64_t h = 0; h < c.nHead; ++h) {
                const auto q = qkv.slice(1, h * hd, (h + 1) * hd);
                const auto k = qkv.slice(1, d + h * hd, d + (h + 1) * hd);
                const auto v = qkv.slice(1, 2 * d + h * hd, 2 * d + (h + 1) * hd);
                for (std::int64_t t = 0; t < length; ++t) {
                    const auto scores = k.slice(0, 0, t + 1).matmul(q[t]) / std::sqrt(double(hd));
                    const auto e = (scores - scores.max()).exp();
                    const auto probs = e / e.sum();
                    attended[t].slice(0, h * hd, (h + 1) * hd) = probs.matmul(v.slice(0, 0, t + 1));
                }
            }
            x = x + conv1d(attended, p + "attn.c_proj");
            const auto m = gelu(conv1d(layerNorm(x, p + "ln_2"), p + "mlp.c_fc"));
            x = x + conv1d(m, p + "mlp.c_proj");
        }
        return layerNorm(x, "ln_f");
    }
};

double maxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

torch::Tensor randomIds(std::int64_t batch, std::int64_t length, std::uint64_t seed) {
    torch::manual_seed(seed);
    return torch::randint(tinyConfig().vocabSize, {batch, length}, torch::kInt64);
}

}  // namespace

TEST_CASE("model: GPT-2 hidden states and logits match an independent float64 reference",
          "[gpt2]") {
    torch::NoGradGuard noGrad;
    auto model = tinyModel();
    const Reference reference(model);
    const auto ids = randomIds(1, 40, 3);
    const auto hidden = model->hidden(ids)[0];
    const auto expected = reference.hidden(ids[0]);
    const double hiddenDiff = maxAbsDiff(hidden, expected);
    const double logitDiff =
        maxAbsDiff(model->logits(hidden), expected.matmul(reference.w.at("wte.weight").t()));
    WARN("largest difference vs reference: hidden " << hiddenDiff << ", logits " << logitDiff);
    CHECK(hiddenDiff < 1e-4);
    CHECK(logitDiff < 1e-4);
}

TEST_CASE("model: changing tokens after position t never changes outputs at positions <= t",
          "[gpt2]") {
    torch::NoGradGuard noGrad;
    auto model = tinyModel();
    const auto ids = randomIds(1, 48, 4);
    const auto base = model->forward(ids);
    for (std::int64_t t : {0, 11, 30, 46}) {
        auto changed = ids.clone();
        changed.slice(1, t + 1) = (changed.slice(1, t + 1) + 1) % tinyConfig().vocabSize;
        const auto out = model->forward(changed);
        INFO("t = " << t);
        CHECK(maxAbsDiff(out.slice(1, 0, t + 1), base.slice(1, 0, t + 1)) < 1e-6);
        CHECK(maxAbsDiff(out.slice(1, t + 1), base.slice(1, t + 1)) > 1e-4);
    }
}

TEST_CASE("model: each sequence's output is independent of its batch and runs are deterministic",
          "[gpt2]") {
    torch::NoGradGuard noGrad;
    auto model = tinyModel();
    const auto ids = randomIds(3, 32, 5);
    const auto batched = model->forward(ids);
    for (std::int64_t b = 0; b < 3; ++b)
        CHECK(maxAbsDiff(batched[b], model->forward(ids.slice(0, b, b + 1))[0]) < 1e-5);
    CHECK(torch::equal(batched, model->forward(ids)));
}

TEST_CASE("model: explicit position ids select rows of wpe (local positions per chunk)", "[gpt2]") {
    torch::NoGradGuard noGrad;
    auto model = tinyModel();
    const auto ids = randomIds(1, 16, 6);
    const auto local = torch::arange(16, torch::kInt64);
    CHECK(torch::equal(model->hidden(ids), model->hidden(ids, local)));
    CHECK(maxAbsDiff(model->hidden(ids), model->hidden(ids, local + 16)) > 1e-3);
}

TEST_CASE("model: weights are saved in HF layout and load back to identical outputs",
          "[gpt2][io]") {
    torch::NoGradGuard noGrad;
    const auto dir = tempDir("roundtrip");
    auto model = tinyModel();
    saveGpt2Config(model->config(), dir / "config.json");
    saveGpt2Weights(model, dir / "model.safetensors");

    const auto file = SafetensorsFile::open(dir / "model.safetensors");
    std::set<std::string> names;
    for (const auto& t : file.tensors())
        names.insert(t.name);
    CHECK(names.count("wte.weight"));
    CHECK(names.count("h.1.attn.c_attn.weight"));
    CHECK(names.count("h.0.mlp.c_proj.bias"));
    CHECK(names.count("ln_f.weight"));
    CHECK_FALSE(names.count("lm_head.weight"));           // tied heads are not stored
    const std::vector<std::int64_t> conv1dShape{32, 96};  // HF Conv1D layout [in, out]
    CHECK(file.find("h.0.attn.c_attn.weight")->shape == conv1dShape);
    CHECK(names.size() == 2 + 2 * 12 + 2);

    auto loaded = loadGpt2(dir);
    const auto ids = randomIds(2, 20, 8);
    CHECK(torch::equal(model->forward(ids), loaded->forward(ids)));
    CHECK(loaded->tiedLmHead());
    fs::remove_all(dir);
}

TEST_CASE(
    "model: the loader accepts the transformer. prefix, F16 storage and explicit or copied heads",
    "[gpt2][io]") {
    torch::NoGradGuard noGrad;
    const auto dir = tempDir("variants");
    auto model = tinyModel();
    saveGpt2Config(model->config(), dir / "config.json");
    const auto ids = randomIds(1, 24, 9);
    const auto expected = model->forward(ids);

    NamedTensors prefixed;
    for (const auto& item : model->named_parameters())
        prefixed.emplace_back("transformer." + item.key(), item.value());
    prefixed.emplace_back("transformer.h.0.attn.bias", torch::ones({1, 1, 64, 64}));  // HF buffer
    saveTensors(dir / "model.safetensors", prefixed);
    CHECK(torch::equal(loadGpt2(dir)->forward(ids), expected));

    NamedTensors half;
    for (const auto& item : model->named_parameters())
        half.emplace_back(item.key(), item.value().to(torch::kFloat16));
    saveTensors(dir / "model.safetensors", half);
    CHECK(maxAbsDiff(loadGpt2(dir)->forward(ids), expected) < 0.05);

    NamedTensors copiedHead = prefixed;
    copiedHead.emplace_back("lm_head.weight", model->tokenEmbedding());
    saveTensors(dir / "model.safetensors", copiedHead);
    CHECK(loadGpt2(dir)->tiedLmHead());

    NamedTensors ownHead = prefixed;
    const auto head = torch::randn({97, 32});
    ownHead.emplace_back("lm_head.weight", head);
    saveTensors(dir / "model.safetensors", ownHead);
    auto untied = loadGpt2(dir);
    CHECK_FALSE(untied->tiedLmHead());
    const auto hidden = untied->hidden(ids);
    CHECK(maxAbsDiff(untied->logits(hidden), torch::matmul(hidden, head.t())) < 1e-5);
    fs::remove_all(dir);
}

TEST_CASE("model: missing, misshapen, unexpected, non-float or non-finite tensors are named",
          "[gpt2][io]") {
    torch::NoGradGuard noGrad;
    const auto dir = tempDir("errors");
    auto model = tinyModel();
    saveGpt2Config(model->config(), dir / "config.json");
    const auto withChange = [&](const std::string& drop, const std::string& addName,
                                const torch::Tensor& addValue) {
        NamedTensors tensors;
        for (const auto& item : model->named_parameters())
            if (item.key() != drop) tensors.emplace_back(item.key(), item.value());
        if (!addName.empty()) tensors.emplace_back(addName, addValue);
        saveTensors(dir / "model.safetensors", tensors);
        try {
            loadGpt2(dir);
        } catch (const ModelLoadError& error) {
            return std::string(error.what());
        }
        return std::string();
    };
    CHECK_THAT(withChange("h.1.mlp.c_fc.bias", "", {}),
               Catch::Contains("missing tensor 'h.1.mlp.c_fc.bias'"));
    CHECK_THAT(withChange("h.0.ln_2.weight", "h.0.ln_2.weight", torch::ones({31})),
               Catch::Contains("'h.0.ln_2.weight'") && Catch::Contains("shape"));
    CHECK_THAT(withChange("", "h.2.ln_1.weight", torch::ones({32})),
               Catch::Contains("unexpected tensor 'h.2.ln_1.weight'"));
    CHECK_THAT(withChange("wpe.weight", "wpe.weight", torch::zeros({64, 32}, torch::kInt64)),
               Catch::Contains("'wpe.weight'") && Catch::Contains("I64"));
    auto poisoned = model->named_parameters()["ln_f.bias"].clone();
    poisoned[3] = std::nan("");
    CHECK_THAT(withChange("ln_f.bias", "ln_f.bias", poisoned),
               Catch::Contains("'ln_f.bias'") && Catch::Contains("NaN"));

    // A truncated weights file and a broken config are refused with their own error types.
    const auto full = withChange("", "", {});
    REQUIRE(full.empty());
    fs::resize_file(dir / "model.safetensors", fs::file_size(dir / "model.safetensors") - 100);
    CHECK_THROWS_AS(loadGpt2(dir), WeightsFormatError);
    std::ofstream(dir / "config.json") << R"({"n_embd": 32, "n_layer": 2, "n_head": 4})";
    CHECK_THROWS_WITH(loadGpt2(dir), Catch::Contains("vocab_size"));
    std::ofstream(dir / "config.json")
        << R"({"vocab_size": 97, "n_positions": 64, "n_embd": 30, "n_layer": 2, "n_head": 4})";
    CHECK_THROWS_WITH(loadGpt2(dir), Catch::Contains("not divisible"));
    fs::remove_all(dir);
}

TEST_CASE(
    "model: a bfloat16 GPT-2 computes in bfloat16, returns float32, stays causal and loads "
    "so with --dtype bf16",
    "[gpt2][bf16]") {
    torch::NoGradGuard noGrad;
    auto f32 = tinyModel();
    auto bf16 = tinyModel();
    bf16->to(torch::kBFloat16);
    const auto ids = randomIds(2, 48, 5);
    const auto hidden32 = f32->hidden(ids), hidden16 = bf16->hidden(ids);
    CHECK(bf16->tokenEmbedding().scalar_type() == torch::kBFloat16);
    CHECK(hidden16.scalar_type() == torch::kFloat32);  // the TTT layer reads float32
    const auto logits32 = f32->logits(hidden32), logits16 = bf16->logits(hidden16);
    CHECK(logits16.scalar_type() == torch::kFloat32);
    // 8 mantissa bits: about 0.4% per rounding, a few of them along the way.
    const double hiddenRel = maxAbsDiff(hidden16, hidden32) / hidden32.abs().max().item<double>();
    const auto ce = [&](const torch::Tensor& logits) {
        return torch::nn::functional::cross_entropy(
                   logits.narrow(1, 0, 47).reshape({-1, tinyConfig().vocabSize}),
                   ids.narrow(1, 1, 47).reshape({-1}))
            .item<double>();
    };
    const double lossRel = std::abs(ce(logits16) - ce(logits32)) / ce(logits32);
    WARN("bf16 vs f32: hidden " << hiddenRel << " of its largest value, CE " << lossRel);
    CHECK(hiddenRel < 5e-2);
    CHECK(lossRel < 1e-2);
    CHECK(hiddenRel > 0.0);  // it did compute in bfloat16

    auto changed = ids.clone();
    changed.slice(1, 30) = (changed.slice(1, 30) + 1) % tinyConfig().vocabSize;
    CHECK(torch::equal(bf16->hidden(changed).narrow(1, 0, 30), hidden16.narrow(1, 0, 30)));

    const auto dir = tempDir("bf16");
    TestModelOptions options;
    options.layers = 2, options.embd = 32, options.heads = 2, options.positions = 64;
    makeTestModel(dir, options);
    const auto loaded = loadBackbone(dir, torch::kCPU, true);
    const auto reference = loadBackbone(dir, torch::kCPU, false);
    CHECK(loaded->parameters().front().scalar_type() == torch::kBFloat16);
    CHECK(reference->parameters().front().scalar_type() == torch::kFloat32);
    const auto fileIds = torch::randint(256, {1, 32}, torch::kInt64);
    const auto loadedHidden = loaded->hidden(fileIds);
    CHECK(loadedHidden.scalar_type() == torch::kFloat32);
    CHECK(maxAbsDiff(loaded->logits(loadedHidden), reference->logits(reference->hidden(fileIds))) <
          0.1);
    fs::remove_all(dir);
}

TEST_CASE("model: make-test-model writes a loadable, seeded, reproducible model directory",
          "[gpt2][io]") {
    const auto a = tempDir("make_a"), b = tempDir("make_b");
    TestModelOptions options;
    options.layers = 2;
    options.embd = 32;
    options.heads = 2;
    options.positions = 128;
    options.seed = 11;
    const auto made = makeTestModel(a, options);
    makeTestModel(b, options);
    CHECK(made.vocabSize == 257);  // bytes + <|endoftext|> without a corpus
    const auto summary = inspectModelDir(a);
    CHECK(summary.parameterCount == made.parameterCount);
    CHECK(summary.parameterCount == summary.config.parameterCount());
    CHECK(summary.tokenizerVocab == std::optional<std::size_t>(257));
    CHECK_FALSE(summary.hasTttCheckpoint);
    CHECK(summary.config.eosTokenId == std::optional<std::int64_t>(256));
    const auto bytesOf = [](const fs::path& p) {
        std::ifstream in(p, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    CHECK(bytesOf(a / "model.safetensors") == bytesOf(b / "model.safetensors"));
    options.seed = 12;
    makeTestModel(b, options);
    CHECK(bytesOf(a / "model.safetensors") != bytesOf(b / "model.safetensors"));
    fs::remove_all(a);
    fs::remove_all(b);
}

TEST_CASE("model: the caching CPU allocator hands a freed large block to the next same-size tensor",
          "[runtime]") {
    installCachingCpuAllocator();
    const auto before = cachedCpuBytes();
    void* first = nullptr;
    {
        auto big = torch::empty({3 << 20}, torch::kFloat32);  // 12 MiB
        first = big.data_ptr();
    }
    CHECK(cachedCpuBytes() == before + (std::size_t(12) << 20));
    auto again = torch::empty({3 << 20}, torch::kFloat32);
    CHECK(again.data_ptr() == first);
    CHECK(cachedCpuBytes() == before);
    auto small = torch::ones({1000});  // small blocks bypass the cache
    CHECK(small.sum().item<float>() == 1000.0f);
}

TEST_CASE(
    "model: the caching CPU allocator frees its least recently freed blocks to keep a new "
    "size, so a later phase with other shapes is cached too",
    "[runtime]") {
    constexpr std::size_t MiB = std::size_t(1) << 20;
    installCachingCpuAllocator(0);  // empties the cache
    installCachingCpuAllocator(24 * MiB);
    {
        auto first = torch::empty({3 << 20}, torch::kFloat32);   // 12 MiB
        auto second = torch::empty({3 << 20}, torch::kFloat32);  // 12 MiB
    }
    CHECK(cachedCpuBytes() == 24 * MiB);                        // full
    { auto other = torch::empty({2 << 20}, torch::kFloat32); }  // 8 MiB, a size not cached
    // One 12 MiB block made room: 12 + 8. A cache that never evicts stays at 24 without it.
    CHECK(cachedCpuBytes() == 20 * MiB);
    auto again = torch::empty({2 << 20}, torch::kFloat32);
    CHECK(cachedCpuBytes() == 12 * MiB);  // served from the cache
    installCachingCpuAllocator();         // the default limit for the other tests
}

TEST_CASE(
    "model: hashed dropout keeps 1 - p of the elements scaled by 1 / (1 - p), is fixed by "
    "manual_seed whatever the thread count, and passes x through outside training",
    "[model]") {
    const auto ones = torch::ones({1 << 20}, torch::kFloat32);
    CHECK(hashedDropout(ones, 0.1, false).data_ptr() == ones.data_ptr());
    CHECK(hashedDropout(ones, 0.0, true).data_ptr() == ones.data_ptr());

    torch::manual_seed(7);
    const auto dropped = hashedDropout(ones, 0.1, true);
    const auto kept = dropped.gt(0);
    // 2^20 Bernoulli(0.9) draws: standard deviation 0.0003 of the kept fraction.
    CHECK(kept.to(torch::kFloat64).mean().item<double>() == Approx(0.9).margin(0.003));
    CHECK(torch::equal(dropped.masked_select(kept),
                       torch::full({kept.sum().item<std::int64_t>()}, float(1.0 / 0.9))));
    // Neighbouring elements (the two halves of one 64-bit hash) are not correlated.
    const auto even = kept.slice(0, 0, kept.size(0), 2).to(torch::kFloat64);
    const auto odd = kept.slice(0, 1, kept.size(0), 2).to(torch::kFloat64);
    CHECK((even * odd).mean().item<double>() == Approx(0.81).margin(0.005));

    const int threads = at::get_num_threads();
    at::set_num_threads(1);
    torch::manual_seed(7);
    const auto oneThread = hashedDropout(ones, 0.1, true);
    at::set_num_threads(threads);
    CHECK(torch::equal(oneThread, dropped));
    torch::manual_seed(8);
    CHECK_FALSE(torch::equal(hashedDropout(ones, 0.1, true), dropped));

    // bfloat16 keeps its own dtype; the gradient is the mask.
    torch::manual_seed(7);
    const auto half = hashedDropout(ones.to(torch::kBFloat16), 0.1, true);
    CHECK(half.scalar_type() == torch::kBFloat16);
    CHECK(torch::equal(half.gt(0), kept));
    auto x = torch::full({1000}, 2.0f).requires_grad_(true);
    const auto y = hashedDropout(x, 0.5, true);
    y.sum().backward();
    CHECK(torch::allclose(x.grad() * 2.0f, y));
}
