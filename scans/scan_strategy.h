#pragma once
// Scan strategies: named, parameterised rules that turn an H×W map into K sequences
// (specs/scans.md). They are created from YAML through the registry by their `type:`.
#include "scans/scan_plan.h"

#include <memory>
#include <string>
#include <vector>

namespace vss {

class Config;

class ScanStrategy {
 public:
  virtual ~ScanStrategy() = default;
  virtual std::string name() const = 0;        // the YAML type, e.g. "cross"
  virtual std::string params_key() const = 0;  // canonical parameters, e.g. "scan_len=8,shift=0"
  virtual int64_t num_directions() const = 0;  // K, known before any H, W
  // Builds the plan from the definition; callers normally go through cached_plan().
  virtual ScanPlan make_plan(int64_t H, int64_t W) const = 0;
};

// Plans are pure functions of (strategy, params, H, W): built once, then shared.
// Thread-safe. device: where index / merge_weight live (a copy per device is cached).
const ScanPlan& cached_plan(const ScanStrategy& strategy, int64_t H, int64_t W,
                            const at::Device& device = at::kCPU);

// From a YAML node with `type:` and the strategy's parameters (unknown keys are errors).
std::shared_ptr<ScanStrategy> make_scan_strategy(const Config& node);
// Registered strategy names, sorted.
std::vector<std::string> scan_strategy_names();

}  // namespace vss
