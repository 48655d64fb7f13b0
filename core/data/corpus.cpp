// Corpus recipes and builds from real code on the machine (datasets/README.md). The filters
// follow The Stack v2's spirit (no tests, vendored, minified or generated files; exact
// duplicates removed) on local sources; the split is per file so it never depends on which
// other files happen to be installed.
#include "core/data/corpus.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include "core/data/corpus_files.h"
#include "core/text/text_input.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"
#include "core/util/sha256.h"

namespace ponder::core {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kFormatHint = "see datasets/README.md for the recipe format";

class RecipeReader {
public:
    explicit RecipeReader(std::string origin) : m_origin(std::move(origin)) {}

    [[noreturn]] void fail(const std::string& what) const {
        throw InputError("recipe '" + m_origin + "': " + what, kFormatHint);
    }

    void checkKeys(const json& object, const std::string& where,
                   const std::vector<std::string>& allowed) const {
        if (!object.is_object()) fail(where + " must be a JSON object");
        for (const auto& item : object.items())
            if (std::find(allowed.begin(), allowed.end(), item.key()) == allowed.end())
                fail("unknown key '" + item.key() + "' in " + where);
    }

    std::optional<std::string> optString(const json& object, const std::string& key,
                                         const std::string& where) const {
        const auto it = object.find(key);
        if (it == object.end()) return std::nullopt;
        if (!it->is_string()) fail(where + "." + key + " must be a string");
        return it->get<std::string>();
    }

    std::string string(const json& object, const std::string& key, const std::string& where) const {
        auto value = optString(object, key, where);
        if (!value || value->empty()) fail(where + "." + key + " is required (a non-empty string)");
        return *value;
    }

    std::vector<std::string> strings(const json& object, const std::string& key,
                                     const std::string& where) const {
        const auto it = object.find(key);
        if (it == object.end()) return {};
        if (!it->is_array()) fail(where + "." + key + " must be an array of strings");
        std::vector<std::string> values;
        for (const auto& item : *it) {
            if (!item.is_string() || item.get<std::string>().empty())
                fail(where + "." + key + " must hold non-empty strings");
            values.push_back(item.get<std::string>());
        }
        return values;
    }

    std::optional<std::uint64_t> optUnsigned(const json& object, const std::string& key,
                                             const std::string& where) const {
        const auto it = object.find(key);
        if (it == object.end()) return std::nullopt;
        if (!it->is_number_unsigned()) fail(where + "." + key + " must be a non-negative integer");
        return it->get<std::uint64_t>();
    }

private:
    std::string m_origin;
};

bool isSafeName(const std::string& name) {
    if (name.empty() || name == "." || name == "..") return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
    });
}

bool isSafeRelative(const std::string& path) {
    if (path.empty()) return true;
    if (path.front() == '/' || path.back() == '/') return false;
    std::size_t start = 0;
    while (start <= path.size()) {
        const auto end = std::min(path.find('/', start), path.size());
        const auto segment = path.substr(start, end - start);
        if (segment.empty() || segment == "." || segment == "..") return false;
        start = end + 1;
    }
    return true;
}

CorpusSplitRule parseSplit(const RecipeReader& reader, const json& split) {
    const std::string where = "split";
    if (!split.is_object()) reader.fail("split must be an object such as {\"method\": \"single\"}");
    CorpusSplitRule rule;
    const auto method = reader.string(split, "method", where);
    if (method == "hash") {
        reader.checkKeys(split, where, {"method", "seed", "test_fraction", "train", "test"});
        rule.method = CorpusSplitMethod::Hash;
        rule.seed = reader.optUnsigned(split, "seed", where).value_or(42);
        const auto fraction = split.find("test_fraction");
        if (fraction != split.end()) {
            if (!fraction->is_number()) reader.fail("split.test_fraction must be a number");
            rule.testFraction = fraction->get<double>();
        }
        if (!(rule.testFraction >= 0.0 && rule.testFraction <= 1.0))
            reader.fail("split.test_fraction must be within [0, 1]");
        rule.train = reader.optString(split, "train", where).value_or("train");
        rule.test = reader.optString(split, "test", where).value_or("test");
        if (!isSafeName(rule.train) || !isSafeName(rule.test) || rule.train == rule.test)
            reader.fail("split.train and split.test must be two different folder names");
    } else if (method == "single") {
        reader.checkKeys(split, where, {"method", "name"});
        rule.method = CorpusSplitMethod::Single;
        rule.single = reader.optString(split, "name", where).value_or("ood");
        if (!isSafeName(rule.single)) reader.fail("split.name must be a folder name");
    } else {
        reader.fail("split.method must be \"hash\" or \"single\", not \"" + method + "\"");
    }
    return rule;
}

std::vector<std::string> extensionsOf(const RecipeReader& reader, const json& object,
                                      const std::string& where) {
    std::vector<std::string> extensions;
    for (auto extension : reader.strings(object, "extensions", where))
        extensions.push_back(dottedExtension(extension));
    return extensions;
}

// {"fraction": 0.25, "seed": 7}: keep a hashed share of one source (e.g. to cap a language's
// share of a mixed corpus).
void parseSample(const RecipeReader& reader, const json& sample, const std::string& where,
                 CorpusSource& source) {
    if (!sample.is_object()) reader.fail(where + " must be an object such as {\"fraction\": 0.5}");
    reader.checkKeys(sample, where, {"fraction", "seed"});
    const auto fraction = sample.find("fraction");
    if (fraction == sample.end() || !fraction->is_number())
        reader.fail(where + ".fraction is required (a number in (0, 1])");
    source.sampleFraction = fraction->get<double>();
    if (!(source.sampleFraction > 0.0 && source.sampleFraction <= 1.0))
        reader.fail(where + ".fraction must be within (0, 1]");
    source.sampleSeed = reader.optUnsigned(sample, "seed", where).value_or(42);
}

bool validUtf8Name(const std::string& name) {
    return findInvalidUtf8(name) == std::string_view::npos &&
           name.find_first_of("\t\n\r") == std::string::npos;
}

bool hasExtension(const std::string& name, const std::vector<std::string>& extensions) {
    for (const auto& extension : extensions)
        if (name.size() > extension.size() &&
            name.compare(name.size() - extension.size(), extension.size(), extension) == 0)
            return true;
    return false;
}

struct Candidate {
    fs::path source;
    std::string path;
    std::string language;
    std::uint64_t size = 0;
};

struct Outcome {
    bool kept = false;
    CorpusSkipReason reason = CorpusSkipReason::Unreadable;
    std::string detail;
    std::string sha256;
    std::uint64_t bytes = 0;
    std::optional<std::uint64_t> tokens;
    std::vector<std::uint64_t> lines;  // corpusLineSet, only for near-duplicate detection
};

Outcome examine(const Candidate& candidate, const CorpusRecipe& recipe,
                const CorpusBuildOptions& options) {
    Outcome outcome;
    std::string text;
    try {
        text = readFileBytes(candidate.source);
    } catch (const InputError& error) {
        outcome.reason = CorpusSkipReason::Unreadable;
        outcome.detail = error.what();
        return outcome;
    }
    // The size was taken from the directory scan; re-check in case the file changed since.
    if (text.size() < recipe.minBytes) return outcome.reason = CorpusSkipReason::TooSmall, outcome;
    if (text.size() > recipe.maxBytes) return outcome.reason = CorpusSkipReason::TooLarge, outcome;
    if (const auto nul = text.find('\0'); nul != std::string::npos) {
        outcome.reason = CorpusSkipReason::Binary;
        outcome.detail = "NUL byte at offset " + std::to_string(nul);
        return outcome;
    }
    if (const auto bad = findInvalidUtf8(text); bad != std::string_view::npos) {
        outcome.reason = CorpusSkipReason::NotUtf8;
        outcome.detail = "first bad byte at offset " + std::to_string(bad);
        return outcome;
    }
    if (auto marker = findGeneratedMarker(recipe.generatedMarkers, text)) {
        outcome.reason = CorpusSkipReason::Generated;
        outcome.detail = marker->substr(0, 200);
        return outcome;
    }
    outcome.kept = true;
    outcome.bytes = text.size();
    outcome.sha256 = sha256Hex(text);
    if (options.countTokens) outcome.tokens = options.countTokens(text);
    if (recipe.nearDuplicateThreshold > 0.0) outcome.lines = corpusLineSet(text);
    return outcome;
}

std::vector<Candidate> scanSources(const CorpusRecipe& recipe, CorpusBuild& build,
                                   std::vector<CorpusSkip>& skipped) {
    std::vector<Candidate> candidates;
    for (const auto& source : recipe.sources) {
        std::error_code ec;
        const auto status = fs::status(source.root, ec);
        if (!fs::exists(status))
            throw InputError(
                "recipe '" + recipe.name + "': source root '" + source.rootText +
                    "' does not exist",
                source.missingHint.empty() ? "check the recipe's root paths" : source.missingHint);
        std::vector<fs::path> files;
        if (fs::is_directory(status)) {
            for (auto it = fs::recursive_directory_iterator(
                     source.root, fs::directory_options::skip_permission_denied, ec);
                 !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
                std::error_code fileEc;
                if (it->is_regular_file(fileEc)) files.push_back(it->path());
            }
            if (ec)
                throw InputError("recipe '" + recipe.name + "': cannot list '" + source.rootText +
                                     "': " + ec.message(),
                                 "check the folder's permissions");
        } else {
            files.push_back(source.root);
        }
        for (const auto& file : files) {
            const std::string rel = fs::is_directory(status)
                                        ? file.lexically_relative(source.root).generic_string()
                                        : file.filename().string();
            if (!hasExtension(file.filename().string(), source.extensions)) continue;
            ++build.candidates;
            const std::string path = source.prefix.empty() ? rel : source.prefix + "/" + rel;
            if (corpusPathExcluded(recipe.exclude, rel) ||
                corpusPathExcluded(source.exclude, rel) ||
                corpusSplitKey(source.sampleSeed, path) >= source.sampleFraction) {
                ++build.excluded;
                continue;
            }
            Candidate candidate;
            candidate.source = file;
            candidate.path = path;
            candidate.language = source.language;
            std::error_code sizeEc;
            candidate.size = fs::file_size(file, sizeEc);
            if (!validUtf8Name(candidate.path)) {
                skipped.push_back({candidate.path, CorpusSkipReason::UnsafeName,
                                   "a tab, newline or non-UTF-8 byte in the name"});
            } else if (sizeEc) {
                skipped.push_back({candidate.path, CorpusSkipReason::Unreadable, sizeEc.message()});
            } else if (candidate.size < recipe.minBytes) {
                skipped.push_back({candidate.path, CorpusSkipReason::TooSmall,
                                   std::to_string(candidate.size) + " bytes"});
            } else if (candidate.size > recipe.maxBytes) {
                skipped.push_back({candidate.path, CorpusSkipReason::TooLarge,
                                   std::to_string(candidate.size) + " bytes"});
            } else {
                candidates.push_back(std::move(candidate));
            }
        }
    }
    std::sort(candidates.begin(), candidates.end(),
              [](const Candidate& a, const Candidate& b) { return a.path < b.path; });
    for (std::size_t i = 1; i < candidates.size(); ++i)
        if (candidates[i].path == candidates[i - 1].path)
            throw InputError("recipe '" + recipe.name + "': two sources give the same path '" +
                                 candidates[i].path + "'",
                             "give the sources different \"prefix\" values");
    return candidates;
}

// Lines found in more files than this propose no candidates (they would make the search
// quadratic); candidates are still compared on all their lines.
constexpr std::uint32_t kCommonLineFiles = 64;

// Keeps each file (in path order) unless its line set is within the threshold of an earlier
// kept file's; candidates come from an inverted index of the less common lines.
std::vector<std::size_t> dropNearDuplicates(const std::vector<Candidate>& candidates,
                                            const std::vector<Outcome>& outcomes,
                                            const std::vector<std::size_t>& order, double threshold,
                                            std::vector<CorpusSkip>& skipped) {
    std::unordered_map<std::uint64_t, std::uint32_t> fileCount;
    for (const std::size_t i : order)
        for (const auto line : outcomes[i].lines)
            ++fileCount[line];
    std::unordered_map<std::uint64_t, std::vector<std::size_t>> postings;
    std::vector<std::size_t> kept, proposed;
    std::vector<std::uint32_t> shared(candidates.size(), 0);  // rare lines shared with file i
    for (const std::size_t i : order) {
        const auto& lines = outcomes[i].lines;
        proposed.clear();
        std::size_t commonLines = 0;
        for (const auto line : lines) {
            if (fileCount[line] > kCommonLineFiles) {
                ++commonLines;
                continue;
            }
            const auto it = postings.find(line);
            if (it == postings.end()) continue;
            for (const std::size_t j : it->second)
                if (shared[j]++ == 0) proposed.push_back(j);
        }
        std::sort(proposed.begin(), proposed.end());
        std::optional<std::size_t> match;
        double best = 0.0;
        for (const std::size_t j : proposed) {
            // |A ∩ B| <= shared rare lines + A's common lines, and Jaccard >= t needs
            // |A ∩ B| >= t * max(|A|, |B|): an exact bound, so skipping changes no result.
            const double bound = static_cast<double>(shared[j] + commonLines);
            shared[j] = 0;
            const double larger =
                static_cast<double>(std::max(lines.size(), outcomes[j].lines.size()));
            if (bound < threshold * larger) continue;
            const double similarity = corpusJaccard(lines, outcomes[j].lines);
            if (similarity >= threshold && similarity > best) best = similarity, match = j;
        }
        if (match) {
            char detail[32];
            std::snprintf(detail, sizeof detail, " (jaccard %.3f)", best);
            skipped.push_back({candidates[i].path, CorpusSkipReason::NearDuplicate,
                               candidates[*match].path + detail});
            continue;
        }
        kept.push_back(i);
        for (const auto line : lines)
            if (fileCount[line] <= kCommonLineFiles) postings[line].push_back(i);
    }
    return kept;
}

}  // namespace

std::vector<std::uint64_t> corpusLineSet(std::string_view text) {
    std::vector<std::uint64_t> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        auto line = text.substr(start, end - start);
        start = end + 1;
        const auto first = line.find_first_not_of(" \t\r\f\v");
        if (first == std::string_view::npos) continue;
        line = line.substr(first, line.find_last_not_of(" \t\r\f\v") - first + 1);
        std::uint64_t hash = 14695981039346656037ull;  // FNV-1a: stable across platforms
        for (const char c : line)
            hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
        lines.push_back(hash);
    }
    std::sort(lines.begin(), lines.end());
    lines.erase(std::unique(lines.begin(), lines.end()), lines.end());
    return lines;
}

double corpusJaccard(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b) {
    if (a.empty() && b.empty()) return 0.0;
    std::size_t common = 0, i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        if (a[i] < b[j]) {
            ++i;
        } else if (b[j] < a[i]) {
            ++j;
        } else {
            ++common, ++i, ++j;
        }
    }
    return static_cast<double>(common) / static_cast<double>(a.size() + b.size() - common);
}

CorpusRecipe parseCorpusRecipe(std::string_view text, const fs::path& baseDir,
                               const std::string& origin) {
    const RecipeReader reader(origin);
    json root;
    try {
        root = json::parse(text.begin(), text.end());
    } catch (const json::exception& error) {  // parse_error, or out_of_range for 1e999
        std::string what = error.what();
        if (const auto close = what.find("] "); close != std::string::npos)
            what = what.substr(close + 2);
        reader.fail("not valid JSON (" + what + ")");
    }
    reader.checkKeys(root, "the recipe",
                     {"name", "description", "language", "extensions", "sources", "exclude",
                      "generated_markers", "near_duplicates", "min_bytes", "max_bytes", "split"});
    CorpusRecipe recipe;
    recipe.text = std::string(text);
    recipe.name = reader.string(root, "name", "recipe");
    if (!isSafeName(recipe.name)) reader.fail("name must use only letters, digits, '.', '_', '-'");
    recipe.description = reader.optString(root, "description", "recipe").value_or("");
    recipe.language = reader.optString(root, "language", "recipe").value_or("");
    recipe.extensions = extensionsOf(reader, root, "recipe");
    recipe.exclude = reader.strings(root, "exclude", "recipe");
    recipe.generatedMarkers = reader.strings(root, "generated_markers", "recipe");
    if (const auto near = root.find("near_duplicates"); near != root.end()) {
        reader.checkKeys(*near, "near_duplicates", {"threshold"});
        const auto threshold = near->find("threshold");
        if (threshold == near->end() || !threshold->is_number())
            reader.fail("near_duplicates.threshold is required (a number in (0, 1], e.g. 0.7)");
        recipe.nearDuplicateThreshold = threshold->get<double>();
        if (!(recipe.nearDuplicateThreshold > 0.0 && recipe.nearDuplicateThreshold <= 1.0))
            reader.fail("near_duplicates.threshold must be within (0, 1]");
    }
    recipe.minBytes = reader.optUnsigned(root, "min_bytes", "recipe").value_or(1);
    recipe.maxBytes = reader.optUnsigned(root, "max_bytes", "recipe").value_or(1000000);
    if (recipe.minBytes < 1) recipe.minBytes = 1;  // empty files are never code
    if (recipe.maxBytes < recipe.minBytes) reader.fail("max_bytes is below min_bytes");

    const auto sources = root.find("sources");
    if (sources == root.end() || !sources->is_array() || sources->empty())
        reader.fail("sources is required: an array of {\"root\": PATH, ...}");
    for (std::size_t i = 0; i < sources->size(); ++i) {
        const auto& item = (*sources)[i];
        const std::string where = "sources[" + std::to_string(i) + "]";
        reader.checkKeys(
            item, where,
            {"root", "prefix", "language", "exclude", "missing_hint", "extensions", "sample"});
        CorpusSource source;
        source.rootText = reader.string(item, "root", where);
        const fs::path rootPath(source.rootText);
        source.root = rootPath.is_absolute() ? rootPath : baseDir / rootPath;
        source.root = source.root.lexically_normal();
        source.prefix = reader.optString(item, "prefix", where).value_or("");
        if (!isSafeRelative(source.prefix))
            reader.fail(where + ".prefix must be a relative path without '.' or '..' segments");
        source.language = reader.optString(item, "language", where).value_or(recipe.language);
        if (source.language.empty())
            reader.fail(where + " has no language (set \"language\" on the recipe or the source)");
        source.exclude = reader.strings(item, "exclude", where);
        source.missingHint = reader.optString(item, "missing_hint", where).value_or("");
        source.extensions = extensionsOf(reader, item, where);
        if (source.extensions.empty()) source.extensions = recipe.extensions;
        if (source.extensions.empty())
            reader.fail("extensions is required, e.g. [\".py\"] (on the recipe or on " + where +
                        ")");
        if (const auto sample = item.find("sample"); sample != item.end())
            parseSample(reader, *sample, where + ".sample", source);
        recipe.sources.push_back(std::move(source));
    }
    const auto split = root.find("split");
    if (split == root.end()) reader.fail("split is required, e.g. {\"method\": \"single\"}");
    recipe.split = parseSplit(reader, *split);
    return recipe;
}

CorpusRecipe loadCorpusRecipe(const fs::path& file) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec))
        throw InputError("recipe '" + file.string() + "' does not exist",
                         "pass a recipe such as datasets/recipes/python-stdlib.json");
    const std::string text = readFileBytes(file);
    auto recipe = parseCorpusRecipe(text, fs::absolute(file).parent_path(), file.string());
    recipe.file = file;
    return recipe;
}

bool globMatchPath(std::string_view pattern, std::string_view path) {
    std::size_t p = 0, s = 0;
    while (p < pattern.size()) {
        const char c = pattern[p];
        if (c == '*') {
            if (p + 1 < pattern.size() && pattern[p + 1] == '*') {
                std::size_t next = p + 2;
                if (next < pattern.size() && pattern[next] == '/') {
                    // "**/": zero or more whole folders.
                    if (globMatchPath(pattern.substr(next + 1), path.substr(s))) return true;
                    for (std::size_t k = s; k < path.size(); ++k)
                        if (path[k] == '/' &&
                            globMatchPath(pattern.substr(next + 1), path.substr(k + 1)))
                            return true;
                    return false;
                }
                for (std::size_t k = s; k <= path.size(); ++k)
                    if (globMatchPath(pattern.substr(next), path.substr(k))) return true;
                return false;
            }
            for (std::size_t k = s;; ++k) {
                if (globMatchPath(pattern.substr(p + 1), path.substr(k))) return true;
                if (k == path.size() || path[k] == '/') return false;
            }
        }
        if (s == path.size()) return false;
        if (c == '?') {
            if (path[s] == '/') return false;
        } else if (c != path[s]) {
            return false;
        }
        ++p, ++s;
    }
    return s == path.size();
}

bool globMatchLine(std::string_view pattern, std::string_view line) {
    // Greedy matching with one backtrack point: linear in the line for each star.
    std::size_t p = 0, s = 0, star = std::string_view::npos, mark = 0;
    while (s < line.size()) {
        if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == line[s])) {
            ++p, ++s;
        } else if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            mark = s;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            s = ++mark;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*')
        ++p;
    return p == pattern.size();
}

bool corpusPathExcluded(const std::vector<std::string>& patterns, std::string_view relPath) {
    for (const auto& pattern : patterns) {
        const bool anchored = pattern.find('/') != std::string::npos;
        std::size_t start = 0;
        while (start <= relPath.size()) {
            const auto slash = relPath.find('/', start);
            const auto end = slash == std::string_view::npos ? relPath.size() : slash;
            const auto candidate =
                anchored ? relPath.substr(0, end) : relPath.substr(start, end - start);
            if (globMatchPath(pattern, candidate)) return true;
            if (slash == std::string_view::npos) break;
            start = slash + 1;
        }
    }
    return false;
}

std::optional<std::string> findGeneratedMarker(const std::vector<std::string>& markers,
                                               std::string_view text) {
    if (markers.empty()) return std::nullopt;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        auto line = text.substr(start, end - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        for (const auto& marker : markers)
            if (globMatchLine(marker, line)) return std::string(line);
        start = end + 1;
    }
    return std::nullopt;
}

double corpusSplitKey(std::uint64_t seed, std::string_view path) {
    const std::string digest = sha256Hex(std::to_string(seed) + ":" + std::string(path));
    const std::uint64_t value = std::stoull(digest.substr(0, 13), nullptr, 16);
    return static_cast<double>(value) / static_cast<double>(std::uint64_t(1) << 52);
}

const std::string& corpusSplitOf(const CorpusSplitRule& rule, std::string_view path) {
    if (rule.method == CorpusSplitMethod::Single) return rule.single;
    return corpusSplitKey(rule.seed, path) < rule.testFraction ? rule.test : rule.train;
}

std::vector<std::string> corpusSplitNames(const CorpusSplitRule& rule) {
    if (rule.method == CorpusSplitMethod::Single) return {rule.single};
    return {rule.train, rule.test};
}

const char* corpusSkipReasonName(CorpusSkipReason reason) {
    switch (reason) {
        case CorpusSkipReason::TooSmall:
            return "too_small";
        case CorpusSkipReason::TooLarge:
            return "too_large";
        case CorpusSkipReason::Binary:
            return "binary";
        case CorpusSkipReason::NotUtf8:
            return "not_utf8";
        case CorpusSkipReason::Generated:
            return "generated";
        case CorpusSkipReason::Duplicate:
            return "duplicate";
        case CorpusSkipReason::NearDuplicate:
            return "near_duplicate";
        case CorpusSkipReason::Unreadable:
            return "unreadable";
        case CorpusSkipReason::UnsafeName:
            return "unsafe_name";
    }
    return "unknown";
}

std::size_t CorpusBuild::skippedFor(CorpusSkipReason reason) const {
    return static_cast<std::size_t>(std::count_if(
        skipped.begin(), skipped.end(), [&](const CorpusSkip& s) { return s.reason == reason; }));
}

namespace {

// Reads, checks, hashes and counts every candidate in parallel; results land by index, so the
// outcome does not depend on the thread count. Empty when cancelled before all were examined.
std::optional<std::vector<Outcome>> examineAll(const std::vector<Candidate>& candidates,
                                               const CorpusRecipe& recipe,
                                               const CorpusBuildOptions& options) {
    std::vector<Outcome> outcomes(candidates.size());
    std::atomic<std::size_t> next{0}, done{0};
    std::atomic<bool> stop{false};
    const auto worker = [&] {
        for (;;) {
            if (stop.load() || (options.cancel && options.cancel->load())) {
                stop = true;
                return;
            }
            const std::size_t i = next.fetch_add(1);
            if (i >= candidates.size()) return;
            try {
                outcomes[i] = examine(candidates[i], recipe, options);
            } catch (const std::exception& error) {  // e.g. out of memory in the tokenizer
                outcomes[i].reason = CorpusSkipReason::Unreadable;
                outcomes[i].detail = error.what();
            }
            done.fetch_add(1);
        }
    };
    const int threads =
        std::max(1, std::min<int>(options.threads, static_cast<int>(candidates.size())));
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back(worker);
    for (int tick = 0; done.load() < candidates.size() && !stop.load(); ++tick) {
        if (options.onProgress && tick % 10 == 0)
            options.onProgress(done.load(), candidates.size());
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (auto& thread : pool)
        thread.join();
    if (stop.load() && done.load() < candidates.size()) return std::nullopt;
    if (options.onProgress) options.onProgress(candidates.size(), candidates.size());
    return outcomes;
}

// The indices of the kept candidates with distinct content: of exact duplicates the first path
// in byte order keeps the content; the rest are skipped with their reason.
std::vector<std::size_t> distinctKept(const std::vector<Candidate>& candidates,
                                      std::vector<Outcome>& outcomes,
                                      std::vector<CorpusSkip>& skipped) {
    std::unordered_map<std::string, std::string> firstPath;
    std::vector<std::size_t> distinct;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        const auto& candidate = candidates[i];
        auto& outcome = outcomes[i];
        if (!outcome.kept) {
            skipped.push_back({candidate.path, outcome.reason, std::move(outcome.detail)});
            continue;
        }
        const auto [it, inserted] = firstPath.emplace(outcome.sha256, candidate.path);
        if (!inserted) {
            skipped.push_back({candidate.path, CorpusSkipReason::Duplicate, it->second});
            continue;
        }
        distinct.push_back(i);
    }
    return distinct;
}

std::vector<CorpusSplitSummary> splitSummaries(const CorpusRecipe& recipe,
                                               const std::vector<CorpusFile>& files) {
    std::vector<CorpusSplitSummary> splits;
    for (const auto& name : corpusSplitNames(recipe.split)) {
        CorpusSplitSummary summary;
        summary.split = name;
        for (const auto& file : files) {
            if (file.split != name) continue;
            ++summary.files;
            summary.bytes += file.bytes;
            summary.tokens += file.tokens.value_or(0);
        }
        splits.push_back(summary);
    }
    return splits;
}

}  // namespace

CorpusBuild selectCorpus(const CorpusRecipe& recipe, const CorpusBuildOptions& options) {
    const auto start = std::chrono::steady_clock::now();
    CorpusBuild build;
    build.recipeName = recipe.name;
    build.hasTokens = static_cast<bool>(options.countTokens);
    std::vector<CorpusSkip> skipped;
    const auto candidates = scanSources(recipe, build, skipped);
    auto outcomes = examineAll(candidates, recipe, options);
    if (!outcomes) {
        build.cancelled = true;
        return build;
    }
    auto distinct = distinctKept(candidates, *outcomes, skipped);
    if (recipe.nearDuplicateThreshold > 0.0)
        distinct = dropNearDuplicates(candidates, *outcomes, distinct,
                                      recipe.nearDuplicateThreshold, skipped);
    for (const std::size_t i : distinct) {
        const auto& candidate = candidates[i];
        auto& outcome = (*outcomes)[i];
        CorpusFile file;
        file.path = candidate.path;
        file.sha256 = std::move(outcome.sha256);
        file.language = candidate.language;
        file.split = corpusSplitOf(recipe.split, candidate.path);
        file.bytes = outcome.bytes;
        file.tokens = outcome.tokens;
        file.source = candidate.source;
        build.files.push_back(std::move(file));
    }
    std::sort(skipped.begin(), skipped.end(),
              [](const CorpusSkip& a, const CorpusSkip& b) { return a.path < b.path; });
    build.skipped = std::move(skipped);
    build.splits = splitSummaries(recipe, build.files);
    build.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return build;
}

std::string corpusManifestTsv(const CorpusBuild& build) {
    std::string out = "path\tsha256\tlanguage\tsplit\tbytes\ttokens\n";
    for (const auto& file : build.files) {
        out += file.path + '\t' + file.sha256 + '\t' + file.language + '\t' + file.split + '\t' +
               std::to_string(file.bytes) + '\t' +
               (file.tokens ? std::to_string(*file.tokens) : std::string()) + '\n';
    }
    return out;
}

std::string corpusSkippedTsv(const CorpusBuild& build) {
    std::string out = "path\treason\tdetail\n";
    for (const auto& skip : build.skipped) {
        std::string detail = skip.detail;
        std::replace_if(
            detail.begin(), detail.end(),
            [](char c) { return c == '\t' || c == '\n' || c == '\r'; }, ' ');
        out += skip.path + '\t' + corpusSkipReasonName(skip.reason) + '\t' + detail + '\n';
    }
    return out;
}

void writeCorpus(const CorpusRecipe& recipe, const CorpusBuild& build, const fs::path& outDir) {
    const auto fail = [&](const std::string& what, const std::string& hint) {
        return OutputError(what, hint);
    };
    std::error_code ec;
    if (fs::exists(outDir, ec)) {
        if (!fs::is_directory(outDir, ec))
            throw fail("'" + outDir.string() + "' exists and is not a folder",
                       "choose another {--out} folder");
        if (!fs::is_empty(outDir, ec) && !fs::exists(outDir / "manifest.tsv", ec))
            throw fail("'" + outDir.string() + "' is not empty and holds no manifest.tsv",
                       "choose a new or empty {--out} folder; a corpus build replaces only its "
                       "own earlier output");
    }
    const fs::path partial = outDir.string() + ".partial";
    fs::remove_all(partial, ec);
    if (!fs::create_directories(partial, ec) && ec)
        throw fail("cannot create '" + partial.string() + "': " + ec.message(),
                   "check that the parent folder is writable");
    for (const auto& file : build.files) {
        const fs::path target = partial / file.split / fs::path(file.path);
        fs::create_directories(target.parent_path(), ec);
        if (!ec) fs::copy_file(file.source, target, fs::copy_options::overwrite_existing, ec);
        if (ec)
            throw fail("cannot copy '" + file.source.string() + "' to '" + target.string() +
                           "': " + ec.message(),
                       "check free space and permissions of the {--out} folder");
    }
    writeFileAtomic(partial / "manifest.tsv", corpusManifestTsv(build));
    writeFileAtomic(partial / "skipped.tsv", corpusSkippedTsv(build));
    writeFileAtomic(partial / "recipe.json", recipe.text);
    fs::remove_all(outDir, ec);
    if (ec)
        throw fail("cannot replace '" + outDir.string() + "': " + ec.message(),
                   "remove the folder by hand and build again");
    fs::rename(partial, outDir, ec);
    if (ec)
        throw fail("cannot rename '" + partial.string() + "' to '" + outDir.string() +
                       "': " + ec.message(),
                   "check permissions of the parent folder");
}

}  // namespace ponder::core
