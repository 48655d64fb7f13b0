// Scans datasets/ for the dataset browser: recipes (core's parser), manifests and built corpora.
#include "app/studio/state/datasets.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "core/data/corpus.h"
#include "core/util/errors.h"

namespace ponder::studio {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> splitTabs(const std::string& line) {
    std::vector<std::string> fields;
    std::stringstream stream(line);
    std::string field;
    while (std::getline(stream, field, '\t'))
        fields.push_back(field);
    return fields;
}

// Rows of a manifest.tsv ("path sha256 language split bytes tokens"); throws on a bad header.
std::vector<DatasetFile> readManifest(const fs::path& file) {
    std::ifstream in(file);
    if (!in) throw core::InputError("cannot read " + file.string(), "check the file's permissions");
    std::string line;
    std::getline(in, line);
    const auto header = splitTabs(line);
    if (header.size() < 6 || header[0] != "path" || header[3] != "split")
        throw core::InputError(file.string() + " is not a corpus manifest",
                               "rebuild it with `ponder corpus build`");
    std::vector<DatasetFile> rows;
    while (std::getline(in, line)) {
        const auto fields = splitTabs(line);
        if (fields.size() < 5) continue;
        DatasetFile row;
        row.path = fields[0];
        row.language = fields[2];
        row.split = fields[3];
        try {
            row.bytes = std::stoull(fields[4]);
            row.tokens = fields.size() > 5 && !fields[5].empty() ? std::stoull(fields[5]) : 0;
        } catch (const std::exception&) {
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

}  // namespace

std::vector<std::string> Dataset::splits() const {
    std::vector<std::string> out;
    for (const auto& f : files)
        if (std::find(out.begin(), out.end(), f.split) == out.end()) out.push_back(f.split);
    return out;
}

std::vector<std::string> Dataset::languages(const std::string& split) const {
    std::vector<std::string> out;
    for (const auto& f : files)
        if (f.split == split && std::find(out.begin(), out.end(), f.language) == out.end())
            out.push_back(f.language);
    return out;
}

fs::path findDatasetsRoot() {
    for (const fs::path& candidate :
         {fs::current_path() / "datasets", fs::path(PONDER_SOURCE_DIR) / "datasets"})
        if (fs::is_directory(candidate / "recipes") || fs::is_directory(candidate / "build"))
            return candidate;
    return {};
}

std::vector<Dataset> scanDatasets(const fs::path& root, const fs::path& buildDir) {
    std::map<std::string, Dataset> byName;
    std::error_code error;
    const auto each = [&](const fs::path& dir, auto&& visit) {
        if (!fs::is_directory(dir, error)) return;
        std::vector<fs::path> entries;
        for (const auto& entry : fs::directory_iterator(dir, error))
            entries.push_back(entry.path());
        std::sort(entries.begin(), entries.end());
        for (const auto& path : entries)
            visit(path);
    };
    each(root / "recipes", [&](const fs::path& path) {
        if (path.extension() != ".json") return;
        auto& d = byName[path.stem().string()];
        d.name = path.stem().string();
        d.recipe = path;
        try {
            const auto recipe = core::loadCorpusRecipe(path);
            d.description = recipe.description;
            d.language = recipe.language;
        } catch (const std::exception& e) {
            d.error = e.what();
        }
    });
    each(root / "manifests", [&](const fs::path& path) {
        if (path.extension() != ".tsv") return;
        auto& d = byName[path.stem().string()];
        d.name = path.stem().string();
        d.manifest = path;
        try {
            d.manifestFiles = readManifest(path).size();
        } catch (const std::exception& e) {
            d.error = e.what();
        }
    });
    each(buildDir.empty() ? root / "build" : buildDir, [&](const fs::path& dir) {
        if (!fs::is_regular_file(dir / "manifest.tsv", error)) return;
        auto& d = byName[dir.filename().string()];
        d.name = dir.filename().string();
        d.built = dir;
        try {
            for (auto& row : readManifest(dir / "manifest.tsv")) {
                row.onDisk = dir / row.split / row.path;
                if (fs::is_regular_file(row.onDisk, error))
                    d.files.push_back(std::move(row));
                else
                    ++d.missingFiles;
            }
        } catch (const std::exception& e) {
            d.error = e.what();
        }
    });
    std::vector<Dataset> out;
    for (auto& [name, dataset] : byName)
        out.push_back(std::move(dataset));
    return out;
}

}  // namespace ponder::studio
