#pragma once
// `cross`: VMamba's CrossScan (specs/scans.md §1): row-major, column-major, and both reversed.
#include "scans/scan_strategy.h"

namespace vss {

class CrossScan : public ScanStrategy {
 public:
  static std::shared_ptr<ScanStrategy> from_config(const Config& node);

  std::string name() const override { return "cross"; }
  std::string params_key() const override { return ""; }
  int64_t num_directions() const override { return 4; }
  ScanPlan make_plan(int64_t H, int64_t W) const override;
};

}  // namespace vss
