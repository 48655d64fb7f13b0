// The dataset browser's model (datasets/README.md): recipes in datasets/recipes, manifests in
// datasets/manifests, and the corpora `ponder corpus build` wrote into folders (each with a
// manifest.tsv and <split>/<path> copies), listed by split and language for opening.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ponder::studio {

struct DatasetFile {
    std::string path;  // as in the manifest: relative to the split folder
    std::filesystem::path onDisk;
    std::string language, split;
    std::uint64_t bytes = 0, tokens = 0;
};

struct Dataset {
    std::string name;
    std::string description, language;  // from the recipe
    std::filesystem::path recipe;       // empty: no recipe of that name
    std::filesystem::path manifest;     // datasets/manifests/<name>.tsv; empty: none
    std::size_t manifestFiles = 0;
    std::filesystem::path built;     // the corpus folder; empty: not built yet
    std::vector<DatasetFile> files;  // of the built corpus that exist on disk, manifest order
    std::size_t missingFiles = 0;    // listed in the built manifest but not on disk
    std::string error;               // a recipe or manifest that could not be read

    // Distinct splits (in first-seen order) and languages of one split.
    std::vector<std::string> splits() const;
    std::vector<std::string> languages(const std::string& split) const;
};

// datasets/ next to the working directory, else in the source tree; empty when neither.
std::filesystem::path findDatasetsRoot();

// Every name that has a recipe, a manifest or a built folder under `root` (build/ by default;
// `buildDir` overrides it), sorted by name. Unreadable parts become Dataset::error.
std::vector<Dataset> scanDatasets(const std::filesystem::path& root,
                                  const std::filesystem::path& buildDir = {});

}  // namespace ponder::studio
