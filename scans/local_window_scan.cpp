#include "scans/local_window_scan.h"

#include "core/error.h"
#include "scans/scan_orders.h"
#include "scans/strategy_config.h"

#include <algorithm>
#include <cctype>
#include <limits>

namespace vss {

LocalWindowScan::LocalWindowScan(std::vector<std::string> directions, bool pad)
    : names_(std::move(directions)), pad_(pad) {
  if (names_.empty()) throw Error("scan strategy 'local_window': directions must not be empty");
  const std::string flip_suffix = "_flip";
  for (const auto& name : names_) {
    std::string base = name;
    const bool flip = base.size() > flip_suffix.size() && base.ends_with(flip_suffix);
    if (flip) base.resize(base.size() - flip_suffix.size());
    Direction d{0, 0, flip};
    if (base == "h" || base == "v") {
      d.kind = base[0];
    } else if (base.size() >= 2 && base.size() <= 7 && base[0] == 'w' &&
               std::all_of(base.begin() + 1, base.end(), [](unsigned char c) { return std::isdigit(c); })) {
      d.kind = 'w';
      d.window = std::stoll(base.substr(1));
    }
    if (d.kind == 0 || (d.kind == 'w' && d.window < 1))
      throw Error("scan strategy 'local_window': unknown direction '" + name +
                  "' (known: h, v, wN with N >= 1, each optionally with _flip)");
    directions_.push_back(d);
  }
}

std::shared_ptr<ScanStrategy> LocalWindowScan::from_config(const Config& node) {
  node.check_keys({"type", "directions", "pad"});
  return make_strategy_at<LocalWindowScan>(
      node, node.get_or<std::vector<std::string>>("directions", kDefaultDirections),
      node.get_or<bool>("pad", false));
}

std::string LocalWindowScan::params_key() const {
  std::string key = "directions=[";
  for (size_t i = 0; i < names_.size(); ++i) key += (i ? "," : "") + names_[i];
  return key + "],pad=" + (pad_ ? "true" : "false");
}

ScanPlan LocalWindowScan::make_plan(int64_t H, int64_t W) const {
  check_map_size(name(), H, W);
  if (pad_) {
    // Padding to whole windows must still fit int32 steps (a huge N on a small map would not).
    int64_t largest = 1;
    for (const auto& d : directions_) largest = std::max(largest, d.window);
    const int64_t padded_h = (H + largest - 1) / largest * largest;
    const int64_t padded_w = (W + largest - 1) / largest * largest;
    if (padded_h > std::numeric_limits<int32_t>::max() / padded_w)
      throw Error("scan strategy 'local_window': window " + std::to_string(largest) +
                  " with pad: true makes the " + std::to_string(H) + "x" + std::to_string(W) +
                  " map too large");
  }
  std::vector<TokenOrder> orders;
  std::vector<int64_t> lengths;
  for (const auto& d : directions_) {
    TokenOrder order = d.kind == 'h'   ? row_major_order(H, W)
                       : d.kind == 'v' ? column_major_order(H, W)
                                       : window_order(H, W, d.window, 1, pad_);
    if (d.flip) order = reversed(std::move(order));
    lengths.push_back(static_cast<int64_t>(order.size()));
    orders.push_back(std::move(order));
  }
  const int64_t L = *std::max_element(lengths.begin(), lengths.end());
  for (auto& order : orders) order.resize(L, -1);
  ScanPlan plan = plan_from_orders(H, W, orders);
  if (std::any_of(lengths.begin(), lengths.end(), [&](int64_t n) { return n != L; }))
    plan.lengths = std::move(lengths);
  return plan;
}

}  // namespace vss
