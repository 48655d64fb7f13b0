// Corpus recipes and builds (datasets/README.md): select real source files by recipe, drop
// binary, mis-encoded, out-of-size, generated and duplicate files, split at file level and
// write copies plus a manifest of hashes. Torch-free.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ponder::core {

struct CorpusSource {
    std::filesystem::path root;  // resolved: relative roots are taken from the recipe's folder
    std::string rootText;        // as written in the recipe, for messages
    std::string prefix;          // prepended to paths relative to root ("" = none)
    std::string language;        // the recipe's unless the source names its own
    std::vector<std::string> exclude;     // path globs, on top of the recipe's
    std::string missingHint;              // printed when the root does not exist
    std::vector<std::string> extensions;  // the recipe's unless the source names its own
    // A hashed share of the source's files: a candidate stays iff
    // corpusSplitKey(sampleSeed, output path) < sampleFraction (1 = all). The others count as
    // excluded. Like the split, a file's fate depends only on its own path.
    double sampleFraction = 1.0;
    std::uint64_t sampleSeed = 42;
};

enum class CorpusSplitMethod {
    Hash,   // test iff u(seed, path) < testFraction, else train (corpusSplitKey)
    Single  // every file in one split (OOD corpora)
};

struct CorpusSplitRule {
    CorpusSplitMethod method = CorpusSplitMethod::Single;
    std::string single = "ood";
    std::uint64_t seed = 42;
    double testFraction = 0.1;
    std::string train = "train";
    std::string test = "test";
};

struct CorpusRecipe {
    std::string name;  // [a-z0-9._-]+, names the manifest
    std::string description;
    std::string language;
    // ".py"; a file is a candidate iff its name ends so. May be empty when every source
    // names its own.
    std::vector<std::string> extensions;
    std::vector<CorpusSource> sources;
    std::vector<std::string> exclude;           // path globs for every source
    std::vector<std::string> generatedMarkers;  // whole-line globs marking generated files
    // Near duplicates: a file whose set of lines (trimmed, non-empty) has Jaccard similarity
    // >= this with an earlier kept file is dropped; 0 = exact duplicates only.
    double nearDuplicateThreshold = 0.0;
    std::uint64_t minBytes = 1;
    std::uint64_t maxBytes = 1000000;
    CorpusSplitRule split;
    std::filesystem::path file;  // the recipe file, when loaded from one
    std::string text;            // the recipe's JSON as read
};

// Parses a recipe; `baseDir` resolves relative roots, `origin` names it in messages. Unknown
// keys, wrong types and missing fields throw InputError with a hint.
CorpusRecipe parseCorpusRecipe(std::string_view json, const std::filesystem::path& baseDir,
                               const std::string& origin);
CorpusRecipe loadCorpusRecipe(const std::filesystem::path& file);

// Glob over a '/'-separated relative path: '*' and '?' stay inside one segment, '**' spans
// segments and "**/" also matches no segment at all.
bool globMatchPath(std::string_view pattern, std::string_view path);
// Glob over one line of text: '*' is any run of characters, '?' any one character.
bool globMatchLine(std::string_view pattern, std::string_view line);
// A pattern without '/' matches any one segment (a folder or the file name); a pattern with
// '/' matches the path or one of its leading folders.
bool corpusPathExcluded(const std::vector<std::string>& patterns, std::string_view relPath);
// The line (without '\n'/'\r') that matches a marker, or nullopt.
std::optional<std::string> findGeneratedMarker(const std::vector<std::string>& markers,
                                               std::string_view text);

// Sorted distinct 64-bit hashes (FNV-1a) of the text's lines, trimmed, empty ones left out.
std::vector<std::uint64_t> corpusLineSet(std::string_view text);
// |a ∩ b| / |a ∪ b| of two sorted distinct sets; 0 when both are empty.
double corpusJaccard(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b);

// u = first 13 hex digits of sha256("<seed>:<path>") / 16^13, uniform in [0, 1). A file's
// split depends only on its own path, so adding or removing other files never moves it.
double corpusSplitKey(std::uint64_t seed, std::string_view path);
const std::string& corpusSplitOf(const CorpusSplitRule& rule, std::string_view path);
std::vector<std::string> corpusSplitNames(const CorpusSplitRule& rule);

struct CorpusFile {
    std::string path;  // output path: prefix + path under the source root, '/'-separated
    std::string sha256;
    std::string language;
    std::string split;
    std::uint64_t bytes = 0;
    std::optional<std::uint64_t> tokens;
    std::filesystem::path source;  // where it was read
};

// Why a candidate was left out; excluded-by-pattern files are only counted.
enum class CorpusSkipReason {
    TooSmall,
    TooLarge,
    Binary,
    NotUtf8,
    Generated,
    Duplicate,
    NearDuplicate,
    Unreadable,
    UnsafeName
};
const char* corpusSkipReasonName(CorpusSkipReason reason);

struct CorpusSkip {
    std::string path;
    CorpusSkipReason reason;
    std::string detail;  // the kept file for (near) duplicates, the marker for generated files
};

struct CorpusSplitSummary {
    std::string split;
    std::size_t files = 0;
    std::uint64_t bytes = 0;
    std::uint64_t tokens = 0;
};

struct CorpusBuild {
    std::string recipeName;
    std::vector<CorpusFile> files;           // kept, sorted by path (byte order)
    std::vector<CorpusSkip> skipped;         // sorted by path
    std::size_t candidates = 0;              // files with a recipe extension
    std::size_t excluded = 0;                // of those, dropped by an exclude glob
    std::vector<CorpusSplitSummary> splits;  // in corpusSplitNames order
    bool hasTokens = false;
    bool cancelled = false;
    double seconds = 0.0;
    std::size_t skippedFor(CorpusSkipReason reason) const;
};

struct CorpusBuildOptions {
    // Token count of a file's text; empty leaves the manifest's tokens column empty. Called
    // from several threads at once.
    std::function<std::size_t(std::string_view)> countTokens;
    int threads = 1;
    // (files done, candidate files) from the calling thread, a few times per second.
    std::function<void(std::size_t, std::size_t)> onProgress;
    const std::atomic<bool>* cancel = nullptr;  // checked between files
};

// Scans the sources, filters, hashes, removes exact and then near duplicates (keeping the first
// path in byte order) and assigns splits. Reads files but writes nothing. Throws InputError for a
// missing root and for two different files with the same output path.
CorpusBuild selectCorpus(const CorpusRecipe& recipe, const CorpusBuildOptions& options = {});

// "path\tsha256\tlanguage\tsplit\tbytes\ttokens" header, one line per kept file in path order.
std::string corpusManifestTsv(const CorpusBuild& build);
// "path\treason\tdetail", one line per skipped file.
std::string corpusSkippedTsv(const CorpusBuild& build);

// Writes DIR/<split>/<path> copies, DIR/manifest.tsv, DIR/skipped.tsv and DIR/recipe.json,
// building in "DIR.partial" and then replacing DIR. Refuses (OutputError) a non-empty DIR
// that holds no manifest.tsv, so it never deletes a folder it did not write.
void writeCorpus(const CorpusRecipe& recipe, const CorpusBuild& build,
                 const std::filesystem::path& outDir);

}  // namespace ponder::core
