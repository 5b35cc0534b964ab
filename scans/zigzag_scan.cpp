#include "scans/zigzag_scan.h"

#include "core/config.h"
#include "scans/scan_orders.h"

namespace vss {

std::shared_ptr<ScanStrategy> ZigzagScan::from_config(const Config& node) {
  node.check_keys({"type"});
  return std::make_shared<ZigzagScan>();
}

ScanPlan ZigzagScan::make_plan(int64_t H, int64_t W) const {
  check_map_size(name(), H, W);
  TokenOrder rows, cols;
  rows.reserve(H * W);
  cols.reserve(H * W);
  for (int64_t h = 0; h < H; ++h)
    for (int64_t r = 0; r < W; ++r) rows.push_back(static_cast<int32_t>(h * W + (h % 2 == 0 ? r : W - 1 - r)));
  for (int64_t w = 0; w < W; ++w)
    for (int64_t r = 0; r < H; ++r) cols.push_back(static_cast<int32_t>((w % 2 == 0 ? r : H - 1 - r) * W + w));
  return plan_from_orders(H, W, {rows, reversed(rows), cols, reversed(cols)});
}

}  // namespace vss
