// Gemma 3: the decoder against a float64 reference written here from the formulas (per-token
// loops, not the model's code path), HF names and shards, BF16, the SentencePiece tokenizer
// (its ids against the library's own encode: tests/cli/sentencepiece_conformance.sh), the TTT
// attachment and the bad inputs. [sentencepiece] cases are left out of sanitizer builds.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "core/eval/evaluator.h"
#include "core/model/backbone.h"
#include "core/model/gemma3_model_impl.h"
#include "core/model/model_dir.h"
#include "core/model/tensor_convert_impl.h"
#include "core/model/ttt_layer_impl.h"
#include "core/text/sentencepiece_tokenizer.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"
#include "test_support.h"

#include <catch2/catch.hpp>

using namespace ponder::core;
using ponder::testing::smallGemma3Config;
using ponder::testing::TempDir;
namespace fs = std::filesystem;

namespace {

using Weights = std::map<std::string, torch::Tensor>;

Weights float64Weights(Gemma3Model& model) {
    Weights w;
    for (const auto& item : model->named_parameters())
        w[item.key()] = item.value().detach().to(torch::kFloat64);
    return w;
}

torch::Tensor refRms(const torch::Tensor& x, const torch::Tensor& w, double eps) {
    return x / torch::sqrt(x.pow(2).mean(-1, true) + eps) * (1.0 + w);
}

double geluTanh(double x) {
    return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

// One layer's rotation of the pairs (i, i + half) of x [T, n, hd] by position t.
torch::Tensor refRope(torch::Tensor x, double base, double factor) {
    x = x.clone();
    auto a = x.accessor<double, 3>();
    const auto hd = x.size(2), half = hd / 2;
    for (std::int64_t t = 0; t < x.size(0); ++t)
        for (std::int64_t h = 0; h < x.size(1); ++h)
            for (std::int64_t i = 0; i < half; ++i) {
                const double theta =
                    double(t) / factor / std::pow(base, 2.0 * double(i) / double(hd));
                const double u = a[t][h][i], v = a[t][h][i + half];
                a[t][h][i] = u * std::cos(theta) - v * std::sin(theta);
                a[t][h][i + half] = v * std::cos(theta) + u * std::sin(theta);
            }
    return x;
}

// The decoder from the formulas, one sequence, float64: [T, D] hidden states of `ids` (a BOS
// is prepended and its row dropped, as the model does).
torch::Tensor refHidden(const Gemma3Config& c, Weights& w, const std::vector<std::int64_t>& ids) {
    std::vector<std::int64_t> tokens{c.bosTokenId};
    tokens.insert(tokens.end(), ids.begin(), ids.end());
    const auto T = std::int64_t(tokens.size());
    const double eps = c.rmsNormEps;
    auto x = w["model.embed_tokens.weight"].index_select(0, torch::tensor(tokens)) *
             std::sqrt(double(c.hiddenSize));
    for (std::int64_t l = 0; l < c.numLayers; ++l) {
        const auto p = "model.layers." + std::to_string(l) + ".";
        const bool sliding = c.slidingLayers[std::size_t(l)];
        const auto h = refRms(x, w[p + "input_layernorm.weight"], eps);
        auto q = h.matmul(w[p + "self_attn.q_proj.weight"].t()).view({T, c.numHeads, c.headDim});
        auto k = h.matmul(w[p + "self_attn.k_proj.weight"].t()).view({T, c.numKvHeads, c.headDim});
        auto v = h.matmul(w[p + "self_attn.v_proj.weight"].t()).view({T, c.numKvHeads, c.headDim});
        q = refRms(q, w[p + "self_attn.q_norm.weight"], eps);
        k = refRms(k, w[p + "self_attn.k_norm.weight"], eps);
        const double base = sliding ? c.ropeLocalTheta : c.ropeTheta;
        const double factor = sliding ? 1.0 : c.ropeScalingFactor;
        q = refRope(q, base, factor);
        k = refRope(k, base, factor);
        auto out = torch::zeros({T, c.numHeads, c.headDim}, torch::kFloat64);
        const auto group = c.numHeads / c.numKvHeads;
        for (std::int64_t t = 0; t < T; ++t)
            for (std::int64_t head = 0; head < c.numHeads; ++head) {
                const auto kv = head / group;
                std::vector<double> scores;
                std::vector<std::int64_t> keys;
                for (std::int64_t s = 0; s <= t; ++s) {
                    if (sliding && t - s >= c.slidingWindow) continue;
                    double score = (q[t][head] * k[s][kv]).sum().item<double>() /
                                   std::sqrt(c.queryPreAttnScalar);
                    if (c.attnLogitSoftcap)
                        score = std::tanh(score / *c.attnLogitSoftcap) * *c.attnLogitSoftcap;
                    scores.push_back(score);
                    keys.push_back(s);
                }
                const double top = *std::max_element(scores.begin(), scores.end());
                double total = 0;
                for (auto& score : scores)
                    total += (score = std::exp(score - top));
                for (std::size_t i = 0; i < keys.size(); ++i)
                    out[t][head] += scores[i] / total * v[keys[i]][kv];
            }
        const auto attended =
            out.view({T, c.queryWidth()}).matmul(w[p + "self_attn.o_proj.weight"].t());
        x = x + refRms(attended, w[p + "post_attention_layernorm.weight"], eps);
        const auto f = refRms(x, w[p + "pre_feedforward_layernorm.weight"], eps);
        auto gate = f.matmul(w[p + "mlp.gate_proj.weight"].t());
        auto g = gate.accessor<double, 2>();
        for (std::int64_t i = 0; i < gate.size(0); ++i)
            for (std::int64_t j = 0; j < gate.size(1); ++j)
                g[i][j] = geluTanh(g[i][j]);
        const auto mlp = (gate * f.matmul(w[p + "mlp.up_proj.weight"].t()))
                             .matmul(w[p + "mlp.down_proj.weight"].t());
        x = x + refRms(mlp, w[p + "post_feedforward_layernorm.weight"], eps);
    }
    x = refRms(x, w["model.norm.weight"], eps);
    return x.narrow(0, 1, T - 1);
}

std::vector<std::int64_t> randomIds(std::int64_t length, std::int64_t vocab, std::uint64_t seed) {
    torch::manual_seed(seed);
    const auto ids = torch::randint(3, vocab, {length}, torch::kInt64);
    return {ids.data_ptr<std::int64_t>(), ids.data_ptr<std::int64_t>() + length};
}

Gemma3Model randomModel(const Gemma3Config& config, std::uint64_t seed) {
    Gemma3Model model(config, torch::TensorOptions().dtype(torch::kFloat32));
    model->initialiseWeights(seed);
    return model;
}

std::string errorOf(const std::function<void()>& action) {
    try {
        action();
    } catch (const PonderError& error) {
        return std::string(error.what()) + " | hint: " + error.hint();
    } catch (const std::exception& error) {
        return error.what();
    }
    return "";
}

void writeText(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

// A SentencePiece test model trained by the library on this repository's own sources.
std::vector<fs::path> localCorpus() {
    const fs::path root = PONDER_SOURCE_DIR;
    return {root / "core/model/gemma3_model.cpp", root / "core/gating/gate.cpp",
            root / "README.md"};
}

// A 2-layer Gemma 3 test model in two shards, with a TTT layer, on the local corpus.
TestModelOptions smallGemmaWithTtt(std::int64_t window) {
    TestModelOptions options;
    options.arch = "gemma3";
    options.layers = 2;
    options.embd = 32;
    options.heads = 2;
    options.kvHeads = 1;
    options.headDim = 24;
    options.window = window;
    options.positions = 256;
    options.vocab = 500;
    options.corpus = localCorpus();
    options.withTtt = true;
    options.shards = 2;
    return options;
}

}  // namespace

TEST_CASE(
    "model: Gemma 3 matches a float64 reference, past the sliding window, for each GQA "
    "ratio",
    "[gemma3]") {
    for (const std::int64_t kvHeads : {1, 2, 4}) {
        auto config = smallGemma3Config(kvHeads);
        if (kvHeads == 2) config.attnLogitSoftcap = 3.0;  // the Gemma 2 option, kept working
        auto model = randomModel(config, 11 + std::uint64_t(kvHeads));
        auto weights = float64Weights(model);
        const auto ids = randomIds(14, config.vocabSize, 3);  // 15 positions > window 5
        torch::NoGradGuard noGrad;
        const auto hidden = model->hidden(torch::tensor(ids).unsqueeze(0)).squeeze(0);
        const auto expected = refHidden(config, weights, ids);
        INFO("kv heads " << kvHeads);
        CHECK(hidden.scalar_type() == torch::kFloat32);
        CHECK((hidden.to(torch::kFloat64) - expected).abs().max().item<double>() < 2e-4);
        const auto logits = model->logits(hidden.unsqueeze(0)).squeeze(0);
        const auto expectedLogits = expected.matmul(weights["model.embed_tokens.weight"].t());
        CHECK((logits.to(torch::kFloat64) - expectedLogits).abs().max().item<double>() < 2e-3);
    }
}

TEST_CASE("model: Gemma 3's sliding window and global layers matter, and outputs are causal",
          "[gemma3]") {
    auto config = smallGemma3Config(2);
    auto model = randomModel(config, 4);
    torch::NoGradGuard noGrad;
    auto ids = torch::tensor(randomIds(20, config.vocabSize, 8)).unsqueeze(0);
    const auto base = model->hidden(ids);
    // Changing token 0 reaches position 19 only through the global layer (window 5).
    auto changed = ids.clone();
    changed[0][0] = (changed[0][0].item<std::int64_t>() + 1) % config.vocabSize;
    const auto after = model->hidden(changed);
    CHECK((after[0][19] - base[0][19]).abs().max().item<double>() > 1e-6);
    // Changing the last token never changes earlier positions.
    auto last = ids.clone();
    last[0][19] = (last[0][19].item<std::int64_t>() + 1) % config.vocabSize;
    CHECK(torch::equal(model->hidden(last).narrow(1, 0, 19), base.narrow(1, 0, 19)));
    // All-sliding: position 19 no longer sees token 0.
    auto slidingOnly = config;
    slidingOnly.slidingLayers = {true, true, true};
    Gemma3Model local(slidingOnly, torch::TensorOptions().dtype(torch::kFloat32));
    for (auto& item : local->named_parameters())
        item.value().copy_(model->named_parameters()[item.key()]);
    CHECK(torch::allclose(local->hidden(changed)[0][19], local->hidden(ids)[0][19], 0, 0));
}

TEST_CASE("model: Gemma 3 loads HF names from one file or shards, and the multimodal layout",
          "[gemma3][io]") {
    TempDir dir("ponder_gemma_io");
    auto config = smallGemma3Config(2);
    auto model = randomModel(config, 21);
    const auto ids = torch::tensor(randomIds(12, config.vocabSize, 5)).unsqueeze(0);
    torch::NoGradGuard noGrad;
    const auto expected = model->hidden(ids);
    writeText(dir.path / "config.json", gemma3ConfigJson(config));
    saveGemma3Weights(model, dir.path, 3);
    CHECK(fs::exists(dir.path / "model-00002-of-00003.safetensors"));
    CHECK(backboneWeightFiles(dir.path).size() == 3);
    auto loaded = loadGemma3(dir.path, torch::kCPU, false);
    CHECK(torch::equal(loaded->hidden(ids), expected));

    // The 4B/12B layout: model_type gemma3 with a text_config, language_model.* names and a
    // vision tower that the text decoder ignores.
    TempDir multi("ponder_gemma_multi");
    auto text = nlohmann::json::parse(gemma3ConfigJson(config));
    writeText(multi.path / "config.json",
              nlohmann::json{{"model_type", "gemma3"}, {"text_config", text}}.dump());
    NamedTensors renamed;
    for (const auto& item : model->named_parameters())
        renamed.emplace_back("language_model." + item.key(), item.value());
    renamed.emplace_back("vision_tower.patch_embedding.weight", torch::ones({2, 2}));
    saveTensors(multi.path / "model.safetensors", renamed);
    CHECK(backboneArch(multi.path) == kArchGemma3);
    CHECK(torch::equal(loadGemma3(multi.path, torch::kCPU, false)->hidden(ids), expected));
}

TEST_CASE("model: Gemma 3 BF16 weights load as BF16 without a float32 copy, or widen to F32",
          "[gemma3][io]") {
    TempDir dir("ponder_gemma_bf16");
    auto config = smallGemma3Config(1);
    auto model = randomModel(config, 9);
    NamedTensors bf16;
    for (const auto& item : model->named_parameters())
        bf16.emplace_back(item.key(), item.value().to(torch::kBFloat16));
    writeText(dir.path / "config.json", gemma3ConfigJson(config));
    saveTensors(dir.path / "model.safetensors", bf16);
    auto wide = loadGemma3(dir.path, torch::kCPU, false);
    auto narrow = loadGemma3(dir.path, torch::kCPU, true);
    for (const auto& item : narrow->named_parameters()) {
        CHECK(item.value().scalar_type() == torch::kBFloat16);
        CHECK(torch::equal(item.value().to(torch::kFloat32), wide->named_parameters()[item.key()]));
    }
    torch::NoGradGuard noGrad;
    const auto ids = torch::tensor(randomIds(12, config.vocabSize, 1)).unsqueeze(0);
    const auto a = wide->hidden(ids), b = narrow->hidden(ids);
    CHECK(b.scalar_type() == torch::kFloat32);
    // Same weights, bfloat16 arithmetic: close, not equal.
    CHECK((a - b).abs().max().item<double>() < 0.1 * a.abs().max().item<double>());
}

TEST_CASE("model: the released Gemma 3 configs parse to the technical report's sizes", "[gemma3]") {
    // The 4B and 12B config.json files are multimodal and sparse: what they leave out
    // (vocab_size, head counts, head_dim) takes transformers' Gemma3TextConfig defaults.
    // Non-embedding parameter counts: Gemma 3 technical report, table 1 (3,209 M and 10,759 M).
    const auto multimodal = [](const std::string& textConfig) {
        return R"({"model_type": "gemma3", "eos_token_id": [1, 106], "text_config": )" +
               textConfig + R"(, "vision_config": {"model_type": "siglip_vision_model"}})";
    };
    const auto nonEmbedding = [](const Gemma3Config& c) {
        return double(c.parameterCount() - c.vocabSize * c.hiddenSize);
    };
    const auto fourB = parseGemma3Config(
        multimodal(R"({"hidden_size": 2560, "intermediate_size": 10240, "model_type": "gemma3_text",
            "num_hidden_layers": 34, "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
            "sliding_window": 1024})"),
        "4b");
    CHECK(fourB.vocabSize == 262208);
    CHECK(fourB.numHeads == 8);
    CHECK(fourB.numKvHeads == 4);
    CHECK(fourB.headDim == 256);
    CHECK(fourB.eosTokenId == 1);
    CHECK(fourB.ropeScalingFactor == 8.0);
    CHECK(fourB.slidingLayers == gemma3SlidingPattern(34));
    CHECK(nonEmbedding(fourB) == Approx(3209e6).epsilon(0.005));
    const auto twelveB = parseGemma3Config(
        multimodal(R"({"hidden_size": 3840, "intermediate_size": 15360, "model_type": "gemma3_text",
            "num_attention_heads": 16, "num_hidden_layers": 48, "num_key_value_heads": 8,
            "rope_scaling": {"factor": 8.0, "rope_type": "linear"}, "sliding_window": 1024})"),
        "12b");
    CHECK(nonEmbedding(twelveB) == Approx(10759e6).epsilon(0.005));
    // The 1B checkpoint is text-only and spells everything out (report: 302 M embedding,
    // 698 M non-embedding).
    const auto oneB = parseGemma3Config(
        R"({"model_type": "gemma3_text", "vocab_size": 262144, "hidden_size": 1152,
            "intermediate_size": 6912, "num_hidden_layers": 26, "num_attention_heads": 4,
            "num_key_value_heads": 1, "head_dim": 256, "max_position_embeddings": 32768,
            "query_pre_attn_scalar": 256, "rope_scaling": null, "sliding_window": 512,
            "sliding_window_pattern": 6})",
        "1b");
    CHECK(nonEmbedding(oneB) == Approx(698e6).epsilon(0.005));
    CHECK(oneB.slidingLayers[5] == false);
    CHECK(oneB.slidingLayers[4] == true);
}

// google/gemma-3-27b-it's config.json as Hugging Face publishes it (google/gemma-3-27b-pt's is
// the same text). Multimodal and sparse like the 4B/12B ones: vocab_size, max_position_embeddings,
// rope_theta, rope_local_base_freq, the ids but eos and the layer pattern are left to
// transformers' Gemma3TextConfig defaults (262208, 131072, 1e6, 1e4, bos 2 / pad 0, every 6th
// layer global); the outer eos_token_id [1, 106] lists <eos> and <end_of_turn>.
constexpr const char* kGemma3_27bConfig = R"({
  "architectures": [
    "Gemma3ForConditionalGeneration"
  ],
  "boi_token_index": 255999,
  "eoi_token_index": 256000,
  "eos_token_id": [
    1,
    106
  ],
  "image_token_index": 262144,
  "initializer_range": 0.02,
  "mm_tokens_per_image": 256,
  "model_type": "gemma3",
  "text_config": {
    "head_dim": 128,
    "hidden_size": 5376,
    "intermediate_size": 21504,
    "model_type": "gemma3_text",
    "num_attention_heads": 32,
    "num_hidden_layers": 62,
    "num_key_value_heads": 16,
    "query_pre_attn_scalar": 168,
    "rope_scaling": {
      "factor": 8.0,
      "rope_type": "linear"
    },
    "sliding_window": 1024
  },
  "torch_dtype": "bfloat16",
  "transformers_version": "4.50.0.dev0",
  "vision_config": {
    "hidden_size": 1152,
    "image_size": 896,
    "intermediate_size": 4304,
    "model_type": "siglip_vision_model",
    "num_attention_heads": 16,
    "num_hidden_layers": 27,
    "patch_size": 14,
    "vision_use_head": false
  }
}
)";

// google/gemma-3-1b-it's config.json: text-only and explicit (the -pt file has eos_token_id 1).
constexpr const char* kGemma3_1bItConfig = R"({
  "architectures": [
    "Gemma3ForCausalLM"
  ],
  "attention_bias": false,
  "attention_dropout": 0.0,
  "attn_logit_softcapping": null,
  "bos_token_id": 2,
  "cache_implementation": "hybrid",
  "eos_token_id": [
    1,
    106
  ],
  "final_logit_softcapping": null,
  "head_dim": 256,
  "hidden_activation": "gelu_pytorch_tanh",
  "hidden_size": 1152,
  "initializer_range": 0.02,
  "intermediate_size": 6912,
  "max_position_embeddings": 32768,
  "model_type": "gemma3_text",
  "num_attention_heads": 4,
  "num_hidden_layers": 26,
  "num_key_value_heads": 1,
  "pad_token_id": 0,
  "query_pre_attn_scalar": 256,
  "rms_norm_eps": 1e-06,
  "rope_local_base_freq": 10000,
  "rope_scaling": null,
  "rope_theta": 1000000,
  "sliding_window": 512,
  "sliding_window_pattern": 6,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.50.0.dev0",
  "use_cache": true,
  "vocab_size": 262144
}
)";

namespace {

// The files an instruction-tuned (-it) Hugging Face download carries besides config.json, the
// weights and tokenizer.model, shaped as published (the chat template is our own text, made
// large the way tokenizer_config.json is: ~1 MB with its added_tokens_decoder). ponder must
// never read them: added_tokens.json names an id far outside a test model's vocabulary, and
// tokenizer_config.json's model_max_length does not fit in 64 bits.
void writeInstructionTunedFiles(const fs::path& dir) {
    std::string chatTemplate =
        "{{ bos_token }}\n{%- if messages[0]['role'] == 'system' -%}\n"
        "    {%- set first_user_prefix = messages[0]['content'] + '\\n\\n' -%}\n"
        "    {%- set loop_messages = messages[1:] -%}\n{%- else -%}\n"
        "    {%- set first_user_prefix = \"\" -%}\n    {%- set loop_messages = messages -%}\n"
        "{%- endif -%}\n{%- for message in loop_messages -%}\n"
        "    {{ '<start_of_turn>' + ('model' if message['role'] == 'assistant' else "
        "message['role']) + '\\n' }}{{ message['content'] | trim }}{{ '<end_of_turn>\\n' }}\n"
        "{%- endfor -%}\n{%- if add_generation_prompt -%}{{ '<start_of_turn>model\\n' }}"
        "{%- endif -%}\n";
    for (int i = 0; i < 2000; ++i)
        chatTemplate +=
            "{#- padding " + std::to_string(i) + ": “quotes”, {braces}, \\\"escapes\\\" -#}\n";
    writeText(dir / "chat_template.jinja", chatTemplate);
    writeText(dir / "chat_template.json", nlohmann::json{{"chat_template", chatTemplate}}.dump(2));

    nlohmann::json decoder = nlohmann::json::object();
    const std::vector<std::string> special = {"<pad>", "<eos>", "<bos>", "<unk>"};
    for (int id = 0; id < 6414; ++id) {
        const auto content =
            id < 4 ? special[std::size_t(id)] : "<unused" + std::to_string(id) + ">";
        decoder[std::to_string(id)] = {{"content", content},   {"lstrip", false},
                                       {"normalized", false},  {"rstrip", false},
                                       {"single_word", false}, {"special", true}};
    }
    auto tokenizerConfig = nlohmann::json{
        {"add_bos_token", true},
        {"add_eos_token", false},
        {"added_tokens_decoder", decoder},
        {"boi_token", "<start_of_image>"},
        {"bos_token", "<bos>"},
        {"chat_template", chatTemplate},
        {"clean_up_tokenization_spaces", false},
        {"eoi_token", "<end_of_image>"},
        {"eos_token", "<eos>"},
        {"extra_special_tokens",
         {{"boi_token", "<start_of_image>"},
          {"eoi_token", "<end_of_image>"},
          {"image_token", "<image_soft_token>"}}},
        {"image_token", "<image_soft_token>"},
        {"pad_token", "<pad>"},
        {"padding_side", "left"},
        {"processor_class", "Gemma3Processor"},
        {"sp_model_kwargs", nullptr},
        {"spaces_between_special_tokens", false},
        {"tokenizer_class", "GemmaTokenizer"},
        {"unk_token", "<unk>"},
        {"use_default_system_prompt",
         false}}.dump(2);
    // transformers writes this integer as is; it is no int64.
    tokenizerConfig.insert(tokenizerConfig.rfind('}'),
                           ",\n  \"model_max_length\": 1000000000000000019884624838656\n");
    writeText(dir / "tokenizer_config.json", tokenizerConfig);
    REQUIRE(fs::file_size(dir / "tokenizer_config.json") > 1'000'000);

    writeText(dir / "generation_config.json", R"({
  "cache_implementation": "hybrid",
  "do_sample": true,
  "top_k": 64,
  "top_p": 0.95,
  "bos_token_id": 2,
  "eos_token_id": [1, 106],
  "pad_token_id": 0,
  "transformers_version": "4.50.0.dev0"
}
)");
    const auto token = [](const char* content) {
        return nlohmann::json{{"content", content},
                              {"lstrip", false},
                              {"normalized", false},
                              {"rstrip", false},
                              {"single_word", false}};
    };
    writeText(dir / "special_tokens_map.json", nlohmann::json{{"boi_token", "<start_of_image>"},
                                                              {"bos_token", token("<bos>")},
                                                              {"eoi_token", "<end_of_image>"},
                                                              {"eos_token", token("<eos>")},
                                                              {"image_token", "<image_soft_token>"},
                                                              {"pad_token", token("<pad>")},
                                                              {"unk_token", token("<unk>")}}
                                                   .dump(2));
    writeText(dir / "added_tokens.json", "{\n  \"<image_soft_token>\": 262144\n}\n");
    writeText(dir / "preprocessor_config.json", R"({
  "do_convert_rgb": null,
  "do_normalize": true,
  "do_pan_and_scan": null,
  "do_rescale": true,
  "do_resize": true,
  "image_mean": [0.5, 0.5, 0.5],
  "image_processor_type": "Gemma3ImageProcessor",
  "image_seq_length": 256,
  "image_std": [0.5, 0.5, 0.5],
  "pan_and_scan_max_num_crops": null,
  "pan_and_scan_min_crop_size": null,
  "pan_and_scan_min_ratio_to_activate": null,
  "processor_class": "Gemma3Processor",
  "resample": 2,
  "rescale_factor": 0.00392156862745098,
  "size": {"height": 896, "width": 896}
}
)");
    writeText(dir / "processor_config.json",
              "{\n  \"image_seq_length\": 256,\n  \"processor_class\": \"Gemma3Processor\"\n}\n");
    // The download's tokenizer.json (HF tokenizers format) beside tokenizer.model, a model card.
    writeText(dir / "tokenizer.json",
              R"({"version": "1.0", "added_tokens": [], "model": {"type": "BPE"}})");
    writeText(dir / "README.md", "---\nlicense: gemma\npipeline_tag: image-text-to-text\n---\n");
}

}  // namespace

TEST_CASE("model: Gemma 3 as released: the 27B pt/it and 1B it configs parse to their sizes",
          "[gemma3]") {
    const auto it = parseGemma3Config(kGemma3_27bConfig, "gemma-3-27b-it");
    CHECK(it.modelType == "gemma3");
    CHECK(it.hiddenSize == 5376);
    CHECK(it.intermediateSize == 21504);
    CHECK(it.numLayers == 62);
    CHECK(it.numHeads == 32);
    CHECK(it.numKvHeads == 16);
    CHECK(it.headDim == 128);
    CHECK(it.queryWidth() == 4096);  // != hidden_size: o_proj is [5376, 4096]
    CHECK(it.kvWidth() == 2048);
    CHECK(it.queryPreAttnScalar == 168.0);  // hidden_size / heads, not head_dim
    CHECK(it.slidingWindow == 1024);
    CHECK(it.ropeScalingFactor == 8.0);
    // Gemma3TextConfig's defaults for what the file leaves out.
    CHECK(it.vocabSize == 262208);
    CHECK(it.maxPositions == 131072);
    CHECK(it.ropeTheta == 1000000.0);
    CHECK(it.ropeLocalTheta == 10000.0);
    CHECK(it.rmsNormEps == 1e-6);
    CHECK(it.bosTokenId == 2);
    CHECK(it.eosTokenId == 1);  // the first of [1, 106]
    CHECK(it.padTokenId == 0);
    CHECK(it.tieWordEmbeddings);
    CHECK(!it.attnLogitSoftcap);
    CHECK(!it.finalLogitSoftcap);
    // Five sliding layers per global one: layers 6, 12, ..., 60 (1-based) are global and the
    // last two (61, 62) slide.
    REQUIRE(it.slidingLayers.size() == 62);
    std::vector<std::size_t> global;
    for (std::size_t i = 0; i < it.slidingLayers.size(); ++i)
        if (!it.slidingLayers[i]) global.push_back(i);
    CHECK(global == std::vector<std::size_t>{5, 11, 17, 23, 29, 35, 41, 47, 53, 59});
    // Parameters: per layer q/o 2 x 5376 x 4096 + k/v 2 x 5376 x 2048 + q/k norms 2 x 128 +
    // MLP 3 x 5376 x 21504 + 4 norms x 5376 = 412,898,560; x 62 + the final norm =
    // 25,599,716,096 non-embedding, + 262208 x 5376 = 1,409,630,208 tied embedding.
    // The technical report (table 1) rounds to millions: 25,600 M non-embedding, and 1,416 M
    // "embedding" that also holds the 1152 x 5376 multimodal projector (6,193,152; the same
    // reading gives its 675 M and 1,012 M for 4B and 12B). Half a million either side is the
    // report's rounding; it tells vocab 262208 (1,415.8 M) from 262144 (1,415.5 M).
    const auto embedding = it.vocabSize * it.hiddenSize;
    CHECK(it.parameterCount() == 27'009'346'304);
    CHECK(double(it.parameterCount() - embedding) == Approx(25'600e6).margin(0.5e6));
    CHECK(double(embedding + 1152 * it.hiddenSize) == Approx(1'416e6).margin(0.5e6));
    CHECK(backboneInfoOf(it).describe() ==
          "gemma3_text, 62 layers, width 5376, 27.01 B parameters");

    // The -pt file is the same text; with a scalar eos_token_id it reads the same too.
    auto ptJson = nlohmann::json::parse(kGemma3_27bConfig);
    ptJson["eos_token_id"] = 1;
    const auto pt = parseGemma3Config(ptJson.dump(), "gemma-3-27b-pt");
    CHECK(gemma3ConfigJson(pt) == gemma3ConfigJson(it));
    // What ponder writes back (gemma3_text, every field spelled out) reads as the same model.
    CHECK(gemma3ConfigJson(parseGemma3Config(gemma3ConfigJson(it), "written")) ==
          gemma3ConfigJson(it));

    const auto oneB = parseGemma3Config(kGemma3_1bItConfig, "gemma-3-1b-it");
    CHECK(oneB.modelType == "gemma3_text");
    CHECK(oneB.vocabSize == 262144);
    CHECK(oneB.numLayers == 26);
    CHECK(oneB.numHeads == 4);
    CHECK(oneB.numKvHeads == 1);
    CHECK(oneB.headDim == 256);
    CHECK(oneB.queryPreAttnScalar == 256.0);
    CHECK(oneB.slidingWindow == 512);
    CHECK(oneB.maxPositions == 32768);
    CHECK(oneB.ropeScalingFactor == 1.0);  // rope_scaling null
    CHECK(oneB.eosTokenId == 1);
    CHECK(oneB.slidingLayers == gemma3SlidingPattern(26));
    // Report: 302 M embedding + 698 M non-embedding (697,896,064 + 301,989,888 here).
    CHECK(oneB.parameterCount() == 999'885'952);
    CHECK(double(oneB.parameterCount() - oneB.vocabSize * oneB.hiddenSize) ==
          Approx(698e6).margin(0.5e6));

    // Through a directory, beside the -it download's other files.
    TempDir dir("ponder_gemma_27b");
    writeText(dir.path / "config.json", kGemma3_27bConfig);
    writeInstructionTunedFiles(dir.path);
    CHECK(backboneArch(dir.path) == kArchGemma3);
    CHECK(backboneInfoFromConfig(dir.path).parameterCount == 27'009'346'304);
}

TEST_CASE("eval: a Gemma 3 directory with an -it release's extra files evaluates as without them",
          "[gemma3][eval][sentencepiece]") {
    TempDir dir("ponder_gemma_it");
    const auto options = smallGemmaWithTtt(16);
    const auto bare = dir.path / "bare";
    makeTestModel(bare, options);

    // The same directory with the -it files; then also with the -it release's config.json
    // shape (model_type gemma3, text_config, vision_config, eos [1, 106] outside) around the
    // same decoder.
    const auto it = dir.path / "it", itMultimodal = dir.path / "it-multimodal";
    fs::copy(bare, it, fs::copy_options::recursive);
    writeInstructionTunedFiles(it);
    fs::copy(it, itMultimodal, fs::copy_options::recursive);
    auto text = nlohmann::json::parse(readFileBytes(bare / "config.json"));
    text.erase("eos_token_id");
    text.erase("architectures");
    auto outer = nlohmann::json::parse(kGemma3_27bConfig);
    outer["text_config"] = text;
    writeText(itMultimodal / "config.json", outer.dump(2));

    const auto reference = inspectModelDir(bare);
    const fs::path source = fs::path(PONDER_SOURCE_DIR) / "core/gating/gate.cpp";
    std::vector<std::vector<UnitRecord>> records;
    std::vector<std::vector<std::int64_t>> ids;
    for (const auto& model : {bare, it, itMultimodal}) {
        INFO(model.filename());
        const auto inspected = inspectModelDir(model);
        CHECK(inspected.backbone.arch == kArchGemma3);
        CHECK(inspected.backbone.parameterCount == reference.backbone.parameterCount);
        CHECK(inspected.backbone.layers == 2);
        CHECK(inspected.tokenizerKind == "SentencePiece");
        CHECK(inspected.tokenizerVocab == reference.tokenizerVocab);
        CHECK(inspected.weightFiles == 2);
        CHECK(inspected.hasTttCheckpoint);
        CHECK(backboneSha256(model) == backboneSha256(bare));  // the TTT checkpoint applies

        Evaluator evaluator(model, EvalOptions{});
        CHECK(evaluator.tokenizer().endOfTextId() == std::optional<std::int32_t>(1));
        const auto plan = buildEvalPlan(evaluator.tokenizer(), {source},
                                        evaluator.planOptions(EvalMode::File, 128));
        REQUIRE(plan.units.size() >= 2);
        ids.push_back(plan.unitIds(plan.units[1]));
        records.emplace_back();
        for (std::size_t u = 0; u < 2; ++u)
            records.back().push_back(evaluator.evaluateUnit(plan, plan.units[u]));
    }
    for (std::size_t m = 1; m < records.size(); ++m) {
        INFO("model " << m);
        CHECK(ids[m] == ids[0]);
        for (std::size_t u = 0; u < 2; ++u) {
            CHECK(std::isfinite(records[0][u].lossSkip));
            CHECK(records[m][u].lossSkip == records[0][u].lossSkip);
            CHECK(records[m][u].lossUpdate == records[0][u].lossUpdate);
            CHECK(records[m][u].reconStep0 == records[0][u].reconStep0);
        }
    }
    CHECK(records[0][0].lossUpdate != records[0][0].lossSkip);  // the TTT layer took part
}

TEST_CASE("model: bad Gemma 3 inputs are refused with one line naming the problem",
          "[gemma3][errors]") {
    TempDir dir("ponder_gemma_bad");
    auto config = smallGemma3Config(2);
    auto model = randomModel(config, 2);
    const auto json = nlohmann::json::parse(gemma3ConfigJson(config));
    const auto withConfig = [&](nlohmann::json edited) {
        writeText(dir.path / "config.json", edited.dump());
        return errorOf([&] { loadGemma3(dir.path, torch::kCPU, false); });
    };
    saveGemma3Weights(model, dir.path, 2);

    auto gemma2 = json;
    gemma2["model_type"] = "gemma2";
    writeText(dir.path / "config.json", gemma2.dump());
    CHECK_THAT(errorOf([&] { backboneArch(dir.path); }),
               Catch::Contains("earlier Gemma") && Catch::Contains("gemma2"));
    auto llama = json;
    llama["model_type"] = "llama";
    writeText(dir.path / "config.json", llama.dump());
    CHECK_THAT(errorOf([&] { backboneArch(dir.path); }), Catch::Contains("'llama'"));

    // Wrongly typed fields are named (found by fuzz_configs: json::value threw type_error).
    CHECK_THAT(errorOf([&] { parseGemma3Config(R"({"model_type": -100})", "c"); }),
               Catch::Contains("model_type must be a string"));
    auto activation = json;
    activation["hidden_activation"] = 3;
    CHECK_THAT(withConfig(activation), Catch::Contains("hidden_activation must be a string"));

    // The default BOS (2) against a vocab_size of 1 is refused on the first read, not only once
    // written out with its defaults (found by fuzz_configs: our own config.json was rejected).
    CHECK_THAT(errorOf([&] {
                   parseGemma3Config(R"({"model_type": "gemma3_text", "vocab_size": 1})", "c");
               }),
               Catch::Contains("bos_token_id 2 is outside vocab_size 1"));

    auto wide = json;
    wide["sliding_window"] = 65;  // > max_position_embeddings 64
    CHECK_THAT(withConfig(wide), Catch::Contains("sliding_window 65 is larger"));
    auto gqa = json;
    gqa["num_key_value_heads"] = 3;
    CHECK_THAT(withConfig(gqa), Catch::Contains("not a multiple of num_key_value_heads"));
    auto rope = json;
    rope["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
    CHECK_THAT(withConfig(rope), Catch::Contains("\"yarn\" is not supported"));
    auto layers = json;
    layers["num_hidden_layers"] = 4;  // layer_types still lists 3
    CHECK_THAT(withConfig(layers), Catch::Contains("layer_types must list one type"));
    auto deeper = json;
    deeper.erase("layer_types");
    deeper["num_hidden_layers"] = 4;
    CHECK_THAT(withConfig(deeper), Catch::Contains("missing tensor 'model.layers.3."));

    // An index that names a tensor no shard holds, then a missing shard.
    writeText(dir.path / "config.json", json.dump());
    const auto indexPath = dir.path / "model.safetensors.index.json";
    auto index = nlohmann::json::parse(readFileBytes(indexPath));
    index["weight_map"]["model.layers.9.mlp.up_proj.weight"] = "model-00001-of-00002.safetensors";
    writeText(indexPath, index.dump());
    CHECK_THAT(errorOf([&] { loadGemma3(dir.path, torch::kCPU, false); }),
               Catch::Contains("puts tensor 'model.layers.9.mlp.up_proj.weight'"));
    index["weight_map"].erase("model.layers.9.mlp.up_proj.weight");
    writeText(indexPath, index.dump());
    fs::remove(dir.path / "model-00002-of-00002.safetensors");
    CHECK_THAT(errorOf([&] { loadGemma3(dir.path, torch::kCPU, false); }),
               Catch::Contains("shard 'model-00002-of-00002.safetensors'") &&
                   Catch::Contains("is missing"));
}

TEST_CASE("text: the SentencePiece tokenizer round-trips real files and places every token",
          "[gemma3][sentencepiece]") {
    TempDir dir("ponder_spm");
    trainSentencePiece(localCorpus(), 600, dir.path / "tokenizer.model");
    const auto tokenizer = loadTokenizer(dir.path);
    CHECK(tokenizer->kind() == "SentencePiece");
    CHECK(tokenizer->endOfTextId() == std::optional<std::int32_t>(1));
    std::vector<fs::path> files = {fs::path(PONDER_SOURCE_DIR) / "core/eval/evaluator.cpp",
                                   fs::path(PONDER_SOURCE_DIR) / "datasets/README.md"};
    if (fs::exists("/usr/lib/python3.11/json/decoder.py"))
        files.push_back("/usr/lib/python3.11/json/decoder.py");
    for (const auto& file : files) {
        INFO(file);
        const auto text = readFileBytes(file);
        const auto ids = tokenizer->encode(text);
        REQUIRE(ids.size() > 100);
        CHECK(ids.size() < text.size());        // merges were learned
        CHECK(tokenizer->decode(ids) == text);  // identity normalisation, byte fallback
        const auto starts = tokenizer->tokenByteStarts(text, ids);
        REQUIRE(starts.size() == ids.size());
        CHECK(starts.front() == 0);
        CHECK(std::is_sorted(starts.begin(), starts.end()));
        // The first i tokens spell exactly the bytes before token i's offset.
        for (const std::size_t i : {ids.size() / 3, ids.size() / 2, ids.size() - 1}) {
            const std::vector<std::int32_t> prefix(ids.begin(), ids.begin() + long(i));
            CHECK(tokenizer->decode(prefix) == text.substr(0, starts[i]));
        }
    }
    CHECK_THAT(errorOf([&] { tokenizer->decode({int32_t(tokenizer->vocabSize())}); }),
               Catch::Contains("outside the vocabulary"));
    // Only tokenizer.json: what is missing is said.
    TempDir hfOnly("ponder_spm_json");
    writeText(hfOnly.path / "tokenizer.json", "{}");
    CHECK_THAT(errorOf([&] { loadTokenizer(hfOnly.path); }),
               Catch::Contains("only tokenizer.json") && Catch::Contains("tokenizer.model"));
    writeText(hfOnly.path / "tokenizer.model", "not a model");
    CHECK_THAT(errorOf([&] { loadTokenizer(hfOnly.path); }),
               Catch::Contains("is not a SentencePiece model"));
}

TEST_CASE("model: the TTT layer on Gemma 3 starts as the identity and keeps to its backbone",
          "[gemma3][ttt]") {
    auto config = smallGemma3Config(2);
    auto model = randomModel(config, 6);
    const auto info = model->info();
    auto tttConfig = TttConfig::forBackboneInfo(info);
    CHECK(tttConfig.tttWidth == 64);  // heads 4 x head_dim 16 != hidden 32: projections
    CHECK(tttConfig.fastNorm == "rmsnorm");
    CHECK(tttConfig.backboneArch == kArchGemma3);
    TttModel ttt(tttConfig);
    ttt->initialiseWeights(3);
    const auto names = ttt->named_parameters();
    CHECK(names.contains("ttt_proj_in.weight"));
    CHECK(names["ttt_proj_out.weight"].sizes() == torch::IntArrayRef({32, 64}));
    CHECK(names["ttt.wq.weight"].sizes() == torch::IntArrayRef({64, 64}));
    CHECK(!names.contains("fast_norm.bias"));
    torch::NoGradGuard noGrad;
    const auto h = model->hidden(torch::tensor(randomIds(32, config.vocabSize, 4)).unsqueeze(0));
    const auto out = ttt->forward(h);
    CHECK(torch::equal(out.hidden, h));  // zero proj_out: UPDATE == SKIP before training
    CHECK(out.stats.step0.size(1) == 4);

    // Saved and loaded for this backbone; refused for another architecture even when forced.
    TempDir dir("ponder_gemma_ttt");
    tttConfig.backboneSha256 = std::string(64, 'a');
    TttModel saved(tttConfig);
    saved->initialiseWeights(3);
    saveTttCheckpoint(saved, dir.path);
    const auto text = readFileBytes(dir.path / "ttt.json");
    CHECK_THAT(text, Catch::Contains("\"backbone_arch\": \"gemma3_text\"") &&
                         Catch::Contains("\"ttt_width\": 64"));
    CHECK(loadTttCheckpoint(dir.path, info, tttConfig.backboneSha256, false)->config().tttWidth ==
          64);
    CHECK_THAT(errorOf([&] { loadTttCheckpoint(dir.path, info, std::string(64, 'b'), false); }),
               Catch::Contains("another backbone"));
    auto gpt2 = info;
    gpt2.arch = kArchGpt2;
    CHECK_THAT(errorOf([&] { loadTttCheckpoint(dir.path, gpt2, tttConfig.backboneSha256, true); }),
               Catch::Contains("made for a gemma3_text backbone"));
}

TEST_CASE("eval: a Gemma 3 test model evaluates SKIP and UPDATE like GPT-2, in F32 and BF16",
          "[gemma3][eval][sentencepiece]") {
    TempDir dir("ponder_gemma_eval");
    const auto options = smallGemmaWithTtt(32);
    const auto summary = makeTestModel(dir.path / "model", options);
    CHECK(summary.tttParameterCount > 0);
    const auto inspected = inspectModelDir(dir.path / "model");
    CHECK(inspected.backbone.arch == kArchGemma3);
    CHECK(inspected.weightFiles == 2);
    CHECK(inspected.tokenizerKind == "SentencePiece");

    const fs::path source = fs::path(PONDER_SOURCE_DIR) / "core/gating/gate.cpp";
    std::vector<double> skip;
    for (const bool bf16 : {false, true}) {
        EvalOptions eval;
        eval.bf16 = bf16;
        Evaluator evaluator(dir.path / "model", eval);
        CHECK(evaluator.backboneInfo().arch == kArchGemma3);
        const auto plan = buildEvalPlan(evaluator.tokenizer(), {source},
                                        evaluator.planOptions(EvalMode::File, 128));
        REQUIRE(plan.units.size() >= 2);
        const auto record = evaluator.evaluateUnit(plan, plan.units[0]);
        CHECK(std::isfinite(record.lossSkip));
        CHECK(std::isfinite(record.reconStep0));
        CHECK(std::abs(record.lossUpdate - record.lossSkip) > 1e-6);  // the random layer acts
        skip.push_back(record.lossSkip);
    }
    CHECK(std::abs(skip[0] - skip[1]) < 0.05 * skip[0]);
    EvalOptions defaults;
    CHECK_THAT(errorOf([&] {
                   Evaluator evaluator(dir.path / "model", defaults);
                   evaluator.planOptions(EvalMode::File, 256);
               }),
               Catch::Contains("exceeds the model's 255 positions"));
}
