#pragma once
// `local_window`: LocalMamba's scans (specs/scans.md §4). Each direction is named: `h`
// (row-major), `v` (column-major), `wN` (N×N windows row-major, tokens row-major inside),
// each optionally `_flip` (reversed). With `pad`, window scans pad the map at the
// bottom/right to multiples of N and visit the padding cells as -1 steps, as LocalMamba does;
// directions shorter than the longest are then padded at the end with -1 (LocalMamba pads the
// shorter sequences with zeros at the end before stacking them).
#include "scans/scan_strategy.h"

namespace vss {

class LocalWindowScan : public ScanStrategy {
 public:
  // Errors on an empty list or an unknown direction name.
  static inline const std::vector<std::string> kDefaultDirections{"h", "h_flip", "w7", "w7_flip"};
  explicit LocalWindowScan(std::vector<std::string> directions = kDefaultDirections, bool pad = false);
  static std::shared_ptr<ScanStrategy> from_config(const Config& node);

  std::string name() const override { return "local_window"; }
  std::string params_key() const override;
  int64_t num_directions() const override { return static_cast<int64_t>(directions_.size()); }
  ScanPlan make_plan(int64_t H, int64_t W) const override;

 private:
  struct Direction {
    char kind;       // 'h', 'v' or 'w'
    int64_t window;  // N for 'w'
    bool flip;
  };
  std::vector<std::string> names_;
  std::vector<Direction> directions_;
  bool pad_;
};

}  // namespace vss
