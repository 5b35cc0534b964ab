#include "scans/walk_flatten.h"

#include "core/error.h"
#include "kernels/walk_copy.h"

#include <torch/torch.h>

#include <string>

namespace vss {

namespace {

struct Geometry {
  std::vector<Walk> walks;
  int64_t H, W;
};

// The two ops (kernels/walk_copy.h) are each other's adjoint, so each one's backward is the
// other (autograd through views, flips and adds would zero-fill a full-size gradient for every
// direction's slice).
Geometry geometry_of(const torch::autograd::AutogradContext* ctx) {
  Geometry g;
  for (const int64_t w : ctx->saved_data.at("walks").toIntVector()) g.walks.push_back(static_cast<Walk>(w));
  g.H = ctx->saved_data.at("H").toInt();
  g.W = ctx->saved_data.at("W").toInt();
  return g;
}

void save_geometry(torch::autograd::AutogradContext* ctx, const Geometry& g) {
  std::vector<int64_t> walks;
  for (const Walk w : g.walks) walks.push_back(static_cast<int64_t>(w));
  ctx->saved_data["walks"] = walks;
  ctx->saved_data["H"] = g.H;
  ctx->saved_data["W"] = g.W;
}

struct FlattenWalks : torch::autograd::Function<FlattenWalks> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const Geometry& g) {
    save_geometry(ctx, g);
    return walk_flatten(x, g.walks);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const Geometry g = geometry_of(ctx);
    return {walk_merge(grads[0], g.walks, g.H, g.W), at::Tensor()};
  }
};

struct MergeWalks : torch::autograd::Function<MergeWalks> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& y, const Geometry& g) {
    save_geometry(ctx, g);
    return walk_merge(y, g.walks, g.H, g.W);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    return {walk_flatten(grads[0], geometry_of(ctx).walks), at::Tensor()};
  }
};

Geometry checked_geometry(const ScanPlan& plan, const char* fn) {
  if (plan.walks.empty() || plan.merge_weight.defined())
    throw Error(std::string(fn) + ": the plan's directions do not all walk rows or columns");
  return {plan.walks, plan.H, plan.W};
}

}  // namespace

at::Tensor flatten_walks(const at::Tensor& x, const ScanPlan& plan) {
  const Geometry g = checked_geometry(plan, "flatten_walks");
  if (x.dim() != 4 || x.size(2) != plan.H || x.size(3) != plan.W)
    throw Error("flatten_walks: expected x [B, C, " + std::to_string(plan.H) + ", " + std::to_string(plan.W) +
                "], got shape " + shape_to_string(x.sizes().vec()));
  return FlattenWalks::apply(x, g);
}

at::Tensor merge_walks(const at::Tensor& y, const ScanPlan& plan) {
  const Geometry g = checked_geometry(plan, "merge_walks");
  const int64_t L = plan.H * plan.W;
  if (y.dim() != 4 || y.size(1) != plan.K || y.size(3) != L)
    throw Error("merge_walks: expected y [B, " + std::to_string(plan.K) + ", C, " + std::to_string(L) +
                "], got shape " + shape_to_string(y.sizes().vec()));
  return MergeWalks::apply(y, g);
}

}  // namespace vss
