// PonderTTT's engine as outside code may use it (design.md §2 "Engine API"): one run session
// (evaluate files, replay policies, store the run), the plan, the policies and their analysis,
// calibration, the run store and the exports, streaming generation, and the errors. Link the
// CMake target ponder_core and include only this header; everything else in core/ is private
// and may change. examples/ holds small clients built by CI.
#pragma once

#include "core/eval/eval_plan.h"
#include "core/eval/eval_session.h"
#include "core/eval/evaluator.h"
#include "core/eval/run_description.h"
#include "core/gating/calibration.h"
#include "core/gating/metrics.h"
#include "core/gating/policies.h"
#include "core/gating/run_analysis.h"
#include "core/gating/settings_resolve.h"
#include "core/generate/generator.h"
#include "core/report/exports.h"
#include "core/report/table_format.h"
#include "core/store/run_store.h"
#include "core/util/errors.h"
