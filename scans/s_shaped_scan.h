#pragma once
// `s_shaped`: MaIR's nested S-shaped scan (specs/scans.md §2). The map is cut into vertical
// stripes `scan_len` wide (the first one `shift` wide when shift > 0); the path snakes along
// the rows inside a stripe and alternates down/up between stripes. K = 4: the path, the path
// on the 180°-rotated image, and both again on the transposed map.
#include "scans/scan_strategy.h"

namespace vss {

class SShapedScan : public ScanStrategy {
 public:
  // Errors unless scan_len >= 1 and 0 <= shift < scan_len.
  static constexpr int64_t kDefaultScanLen = 8;  // MaIR's super-resolution setting
  explicit SShapedScan(int64_t scan_len = kDefaultScanLen, int64_t shift = 0);
  static std::shared_ptr<ScanStrategy> from_config(const Config& node);

  std::string name() const override { return "s_shaped"; }
  std::string params_key() const override;
  int64_t num_directions() const override { return 4; }
  ScanPlan make_plan(int64_t H, int64_t W) const override;

 private:
  int64_t scan_len_, shift_;
};

}  // namespace vss
