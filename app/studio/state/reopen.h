// Reopening a stored run without recomputing it: the source text of each input, and the token
// offsets the per-token heat map needs. Offsets are not stored, so they are recomputed by
// tokenizing the file again, only when its SHA-256 still matches the one stored with the run.
// A generated stream (`ponder generate`) has no file: its text and offsets come from the store.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "core/eval/eval_plan.h"
#include "core/store/run_store.h"

namespace ponder::studio {

struct ReopenedFile {
    core::PlanFile file;  // text and lines always (when readable); tokenByteStart when verified
    std::string note;     // why the heat map is not shown for this file; empty when it is
};

// One entry per stored input file, in file-index order. `modelDir` overrides the run's stored
// model directory (whose tokenizer is needed) when not empty. Never throws for a missing or
// changed file or model: those become notes.
std::vector<ReopenedFile> reopenFiles(const core::StoredRun& run,
                                      const std::filesystem::path& modelDir = {});

}  // namespace ponder::studio
