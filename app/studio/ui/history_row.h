// What one row of the run history says, from a stored run's summary: enough to tell "run 1"
// from "run 2" without opening them (which files, which mode, which model, how it ended).
#pragma once
#include <string>
#include <vector>

#include "core/store/run_store.h"

namespace ponder::studio {

struct HistoryRow {
    std::string heading;  // "#12  label  decoder.py +2 more"
    std::string detail;   // "recon-ema  ρ 0.50  file  tiny-model  complete"
    std::string tooltip;  // every input, the model's path, the start time, units and tokens
};

// `inputs`: the run's input paths as given; empty: the summary's own (listRuns fills them),
// and without any the heading says how many files the run read. The detail line names Ours'
// policy and target rate when the summary has them.
HistoryRow historyRow(const core::RunSummary& run, std::vector<std::string> inputs = {});

}  // namespace ponder::studio
