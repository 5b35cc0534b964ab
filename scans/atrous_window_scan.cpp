#include "scans/atrous_window_scan.h"

#include "core/error.h"
#include "scans/scan_orders.h"
#include "scans/strategy_config.h"

namespace vss {

AtrousWindowScan::AtrousWindowScan(int64_t window, std::vector<int64_t> rates)
    : window_(window), rates_(std::move(rates)) {
  if (window < 1)
    throw Error("scan strategy 'atrous_window': window must be >= 1, got " + std::to_string(window));
  if (rates_.empty()) throw Error("scan strategy 'atrous_window': rates must not be empty");
  for (int64_t r : rates_)
    if (r < 1)
      throw Error("scan strategy 'atrous_window': every rate must be >= 1, got " + std::to_string(r));
}

std::shared_ptr<ScanStrategy> AtrousWindowScan::from_config(const Config& node) {
  node.check_keys({"type", "window", "rates"});
  return make_strategy_at<AtrousWindowScan>(node, node.get_or<int64_t>("window", kDefaultWindow),
                                            node.get_or<std::vector<int64_t>>("rates", kDefaultRates));
}

std::string AtrousWindowScan::params_key() const {
  std::string key = "window=" + std::to_string(window_) + ",rates=[";
  for (size_t i = 0; i < rates_.size(); ++i) key += (i ? "," : "") + std::to_string(rates_[i]);
  return key + "]";
}

ScanPlan AtrousWindowScan::make_plan(int64_t H, int64_t W) const {
  check_map_size(name(), H, W);
  std::vector<TokenOrder> orders;
  for (int64_t rate : rates_) {
    TokenOrder order = window_order(H, W, window_, rate, /*pad=*/false);
    orders.push_back(order);
    orders.push_back(reversed(std::move(order)));
  }
  return plan_from_orders(H, W, orders);
}

}  // namespace vss
