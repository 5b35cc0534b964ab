#pragma once
// `zigzag`: PlainMamba's continuous snake (specs/scans.md §3): row snake, column snake,
// and both reversed, so consecutive tokens are always spatial neighbours.
#include "scans/scan_strategy.h"

namespace vss {

class ZigzagScan : public ScanStrategy {
 public:
  static std::shared_ptr<ScanStrategy> from_config(const Config& node);

  std::string name() const override { return "zigzag"; }
  std::string params_key() const override { return ""; }
  int64_t num_directions() const override { return 4; }
  ScanPlan make_plan(int64_t H, int64_t W) const override;
};

}  // namespace vss
