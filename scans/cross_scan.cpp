#include "scans/cross_scan.h"

#include "core/config.h"
#include "scans/scan_orders.h"

namespace vss {

std::shared_ptr<ScanStrategy> CrossScan::from_config(const Config& node) {
  node.check_keys({"type"});
  return std::make_shared<CrossScan>();
}

ScanPlan CrossScan::make_plan(int64_t H, int64_t W) const {
  check_map_size(name(), H, W);
  TokenOrder rows = row_major_order(H, W), cols = column_major_order(H, W);
  return plan_from_orders(H, W, {rows, cols, reversed(rows), reversed(cols)});
}

}  // namespace vss
