#include "scans/walk_flatten.h"

#include "core/error.h"

#include <torch/torch.h>

#include <string>

namespace vss {

namespace {

void check_walks(const ScanPlan& plan, const char* fn) {
  if (plan.walks.empty() || plan.merge_weight.defined())
    throw Error(std::string(fn) + ": the plan's directions do not all walk rows or columns");
}

}  // namespace

at::Tensor flatten_walks(const at::Tensor& x, const ScanPlan& plan) {
  check_walks(plan, "flatten_walks");
  if (x.dim() != 4 || x.size(2) != plan.H || x.size(3) != plan.W)
    throw Error("flatten_walks: expected x [B, C, " + std::to_string(plan.H) + ", " + std::to_string(plan.W) +
                "], got shape " + shape_to_string(x.sizes().vec()));
  const int64_t B = x.size(0), C = x.size(1), L = plan.H * plan.W;
  const at::Tensor columns = x.transpose(2, 3);  // [B, C, W, H]: column-major order as rows
  std::vector<at::Tensor> sequences;
  for (const Walk walk : plan.walks) {
    const bool by_columns = walk == Walk::kColumns || walk == Walk::kColumnsReversed;
    const bool reversed = walk == Walk::kRowsReversed || walk == Walk::kColumnsReversed;
    const at::Tensor& map = by_columns ? columns : x;
    sequences.push_back((reversed ? map.flip({2, 3}) : map).reshape({B, C, L}));
  }
  return at::stack(sequences, 1);
}

at::Tensor merge_walks(const at::Tensor& y, const ScanPlan& plan) {
  const int64_t L = plan.H * plan.W;
  check_walks(plan, "merge_walks");
  if (y.dim() != 4 || y.size(1) != plan.K || y.size(3) != L)
    throw Error("merge_walks: expected y [B, " + std::to_string(plan.K) + ", C, " + std::to_string(L) +
                "], got shape " + shape_to_string(y.sizes().vec()));
  const int64_t B = y.size(0), C = y.size(2);
  at::Tensor out;
  for (int64_t k = 0; k < plan.K; ++k) {
    const Walk walk = plan.walks[static_cast<size_t>(k)];
    const bool by_columns = walk == Walk::kColumns || walk == Walk::kColumnsReversed;
    const bool reversed = walk == Walk::kRowsReversed || walk == Walk::kColumnsReversed;
    at::Tensor map = y.select(1, k).view({B, C, by_columns ? plan.W : plan.H, by_columns ? plan.H : plan.W});
    if (reversed) map = map.flip({2, 3});
    if (by_columns) map = map.transpose(2, 3);
    out = out.defined() ? out + map : map;
  }
  return out;
}

}  // namespace vss
