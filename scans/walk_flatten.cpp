#include "scans/walk_flatten.h"

#include "core/error.h"

#include <torch/torch.h>

#include <string>

namespace vss {

namespace {

struct Geometry {
  std::vector<Walk> walks;
  int64_t H, W;
};

bool by_columns(Walk w) { return w == Walk::kColumns || w == Walk::kColumnsReversed; }
bool reversed(Walk w) { return w == Walk::kRowsReversed || w == Walk::kColumnsReversed; }

// A walk's sequence [B, C, L] seen as the map it walks: [B, C, H, W] by rows, [B, C, W, H]
// (the transpose) by columns; a reversed walk is that map flipped in both dims.
at::Tensor as_map(const at::Tensor& sequence, Walk w, const Geometry& g) {
  const int64_t B = sequence.size(0), C = sequence.size(1);
  return by_columns(w) ? sequence.view({B, C, g.W, g.H}) : sequence.view({B, C, g.H, g.W});
}

// Each direction's slice written once, straight from x (copy, transposing copy or flip).
at::Tensor flatten_kernel(const at::Tensor& x, const Geometry& g) {
  const int64_t B = x.size(0), C = x.size(1), K = static_cast<int64_t>(g.walks.size());
  at::Tensor out = at::empty({B, K, C, g.H * g.W}, x.options());
  const at::Tensor columns = x.transpose(2, 3);
  for (int64_t k = 0; k < K; ++k) {
    const Walk w = g.walks[static_cast<size_t>(k)];
    at::Tensor dst = as_map(out.select(1, k), w, g);
    const at::Tensor& src = by_columns(w) ? columns : x;
    if (reversed(w)) at::flip_out(dst, src, {2, 3});
    else dst.copy_(src);
  }
  return out;
}

// Σ_k of each sequence put back on the map: the row walks summed in row layout, the column
// walks in column layout, then the latter added through a transpose.
at::Tensor merge_kernel(const at::Tensor& y, const Geometry& g) {
  at::Tensor rows, columns;
  for (int64_t k = 0; k < y.size(1); ++k) {
    const Walk w = g.walks[static_cast<size_t>(k)];
    const at::Tensor map = as_map(y.select(1, k), w, g);
    at::Tensor& sum = by_columns(w) ? columns : rows;
    if (!sum.defined()) sum = reversed(w) ? at::flip(map, {2, 3}) : map.clone(at::MemoryFormat::Contiguous);
    else if (reversed(w)) sum.add_(at::flip(map, {2, 3}));
    else sum.add_(map);
  }
  if (!rows.defined()) return columns.transpose(2, 3).contiguous();
  if (columns.defined()) rows.add_(columns.transpose(2, 3));
  return rows;
}

// The two are each other's adjoint, so each one's backward is the other (autograd through
// the views, flips and adds would zero-fill a full-size gradient for every direction's slice).
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
    return flatten_kernel(x, g);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    return {merge_kernel(grads[0], geometry_of(ctx)), at::Tensor()};
  }
};

struct MergeWalks : torch::autograd::Function<MergeWalks> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& y, const Geometry& g) {
    save_geometry(ctx, g);
    return merge_kernel(y, g);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    return {flatten_kernel(grads[0], geometry_of(ctx)), at::Tensor()};
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
