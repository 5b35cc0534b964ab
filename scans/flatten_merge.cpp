#include "scans/flatten_merge.h"

#include "core/error.h"
#include "scans/scan_strategy.h"

#include <torch/torch.h>

namespace vss {

namespace {

std::string size_str(int64_t H, int64_t W) { return std::to_string(H) + "x" + std::to_string(W); }

void check_plan(const ScanPlan& plan, const char* fn) {
  if (!plan.index.defined() || plan.index.dim() != 2 || plan.index.scalar_type() != at::kInt ||
      plan.index.size(0) != plan.K || plan.index.size(1) != plan.L)
    throw Error(std::string(fn) + ": plan index must be int32 [K, L] = " +
                shape_to_string({plan.K, plan.L}));
}

void check_rank(const at::Tensor& t, int64_t dim, const char* fn, const char* name, const char* layout) {
  if (!t.defined() || t.dim() != dim)
    throw Error(std::string(fn) + ": " + name + " must be " + layout + ", got shape " +
                (t.defined() ? shape_to_string(t.sizes().vec()) : std::string("undefined")));
}

void check_map(int64_t H, int64_t W, const ScanPlan& plan, const char* fn, const char* name) {
  if (H != plan.H || W != plan.W)
    throw Error(std::string(fn) + ": " + name + " is a " + size_str(H, W) +
                " map but the plan is for " + size_str(plan.H, plan.W) + " (HxW)");
}

// The plan's index as int64 on `device`, padding steps (-1) sent to token H·W: the extra
// zero column gathers zeros there, and scattered values land there and are dropped.
at::Tensor gather_index(const ScanPlan& plan, const at::Device& device) {
  at::Tensor index = plan.index.to(device, at::kLong);
  return torch::where(index < 0, plan.H * plan.W, index);
}

}  // namespace

at::Tensor flatten_directions(const at::Tensor& t, const ScanPlan& plan) {
  constexpr const char* fn = "flatten_directions";
  check_plan(plan, fn);
  check_rank(t, 5, fn, "t", "[B, K, C, H, W]");
  check_map(t.size(3), t.size(4), plan, fn, "t");
  if (t.size(1) != plan.K && t.size(1) != 1)
    throw Error(std::string(fn) + ": t has " + std::to_string(t.size(1)) +
                " directions, the plan has " + std::to_string(plan.K));
  const int64_t B = t.size(0), C = t.size(2), HW = plan.H * plan.W;
  at::Tensor tokens = t.expand({B, plan.K, C, plan.H, plan.W}).reshape({B, plan.K, C, HW});
  tokens = torch::cat({tokens, tokens.new_zeros({B, plan.K, C, 1})}, 3);
  at::Tensor index = gather_index(plan, t.device()).view({1, plan.K, 1, plan.L});
  return tokens.gather(3, index.expand({B, plan.K, C, plan.L}));
}

at::Tensor flatten(const at::Tensor& x, const ScanPlan& plan) {
  check_rank(x, 4, "flatten", "x", "[B, C, H, W]");
  return flatten_directions(x.unsqueeze(1), plan);
}

at::Tensor flatten(const at::Tensor& x, const ScanStrategy& strategy) {
  check_rank(x, 4, "flatten", "x", "[B, C, H, W]");
  return flatten(x, cached_plan(strategy, x.size(2), x.size(3), x.device()));
}

at::Tensor unflatten(const at::Tensor& y, const ScanPlan& plan) {
  constexpr const char* fn = "unflatten";
  check_plan(plan, fn);
  check_rank(y, 4, fn, "y", "[B, K, C, L]");
  if (y.size(1) != plan.K || y.size(3) != plan.L)
    throw Error(std::string(fn) + ": y has shape " + shape_to_string(y.sizes().vec()) +
                " but the plan (" + size_str(plan.H, plan.W) + ") needs [B, " +
                std::to_string(plan.K) + ", C, " + std::to_string(plan.L) + "]");
  const int64_t B = y.size(0), C = y.size(2), HW = plan.H * plan.W;
  at::Tensor index = gather_index(plan, y.device()).view({1, plan.K, 1, plan.L});
  at::Tensor tokens = y.new_zeros({B, plan.K, C, HW + 1})
                          .scatter_add(3, index.expand({B, plan.K, C, plan.L}), y);
  return tokens.narrow(3, 0, HW).reshape({B, plan.K, C, plan.H, plan.W});
}

at::Tensor merge(const at::Tensor& y, const ScanPlan& plan) {
  at::Tensor out = unflatten(y, plan).sum(1);
  if (plan.merge_weight.defined())
    out = out * plan.merge_weight.to(y.device(), y.scalar_type()).view({plan.H, plan.W});
  return out;
}

at::Tensor merge(const at::Tensor& y, const ScanStrategy& strategy, int64_t H, int64_t W) {
  return merge(y, cached_plan(strategy, H, W, y.device()));
}

}  // namespace vss
