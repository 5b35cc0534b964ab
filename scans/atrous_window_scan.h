#pragma once
// `atrous_window`: AtrousMamba-style dilated window scan, as vsskit defines it
// (specs/scans.md §5). For each rate r the r×r phase sub-grids are cut into window×window
// windows, so a window covers an (N·r)×(N·r) patch with dilation r. K = 2·len(rates):
// k = 2i is rate i's sequence, k = 2i+1 its reverse.
#include "scans/scan_strategy.h"

namespace vss {

class AtrousWindowScan : public ScanStrategy {
 public:
  // Errors unless window >= 1, rates is non-empty and every rate >= 1.
  static constexpr int64_t kDefaultWindow = 4;
  static inline const std::vector<int64_t> kDefaultRates{1, 2};
  explicit AtrousWindowScan(int64_t window = kDefaultWindow, std::vector<int64_t> rates = kDefaultRates);
  static std::shared_ptr<ScanStrategy> from_config(const Config& node);

  std::string name() const override { return "atrous_window"; }
  std::string params_key() const override;
  int64_t num_directions() const override { return 2 * static_cast<int64_t>(rates_.size()); }
  ScanPlan make_plan(int64_t H, int64_t W) const override;

 private:
  int64_t window_;
  std::vector<int64_t> rates_;
};

}  // namespace vss
