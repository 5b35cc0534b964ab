#pragma once
// Plans rendered for people and scripts (`vss-bench plan`).
#include "scans/scan_plan.h"

#include <string>

namespace vss {

// {"strategy": name, "H": .., "W": .., "K": .., "index": [[...], ...]} on one line; each
// direction is listed with its own length (plan.lengths), as in parity/scans/plans.json.
std::string plan_to_json(const std::string& strategy, const ScanPlan& plan);

// Per direction, the H×W grid of the step at which each cell is visited (first visit when
// a cell is visited more than once), plus the number of padding steps.
std::string plan_to_grid(const std::string& strategy, const ScanPlan& plan);

}  // namespace vss
