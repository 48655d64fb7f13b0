// Streaming gated generation (core/generate): the GPT-2 KV cache and the recomputing fallback
// against the full forward, the TTT layer read token by token against the dual form, a whole
// generation against the teacher-forced forward on its own tokens, seeded sampling, stop
// sequences, the budget, and decisions taken from the segment before each boundary.
#include <cmath>
#include <string>
#include <vector>

#include "core/eval/evaluator_impl.h"
#include "core/generate/generator.h"
#include "core/generate/sampling.h"
#include "core/generate/streamed_text.h"
#include "core/model/gemma3_model_impl.h"
#include "core/util/errors.h"
#include "test_support.h"

// LibTorch pulls in glog, whose one-argument CHECK would replace Catch's: Torch comes first.
#undef CHECK
#include <catch2/catch.hpp>

using namespace ponder::core;
using ponder::testing::smallGemma3Config;
using ponder::testing::TinyModel;

namespace {

double maxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

torch::Tensor randomIds(std::int64_t count, std::int64_t vocab, std::uint64_t seed) {
    torch::manual_seed(seed);
    return torch::randint(vocab, {1, count}, torch::kInt64);
}

// The backbone's cache, then the recomputing fallback every backbone has: the first `prompt`
// ids at once (a prompt), then one at a time (generated tokens), against hidden() of them all.
void checkDecodeEqualsForward(Backbone& backbone, const torch::Tensor& ids, std::int64_t prompt) {
    const auto full = backbone.hidden(ids);
    for (const bool fallback : {false, true}) {
        auto cache = fallback ? backbone.Backbone::startDecode() : backbone.startDecode();
        const auto step = [&](const torch::Tensor& part) {
            return fallback ? backbone.Backbone::decodeStep(*cache, part)
                            : backbone.decodeStep(*cache, part);
        };
        std::vector<torch::Tensor> rows = {step(ids.slice(1, 0, prompt))};
        for (std::int64_t t = prompt; t < ids.size(1); ++t)
            rows.push_back(step(ids.slice(1, t, t + 1)));
        INFO((fallback ? "recomputing fallback" : "KV cache"));
        CHECK(cache->length == ids.size(1));
        CHECK(maxAbsDiff(torch::cat(rows, 1), full) < 1e-5);
    }
}

TttConfig streamConfig(const std::string& etaForm, std::int64_t lag, std::int64_t causalK) {
    TttConfig config;
    config.hidden = 32;
    config.heads = 2;
    config.headDim = 16;
    config.baseLr = 0.5;
    config.etaDecay = 0.3;
    config.etaForm = etaForm;
    config.convLag = lag;
    config.causalK = causalK;
    return config;
}

const std::string kPromptText =
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + "
    "fibonacci(n - 2)\n\nclass Stack:\n    def __init__(self):\n        self.items = []\n";

GenerateOptions smallOptions(const std::string& policy = "update") {
    GenerateOptions options;
    options.chunk = 32;
    options.maxTokens = 60;
    options.stopAtEndOfText = false;  // the tiny random model writes <|endoftext|> early
    options.policy.name = policy;
    return options;
}

}  // namespace

TEST_CASE("generate: the GPT-2 KV cache gives the full forward's hidden states token by token",
          "[generate]") {
    TinyModel tiny;
    EvalOptions evalOptions;
    Evaluator evaluator(tiny.model, evalOptions);
    torch::InferenceMode inference;
    checkDecodeEqualsForward(*evaluator.impl().backbone, randomIds(70, 257, 3), 20);
}

TEST_CASE("generate: the Gemma 3 KV cache gives the full forward's hidden states token by token",
          "[generate]") {
    // Sliding layers with a window shorter than the stream, a global one between them,
    // grouped-query attention (2 kv heads for 4), linear RoPE scaling.
    const auto c = smallGemma3Config(2);
    Gemma3Model model(c, torch::TensorOptions().dtype(torch::kFloat32));
    model->initialiseWeights(4);
    torch::InferenceMode inference;
    checkDecodeEqualsForward(*model, randomIds(40, c.vocabSize, 6), 12);
    // The stream may not outgrow the positions (the BOS takes one).
    auto cache = model->startDecode();
    CHECK_THROWS_AS(model->decodeStep(*cache, randomIds(c.maxPositions, c.vocabSize, 7)),
                    InputError);
}

TEST_CASE("generate: the streamed TTT layer gives the dual form's outputs and statistics",
          "[generate]") {
    // Every η form, conv lag and the diagonal ablation, in float64 so only the order of
    // operations differs.
    for (const auto& [etaForm, lag, causalK] :
         std::vector<std::tuple<std::string, std::int64_t, std::int64_t>>{
             {"ponderttt", 1, 0}, {"ttt-lm", 0, 0}, {"ponderttt", 0, -1}}) {
        TttModel model(streamConfig(etaForm, lag, causalK));
        model->initialiseWeights(11);
        {
            torch::NoGradGuard noGrad;
            torch::manual_seed(12);
            for (auto& p : model->parameters())
                p.add_(torch::randn_like(p) * 0.1);
        }
        model->to(torch::kFloat64);
        model->eval();
        torch::InferenceMode inference;
        torch::manual_seed(13);
        const auto h = torch::randn({1, 48, 32}, torch::kFloat64);
        const auto reference = model->forward(h);
        auto state = model->layer()->startStream();
        std::vector<torch::Tensor> rows, init, step0, step1;
        for (std::int64_t t = 0; t < 48; ++t) {
            TttStreamStats stats;
            rows.push_back(model->streamStep(state, h[0][t], stats));
            CHECK(stats.step0.defined() == (t % 16 == 15));
            if (!stats.step0.defined()) continue;
            init.push_back(stats.init);
            step0.push_back(stats.step0);
            step1.push_back(stats.step1);
        }
        INFO(etaForm << ", lag " << lag << ", causal_k " << causalK);
        CHECK(maxAbsDiff(torch::cat(rows, 0), reference.hidden[0]) < 1e-10);
        // Streamed stats are [H] per mini-batch; forward's are [B, H, n].
        CHECK(maxAbsDiff(torch::stack(init, 1), reference.stats.init[0]) < 1e-10);
        CHECK(maxAbsDiff(torch::stack(step0, 1), reference.stats.step0[0]) < 1e-10);
        CHECK(maxAbsDiff(torch::stack(step1, 1), reference.stats.step1[0]) < 1e-10);
    }
}

TEST_CASE("generate: a greedy generation equals the teacher-forced forward on its own tokens",
          "[generate]") {
    TinyModel tiny;
    Evaluator evaluator(tiny.model, EvalOptions{});
    Generator generator(evaluator);
    const auto options = smallOptions("update");
    const auto result = generator.generate(kPromptText, options);
    REQUIRE(result.generatedTokens() == 60);
    CHECK(result.stopReason == "max-tokens");
    const auto length = std::int64_t(result.ids.size());
    REQUIRE(std::int64_t(result.tokenLossSkip.size()) == length - 1);

    // Teacher forcing: the backbone over the whole stream, the TTT layer over each 32-token
    // chunk from (W0, b0), both heads at every position but the last.
    auto& parts = evaluator.impl();
    torch::InferenceMode inference;
    const auto ids = torch::tensor(std::vector<std::int64_t>(result.ids.begin(), result.ids.end()))
                         .view({1, length});
    const auto hidden = parts.backbone->hidden(ids.slice(1, 0, length - 1));
    std::vector<torch::Tensor> updated;
    std::vector<double> chunkStep0;
    for (std::int64_t start = 0; start < length - 1; start += 32) {
        const auto end = std::min(start + 32, length - 1);
        // A tail that is not whole mini-batches: run the chunk padded to them and keep its
        // rows (outputs at t never depend on later tokens).
        const auto padded = (end - start + 15) / 16 * 16;
        auto part = hidden.slice(1, start, end);
        if (padded > end - start)
            part = torch::cat({part, torch::zeros({1, padded - (end - start), part.size(2)})}, 1);
        const auto forward = parts.ttt.ttt("the test")->forward(part);
        updated.push_back(forward.hidden.slice(1, 0, end - start));
        if (end - start == 32) chunkStep0.push_back(forward.stats.step0.mean().item<double>());
    }
    const auto updateHidden = torch::cat(updated, 1);
    const auto targets = ids.slice(1, 1).reshape({-1, 1});
    const auto ceOf = [&](const torch::Tensor& h) {
        const auto logits = parts.backbone->logits(h[0]);
        return (torch::logsumexp(logits, -1, true) - logits.gather(1, targets)).squeeze(1);
    };
    const auto streamedSkip = torch::tensor(result.tokenLossSkip);
    const auto streamedUpdate = torch::tensor(result.tokenLossUpdate);
    CHECK(maxAbsDiff(streamedSkip, ceOf(hidden)) < 1e-4);
    CHECK(maxAbsDiff(streamedUpdate, ceOf(updateHidden)) < 1e-4);
    // Greedy on the UPDATE path: every generated token is that path's most likely one.
    const auto choices = parts.backbone->logits(updateHidden[0]).argmax(-1);
    for (auto t = result.promptTokens - 1; t < length - 1; ++t)
        CHECK(choices[t].item<std::int64_t>() == result.ids[t + 1]);
    // Segments are the 32-token chunks, with the chunk's reconstruction signal.
    REQUIRE(result.segments.size() >= chunkStep0.size());
    for (std::size_t s = 0; s < chunkStep0.size(); ++s)
        CHECK(result.segments[s].record.reconStep0 == Approx(chunkStep0[s]).epsilon(1e-5));
    CHECK(result.updateRate() == 1.0);
}

TEST_CASE("generate: a seeded sampled generation is reproducible and another seed differs",
          "[generate]") {
    TinyModel tiny;
    Evaluator evaluator(tiny.model, EvalOptions{});
    Generator generator(evaluator);
    auto options = smallOptions("random");
    options.sampling.temperature = 1.0;
    options.sampling.topP = 0.9;
    options.sampling.seed = 7;
    const auto first = generator.generate(kPromptText, options);
    const auto again = generator.generate(kPromptText, options);
    CHECK(first.ids == again.ids);
    CHECK(first.tokenLossUpdate == again.tokenLossUpdate);
    options.sampling.seed = 8;
    options.policy.seed = 8;
    CHECK(generator.generate(kPromptText, options).ids != first.ids);
}

TEST_CASE("generate: a stop sequence ends the text before it and nothing past it is streamed",
          "[generate]") {
    TinyModel tiny;
    Evaluator evaluator(tiny.model, EvalOptions{});
    Generator generator(evaluator);
    auto options = smallOptions("skip");
    const auto free = generator.generate(kPromptText, options);
    REQUIRE(free.generatedText.size() > 30);
    // A stop string taken from the middle of what the model writes greedily.
    const auto stop = free.generatedText.substr(20, 3);
    options.stop = {"@@never@@", stop};
    std::string streamed;
    const auto stopped = generator.generate(kPromptText, options,
                                            [&](const std::string& piece) { streamed += piece; });
    CHECK(stopped.stopReason == "stop-sequence");
    CHECK(stopped.generatedText == free.generatedText.substr(0, free.generatedText.find(stop)));
    CHECK(streamed == stopped.generatedText);
    // Without a stop the streamed pieces are the whole text too.
    streamed.clear();
    options.stop.clear();
    generator.generate(kPromptText, options, [&](const std::string& piece) { streamed += piece; });
    CHECK(streamed == free.generatedText);
}

TEST_CASE("generate: decisions at each boundary come from the segment before it", "[generate]") {
    TinyModel tiny;
    Evaluator evaluator(tiny.model, EvalOptions{});
    Generator generator(evaluator);
    // A long prompt scored without generating: the decisions cannot change the tokens.
    std::string prompt;
    for (int i = 0; i < 3; ++i)
        prompt += kPromptText;
    auto options = smallOptions("update");
    options.maxTokens = 0;
    options.decideEvery = GenerateOptions::DecideEvery::MiniBatch;
    const auto reference = generator.generate(prompt, options);
    REQUIRE(reference.segments.size() > 8);
    std::vector<double> signal;
    for (const auto& s : reference.segments)
        signal.push_back(s.record.reconStep0);
    const double tau = empiricalThreshold(signal, 0.5);

    options.policy.name = "threshold";
    options.policy.threshold = tau;
    const auto gated = generator.generate(prompt, options);
    REQUIRE(gated.segments.size() == reference.segments.size());
    CHECK(gated.segments[0].decision == 1);  // nothing read yet: UPDATE
    for (std::size_t s = 1; s < gated.segments.size(); ++s) {
        INFO("segment " << s);
        CHECK(gated.segments[s].decision == (signal[s - 1] > tau));
    }
    // recon-ema from a profile start: an EmaGate fed the previous segments' signals.
    options.policy = PolicySpec{};
    options.policy.calibration = "profile";
    options.policy.profileTau0 = tau;
    const auto ema = generator.generate(prompt, options);
    EmaGate replay(options.policy);
    for (std::size_t s = 1; s < ema.segments.size(); ++s) {
        const auto step = replay.decide(signal[s - 1]);
        INFO("segment " << s);
        CHECK(ema.segments[s].decision == step.decision);
        CHECK(ema.segments[s].threshold == step.threshold);
    }
    // The path of each prediction is its segment's decision.
    for (std::size_t t = 0; t < ema.tokenPath.size(); ++t)
        CHECK(ema.tokenPath[t] == ema.segments[t / 16].decision);
}

TEST_CASE("generate: the budget fits the model's positions and bad options are refused",
          "[generate]") {
    TinyModel tiny;  // 256 positions
    Evaluator evaluator(tiny.model, EvalOptions{});
    Generator generator(evaluator);
    auto options = smallOptions("skip");
    options.maxTokens = 1000;
    options.stopAtEndOfText = false;
    const auto full = generator.generate(kPromptText, options);
    CHECK(full.stopReason == "positions");
    CHECK(full.generatedTokens() == 255);
    CHECK(full.promptTokens == 1);
    CHECK(full.promptTokensDropped == std::int64_t(kPromptText.size()) - 1);  // bytes tokenizer

    CHECK_THROWS_AS(generator.generate("", options), InputError);
    options.policy.name = "oracle";
    CHECK_THROWS_AS(generator.generate(kPromptText, options), InputError);
    options.policy.name = "skip";
    options.chunk = 40;
    CHECK_THROWS_AS(generator.generate(kPromptText, options), InputError);
    options.chunk = 32;
    options.sampling.topP = 0;
    CHECK_THROWS_AS(generator.generate(kPromptText, options), InputError);
}

TEST_CASE("generate: greedy takes the first best token, top-p keeps the nucleus", "[generate]") {
    const std::vector<float> logits = {1.0f, 3.0f, 3.0f, 0.5f, 2.9f};
    TokenSampler greedy(SamplingOptions{});
    CHECK(greedy.sample(logits.data(), logits.size()) == 1);
    // top-p 0.3: the nucleus is the single most likely token (p(1) = p(2) ≈ 0.33 ≥ 0.3).
    SamplingOptions narrow;
    narrow.temperature = 1.0;
    narrow.topP = 0.3;
    TokenSampler nucleus(narrow);
    for (int i = 0; i < 50; ++i)
        CHECK(nucleus.sample(logits.data(), logits.size()) == 1);
    // Temperature 1 over the whole distribution: frequencies follow softmax (p(3) = 0.047).
    SamplingOptions wide;
    wide.temperature = 1.0;
    TokenSampler sampler(wide);
    std::vector<int> counts(logits.size());
    for (int i = 0; i < 20000; ++i)
        ++counts[sampler.sample(logits.data(), logits.size())];
    double total = 0;
    for (float l : logits)
        total += std::exp(double(l));
    for (std::size_t i = 0; i < logits.size(); ++i)
        CHECK(counts[i] / 20000.0 == Approx(std::exp(double(logits[i])) / total).margin(0.015));
}

TEST_CASE("generate: streamed text is held back while it could begin a stop sequence",
          "[generate]") {
    StreamedText text({"\ndef", "@@"});
    CHECK_FALSE(text.update("x = 1"));
    CHECK(text.takeReady() == "x ");  // "\ndef" may begin 3 bytes back: "= 1" waits
    CHECK_FALSE(text.update("x = 1\nde"));
    CHECK(text.takeReady() == "= 1");
    CHECK(text.update("x = 1\ndef f"));  // the stop completes across tokens
    CHECK(text.text() == "x = 1");
    CHECK(text.takeRest().empty());  // the held-back "\nde" is never shown
    StreamedText plain({});
    plain.update("abc");
    CHECK(plain.takeReady() == "abc");
    CHECK(plain.takeRest().empty());
}

TEST_CASE("generate: streamed text never ends inside a UTF-8 character", "[generate]") {
    const std::string euro = "a\xE2\x82\xAC";  // "a€"
    CHECK(completeUtf8Prefix(euro, 4) == 4);
    CHECK(completeUtf8Prefix(euro, 3) == 1);
    CHECK(completeUtf8Prefix(euro, 2) == 1);
    CHECK(completeUtf8Prefix(euro, 1) == 1);
    CHECK(completeUtf8Prefix("ab", 2) == 2);
}
