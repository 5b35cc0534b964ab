#include "scans/scan_orders.h"

#include "core/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <utility>

namespace vss {

void check_map_size(const std::string& strategy, int64_t H, int64_t W) {
  if (H < 1 || W < 1)
    throw Error("scan strategy '" + strategy + "': map size must be at least 1x1, got " +
                std::to_string(H) + "x" + std::to_string(W));
  if (H > std::numeric_limits<int32_t>::max() / W)
    throw Error("scan strategy '" + strategy + "': map " + std::to_string(H) + "x" +
                std::to_string(W) + " has more tokens than int32 plan indices can address");
}

TokenOrder row_major_order(int64_t H, int64_t W) {
  TokenOrder order(H * W);
  for (int64_t t = 0; t < H * W; ++t) order[t] = static_cast<int32_t>(t);
  return order;
}

TokenOrder column_major_order(int64_t H, int64_t W) {
  TokenOrder order;
  order.reserve(H * W);
  for (int64_t w = 0; w < W; ++w)
    for (int64_t h = 0; h < H; ++h) order.push_back(static_cast<int32_t>(h * W + w));
  return order;
}

TokenOrder reversed(TokenOrder order) {
  std::reverse(order.begin(), order.end());
  return order;
}

TokenOrder rotated_180(TokenOrder order, int64_t H, int64_t W) {
  const auto last = static_cast<int32_t>(H * W - 1);
  for (auto& p : order)
    if (p >= 0) p = last - p;
  return order;
}

TokenOrder window_order(int64_t H, int64_t W, int64_t window, int64_t rate, bool pad) {
  TORCH_CHECK(window >= 1 && rate >= 1 && (rate == 1 || !pad),
              "window_order: bad window ", window, " / rate ", rate, " / pad ", pad);
  TokenOrder order;
  order.reserve(H * W);
  for (int64_t ph = 0; ph < std::min(rate, H); ++ph) {
    for (int64_t pw = 0; pw < std::min(rate, W); ++pw) {
      // Sub-grid of tokens (ph + rate·i, pw + rate·j).
      const int64_t sub_h = (H - ph + rate - 1) / rate, sub_w = (W - pw + rate - 1) / rate;
      for (int64_t wi = 0; wi < sub_h; wi += window) {
        for (int64_t wj = 0; wj < sub_w; wj += window) {
          const int64_t end_i = pad ? wi + window : std::min(wi + window, sub_h);
          const int64_t end_j = pad ? wj + window : std::min(wj + window, sub_w);
          for (int64_t i = wi; i < end_i; ++i)
            for (int64_t j = wj; j < end_j; ++j)
              order.push_back(i < sub_h && j < sub_w
                                  ? static_cast<int32_t>((ph + rate * i) * W + pw + rate * j)
                                  : -1);
        }
      }
    }
  }
  return order;
}

namespace {

// Each order's walk, or empty unless every order is one.
std::vector<Walk> walks_of(int64_t H, int64_t W, const std::vector<TokenOrder>& orders) {
  const TokenOrder rows = row_major_order(H, W), cols = column_major_order(H, W);
  const std::pair<Walk, TokenOrder> candidates[] = {{Walk::kRows, rows},
                                                    {Walk::kColumns, cols},
                                                    {Walk::kRowsReversed, reversed(rows)},
                                                    {Walk::kColumnsReversed, reversed(cols)}};
  std::vector<Walk> walks;
  for (const TokenOrder& order : orders) {
    const auto* match = std::find_if(std::begin(candidates), std::end(candidates),
                                     [&](const auto& c) { return c.second == order; });
    if (match == std::end(candidates)) return {};
    walks.push_back(match->first);
  }
  return walks;
}

}  // namespace

ScanPlan plan_from_orders(int64_t H, int64_t W, const std::vector<TokenOrder>& orders) {
  TORCH_CHECK(!orders.empty(), "plan_from_orders: no directions");
  const auto L = static_cast<int64_t>(orders.front().size());
  ScanPlan plan;
  plan.H = H;
  plan.W = W;
  plan.K = static_cast<int64_t>(orders.size());
  plan.L = L;
  plan.index = torch::empty({plan.K, L}, torch::kInt32);
  int32_t* dst = plan.index.data_ptr<int32_t>();
  for (const auto& order : orders) {
    TORCH_CHECK(static_cast<int64_t>(order.size()) == L,
                "plan_from_orders: directions of different lengths");
    dst = std::copy(order.begin(), order.end(), dst);
  }
  plan.walks = walks_of(H, W, orders);
  return plan;
}

}  // namespace vss
