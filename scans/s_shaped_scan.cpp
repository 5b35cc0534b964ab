#include "scans/s_shaped_scan.h"

#include "core/error.h"
#include "scans/scan_orders.h"
#include "scans/strategy_config.h"

#include <algorithm>

namespace vss {

SShapedScan::SShapedScan(int64_t scan_len, int64_t shift) : scan_len_(scan_len), shift_(shift) {
  if (scan_len < 1)
    throw Error("scan strategy 's_shaped': scan_len must be >= 1, got " + std::to_string(scan_len));
  if (shift < 0 || shift >= scan_len)
    throw Error("scan strategy 's_shaped': shift must be in [0, scan_len) = [0, " +
                std::to_string(scan_len) + "), got " + std::to_string(shift));
}

std::shared_ptr<ScanStrategy> SShapedScan::from_config(const Config& node) {
  node.check_keys({"type", "scan_len", "shift"});
  return make_strategy_at<SShapedScan>(node, node.get_or<int64_t>("scan_len", kDefaultScanLen),
                                       node.get_or<int64_t>("shift", 0));
}

std::string SShapedScan::params_key() const {
  return "scan_len=" + std::to_string(scan_len_) + ",shift=" + std::to_string(shift_);
}

namespace {
// Calls emit(row, col) along the stripe path S(rows, cols, s, shift) of specs/scans.md §2.
template <class Emit>
void stripe_path(int64_t rows, int64_t cols, int64_t s, int64_t shift, Emit emit) {
  std::vector<int64_t> bounds{0};
  for (int64_t c = shift > 0 ? shift : s; c < cols; c += s) bounds.push_back(c);
  bounds.push_back(cols);
  for (size_t j = 0; j + 1 < bounds.size(); ++j) {
    const int64_t c0 = bounds[j], c1 = bounds[j + 1];
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t row = j % 2 == 0 ? i : rows - 1 - i;
      if (i % 2 == 0)
        for (int64_t c = c0; c < c1; ++c) emit(row, c);
      else
        for (int64_t c = c1 - 1; c >= c0; --c) emit(row, c);
    }
  }
}
}  // namespace

ScanPlan SShapedScan::make_plan(int64_t H, int64_t W) const {
  check_map_size(name(), H, W);
  TokenOrder path, transposed_path;
  path.reserve(H * W);
  transposed_path.reserve(H * W);
  stripe_path(H, W, scan_len_, shift_,
              [&](int64_t r, int64_t c) { path.push_back(static_cast<int32_t>(r * W + c)); });
  // On the transposed grid a row is an image column and a column an image row.
  stripe_path(W, H, scan_len_, shift_, [&](int64_t r, int64_t c) {
    transposed_path.push_back(static_cast<int32_t>(c * W + r));
  });
  return plan_from_orders(H, W, {path, rotated_180(path, H, W), transposed_path,
                                 rotated_180(transposed_path, H, W)});
}

}  // namespace vss
