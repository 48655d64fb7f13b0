// A UnitRecord as bytes, for sending a finished unit from its rank to rank 0: every field,
// doubles and floats bit for bit (NaN included), so a gathered run equals a one-process run.
// Torch-free.
#pragma once

#include <string>

#include "core/eval/evaluator.h"

namespace ponder::core {

std::string encodeUnit(const UnitRecord& unit);
// DistributedError when `bytes` is not an encodeUnit result of this version (truncated,
// trailing bytes, another magic).
UnitRecord decodeUnit(const std::string& bytes);

}  // namespace ponder::core
