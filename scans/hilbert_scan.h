#pragma once
// `hilbert`: the generalized Hilbert ("gilbert") curve, which fills any W×H rectangle with
// unit steps (specs/scans.md §6). K = 4: the curve started from each of the four corners.
#include "scans/scan_strategy.h"

namespace vss {

class HilbertScan : public ScanStrategy {
 public:
  static std::shared_ptr<ScanStrategy> from_config(const Config& node);

  std::string name() const override { return "hilbert"; }
  std::string params_key() const override { return ""; }
  int64_t num_directions() const override { return 4; }
  ScanPlan make_plan(int64_t H, int64_t W) const override;
};

}  // namespace vss
