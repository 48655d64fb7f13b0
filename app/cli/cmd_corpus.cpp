// `ponder corpus build|list`: corpora from real code by recipe (datasets/README.md), with copies
// per split and a manifest of hashes and token counts.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <thread>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "app/cli/eval_runner.h"
#include "core/data/corpus.h"
#include "core/text/bpe_tokenizer.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"
#include "core/util/sha256.h"

namespace ponder::app {

namespace {
namespace fs = std::filesystem;

std::string splitRuleText(const core::CorpusSplitRule& rule) {
    if (rule.method == core::CorpusSplitMethod::Single) return rule.single;
    char fraction[32];
    std::snprintf(fraction, sizeof fraction, "%g", rule.testFraction * 100.0);
    return rule.train + "+" + rule.test + " (hash, seed " + std::to_string(rule.seed) + ", " +
           fraction + "% " + rule.test + ")";
}

std::string languagesOf(const core::CorpusRecipe& recipe) {
    std::vector<std::string> languages;
    for (const auto& source : recipe.sources)
        if (std::find(languages.begin(), languages.end(), source.language) == languages.end())
            languages.push_back(source.language);
    std::string text;
    for (const auto& language : languages)
        text += (text.empty() ? "" : ",") + language;
    return text;
}

const char* const kDefaultRecipeDir = "datasets/recipes";

CommandForm buildForm() {
    return {"build RECIPE.json",
            {option("--out", "DIR", "the corpus folder"),
             option("--manifest-out", "FILE", "also (or only) write the manifest here"),
             option("--tokenizer", "DIR", "a model or tokenizer folder: fills the tokens column"),
             threadsOption(), quietOption()},
            "Selects files by the recipe (roots, extensions, exclude globs, size bounds,\n"
            "generated-file markers), skips binary and non-UTF-8 files, keeps the first path of\n"
            "each exact (SHA-256) or near duplicate (line-set Jaccard) and splits per file.\n"
            "Writes DIR/<split>/<path> copies, DIR/manifest.tsv (path, sha256, language, split,\n"
            "bytes, tokens), skipped.tsv and recipe.json; --manifest-out also writes the manifest\n"
            "elsewhere (e.g. datasets/manifests/). Recipe format: datasets/README.md."};
}

CommandForm listForm() {
    return {"list [RECIPE_DIR]",
            {},
            std::string("The recipes in RECIPE_DIR (default ") + kDefaultRecipeDir +
                ") and whether their sources are present."};
}

// Selects the recipe's files on `threads` threads (progress on a terminal); Ctrl-C or SIGTERM
// stops the build before anything is written.
core::CorpusBuild selectWithProgress(const core::CorpusRecipe& recipe,
                                     core::CorpusBuildOptions options, bool quiet) {
    const bool showProgress = !quiet && ::isatty(STDERR_FILENO);
    if (showProgress)
        options.onProgress = [](std::size_t done, std::size_t total) {
            std::cerr << "\rreading " << done << "/" << total << " files" << std::flush;
        };
    core::CorpusBuild build;
    {
        InterruptGuard guard;
        options.cancel = InterruptGuard::flag();
        build = core::selectCorpus(recipe, options);
    }
    if (showProgress) std::cerr << "\r" << std::string(40, ' ') << "\r" << std::flush;
    if (build.cancelled)
        throw core::CancelledError("corpus build cancelled; nothing written",
                                   "run the command again to build the corpus");
    return build;
}

// What was found and skipped (by reason), and each split's size.
void printCorpusSummary(const core::CorpusRecipe& recipe, const core::CorpusBuild& build) {
    using R = core::CorpusSkipReason;
    std::string extensions;  // every source's, in first-seen order
    for (const auto& source : recipe.sources)
        for (const auto& extension : source.extensions)
            if (("," + extensions + ",").find("," + extension + ",") == std::string::npos)
                extensions += (extensions.empty() ? "" : ",") + extension;
    std::cout << "corpus " << recipe.name << ": " << build.candidates << " " << extensions
              << " files, " << build.excluded << " excluded by pattern; skipped "
              << build.skippedFor(R::TooSmall) << " too small, " << build.skippedFor(R::TooLarge)
              << " too large, " << build.skippedFor(R::Binary) << " binary, "
              << build.skippedFor(R::NotUtf8) << " not UTF-8, " << build.skippedFor(R::Generated)
              << " generated, " << build.skippedFor(R::Duplicate) << " duplicates, "
              << build.skippedFor(R::NearDuplicate) << " near duplicates";
    if (const auto other = build.skippedFor(R::Unreadable) + build.skippedFor(R::UnsafeName))
        std::cout << ", " << other << " unreadable or badly named";
    std::cout << "\n";
    for (const auto& split : build.splits) {
        std::cout << "  " << split.split << ": " << split.files << " files, " << split.bytes
                  << " bytes";
        if (build.hasTokens) std::cout << ", " << split.tokens << " tokens";
        std::cout << "\n";
    }
}

int runCorpusBuild(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, buildForm().options);
    if (args.positionals().size() != 1) throw UsageError("expected exactly one RECIPE.json");
    const auto out = args.value("--out");
    const auto manifestOut = args.value("--manifest-out");
    if (!out && !manifestOut) throw UsageError("--out DIR (or --manifest-out FILE) is required");
    const long long threads = args.integerOr("--threads", 0);
    if (threads < 0) throw UsageError("--threads must be 0 (all cores) or positive");

    const auto recipe = core::loadCorpusRecipe(args.positionals().front());
    std::optional<core::BpeTokenizer> tokenizer;
    if (const auto dir = args.value("--tokenizer")) tokenizer = core::BpeTokenizer::load(*dir);
    core::CorpusBuildOptions options;
    options.threads = threads > 0
                          ? static_cast<int>(threads)
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (tokenizer)
        options.countTokens = [&](std::string_view text) { return tokenizer->encode(text).size(); };
    const auto build = selectWithProgress(recipe, options, args.flag("--quiet"));

    const auto manifest = core::corpusManifestTsv(build);
    if (out) core::writeCorpus(recipe, build, *out);
    if (manifestOut) {
        const fs::path path(*manifestOut);
        std::error_code ec;
        if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
        core::writeFileAtomic(path, manifest);
    }
    printCorpusSummary(recipe, build);
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1f", build.seconds);
    std::cout << "manifest sha256 " << core::sha256Hex(manifest) << " (" << build.files.size()
              << " files" << (build.hasTokens ? "" : ", no token counts without --tokenizer")
              << "); selected in " << seconds << " s with " << options.threads << " threads\n";
    if (out) {
        std::cout << "wrote " << *out << "/{";
        for (const auto& split : build.splits)
            std::cout << split.split << "/,";
        std::cout << "manifest.tsv,skipped.tsv,recipe.json}\n";
    }
    if (manifestOut) std::cout << "wrote " << *manifestOut << "\n";
    return 0;
}

int runCorpusList(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, listForm().options);
    if (args.positionals().size() > 1) throw UsageError("expected at most one RECIPE_DIR");
    const fs::path dir = args.positionals().empty() ? fs::path(kDefaultRecipeDir)
                                                    : fs::path(args.positionals().front());
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw core::InputError("recipe folder '" + dir.string() + "' does not exist",
                               "run from the repository root or pass the folder, e.g. "
                               "`ponder corpus list datasets/recipes`");
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.path().extension() == ".json") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    if (files.empty())
        throw core::InputError("no *.json recipes in '" + dir.string() + "'",
                               "pass the folder that holds the recipes");
    for (const auto& file : files) {
        const auto recipe = core::loadCorpusRecipe(file);
        std::size_t missing = 0;
        std::string hint;
        for (const auto& source : recipe.sources)
            if (!fs::exists(source.root, ec)) {
                ++missing;
                if (hint.empty()) hint = source.missingHint;
            }
        std::cout << recipe.name << "  [" << languagesOf(recipe) << "; "
                  << splitRuleText(recipe.split) << "]  " << file.string() << "\n";
        if (!recipe.description.empty()) std::cout << "    " << recipe.description << "\n";
        std::cout << "    sources: " << recipe.sources.size() << ", "
                  << (missing ? std::to_string(missing) + " missing" +
                                    (hint.empty() ? "" : " (" + hint + ")")
                              : "all present")
                  << "\n";
    }
    return 0;
}

}  // namespace

Command corpusCommand() {
    return {"corpus",
            "build corpora of real code from recipes (split, dedup, manifest)",
            {buildForm(), listForm()},
            runCorpus};
}

int runCorpus(const Arguments& args) {
    if (args.empty()) throw UsageError("expected a subcommand: build or list");
    const Arguments rest(args.begin() + 1, args.end());
    if (args.front() == "build") return runCorpusBuild(rest);
    if (args.front() == "list") return runCorpusList(rest);
    throw UsageError("unknown subcommand '" + args.front() + "' (expected build or list)");
}

}  // namespace ponder::app
