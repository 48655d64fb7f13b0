// `ponder generate`: gated TTT while the model writes. Streams the text to stdout, reports the
// gate's decisions on stderr, and stores the stream (--db) so the studio opens it like an
// evaluation run, or writes it as JSON (--json).
#include <unistd.h>

#include <iostream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "app/cli/eval_runner.h"
#include "app/cli/generate_args.h"
#include "core/eval/run_description.h"
#include "core/generate/generation_record.h"
#include "core/report/eval_json.h"
#include "core/store/run_recorder.h"
#include "core/text/text_input.h"
#include "core/text/tokenizer.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"

namespace ponder::app {

namespace {

// FILE, or "-" for standard input, as UTF-8 text (the checks readCodeFile makes on a file).
std::string readPrompt(const std::string& source) {
    if (source != "-") return core::readCodeFile(source);
    std::string text(std::istreambuf_iterator<char>(std::cin), {});
    core::checkCodeText(text, "the prompt on standard input");
    return text;
}

void printReport(const core::Generation& g, const core::GenerateOptions& options,
                 std::int64_t segmentTokens) {
    std::cerr << "\ngenerate: " << g.generatedTokens() << " tokens in "
              << fixed(g.generateSeconds, 2) << " s (" << fixed(g.tokensPerSecond(), 1)
              << " tokens/s), stopped by " << g.stopReason << "; prompt " << g.promptTokens
              << " tokens";
    if (g.promptTokensDropped > 0)
        std::cerr << " (its first " << g.promptTokensDropped
                  << " cut to fit the model's positions)";
    std::cerr << " read in " << fixed(g.promptSeconds, 2) << " s\n";
    std::string strip;
    for (const auto& s : g.segments)
        strip += s.decision ? 'U' : '.';
    std::cerr << "gate " << options.policy.name << ": " << g.segments.size() << " segments of "
              << segmentTokens << " tokens, update rate " << fixed(g.updateRate(), 2)
              << ", decisions " << strip << " (U = UPDATE)\n"
              << "loss of the generated tokens on the chosen paths: " << fixed(g.generatedLoss(), 4)
              << " nats\n";
}

}  // namespace

Command generateCommand() {
    const Options own = {option("--prompt", "FILE|-", "the prompt (-: standard input)"),
                         databaseOption("the stream as a run of mode generate"),
                         option("--label", "TEXT", "a label stored with the run"),
                         jsonOption("the eval JSON contract plus a `generation` object"),
                         quietOption()};
    return {
        "generate",
        "gated TTT while the model writes: streamed text, decisions, stored runs",
        {{"--model DIR --prompt FILE|-", own + generateOptionSpecs(),
          "Writes the continuation of the prompt to stdout as it is generated. The backbone\n"
          "decodes with its cache over the whole stream (prompt, then generated tokens); the TTT\n"
          "layer's fast weights learn token by token through the mini-batch scan and restart\n"
          "every --chunk tokens, as each evaluation chunk does. At each chunk boundary (or after\n"
          "every mini-batch) the policy decides from the segment just read or written whether\n"
          "the coming tokens are predicted on the UPDATE path (with the TTT layer) or the SKIP\n"
          "path (the backbone alone); the first segment, before anything is read, is UPDATE.\n"
          "Policies: skip, update, random, recon-ema (profile calibration when the model has\n"
          "calibration.json), recon-ema-paper, recon-ema-inverted, threshold.\n"
          "--seed also seeds the sampler. The text ends at --max-tokens, a --stop text, the\n"
          "end-of-text token, or the model's positions (a long prompt loses its first tokens to\n"
          "make room for the budget).\n"
          "stderr: tokens/s, the update rate and each segment's decision. --db stores the\n"
          "stream (prompt and generated text, per-token losses of both paths, every segment's\n"
          "signals and the decisions taken, as policy `generated`) that `ponder export` and\n"
          "ponder-studio open like an evaluation. Ctrl-C stops (exit 1, stored)."}},
        runGenerate};
}

namespace {

// The eval JSON of the stored stream, with the generation itself under "generation".
void writeGenerationJson(const std::string& path, const core::RunDescription& run,
                         const core::GenerationRun& stream, const core::RunAnalysis& analysis,
                         nlohmann::json detail, const core::Generation& generation) {
    auto json = nlohmann::json::parse(core::evalJson(run, stream.units, analysis));
    detail["prompt"] = generation.promptText;
    detail["text"] = generation.generatedText;
    detail["ids"] = generation.ids;
    detail["token_loss_skip"] = generation.tokenLossSkip;
    detail["token_loss_update"] = generation.tokenLossUpdate;
    detail["token_path"] = generation.tokenPath;
    detail["decisions"] = stream.taken.decisions;
    json["generation"] = detail;
    // The model may write bytes that are not UTF-8: they are written as U+FFFD.
    core::writeFileAtomic(path, json.dump(1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace

int runGenerate(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, generateCommand().forms.front().options);
    const auto modelDir = args.value("--model");
    if (!modelDir) throw UsageError("--model DIR is required");
    const auto promptSource = args.value("--prompt");
    if (!promptSource) throw UsageError("--prompt FILE (or - for standard input) is required");
    if (!args.positionals().empty())
        throw UsageError("unexpected argument '" + args.positionals().front() +
                         "' (the prompt goes after --prompt)");
    const bool quiet = args.flag("--quiet");
    auto options = generateOptionsFrom(args, *modelDir);
    const int threads = applyThreads(args);
    const auto prompt = readPrompt(*promptSource);
    if (const auto jsonPath = args.value("--json")) core::checkWritableFolder(*jsonPath, "--json");

    // The store is opened (and refused) before any model work.
    core::AnalysisSettings settings;
    settings.ours = options.policy;
    core::RecorderOptions recording;
    if (const auto db = args.value("--db")) recording.database = *db;
    recording.label = args.valueOr("--label", "");
    core::RunRecorder recorder(settings, recording);
    auto evaluator = loadGenerationModel(args, *modelDir);
    core::Generator generator(*evaluator);

    InterruptGuard interruptGuard;
    const bool terminal = ::isatty(STDOUT_FILENO);
    const auto generation = generator.generate(
        prompt, options, [](const std::string& piece) { std::cout << piece << std::flush; },
        InterruptGuard::flag());
    if (terminal) std::cout << "\n";
    std::cout.flush();
    const auto miniBatch = evaluator->tttConfig().miniBatch;
    if (!quiet) printReport(generation, options, options.decisionInterval(miniBatch));

    const auto label =
        "generation: " + (*promptSource == "-" ? std::string("stdin") : *promptSource);
    const auto stream =
        core::generationRun(generation, options, evaluator->tokenizer(), label, miniBatch);
    auto run = core::describeRun(*evaluator, stream.plan, *modelDir);
    run.mode = "generate";
    run.threads = threads;
    run.inputs = {*promptSource};
    run.rate = options.policy.rate;
    run.seconds = generation.promptSeconds + generation.generateSeconds;
    run.tokensPerSecond = generation.tokensPerSecond();
    const auto summary = core::generationSummary(generation, options);
    recorder.begin(run, stream.plan, summary.dump());
    for (const auto& unit : stream.units)
        recorder.add(unit);
    const bool cancelled = generation.stopReason == "cancelled";
    const auto analysis =
        recorder.finish(cancelled, run.seconds, run.tokensPerSecond, {stream.taken});
    if (recorder.runId() && !quiet)
        std::cerr << "stored as run " << *recorder.runId() << " in " << recording.database.string()
                  << "\n";
    if (const auto jsonPath = args.value("--json")) {
        writeGenerationJson(*jsonPath, run, stream, analysis, summary, generation);
        if (!quiet) std::cerr << "wrote " << *jsonPath << "\n";
    }
    if (cancelled) {
        std::cerr << "error: cancelled after " << generation.generatedTokens() << " tokens"
                  << (recorder.runId() ? " (they are stored)" : "")
                  << "\nhint: run it again to finish\n";
        return 1;
    }
    return 0;
}

}  // namespace ponder::app
