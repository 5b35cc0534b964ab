#include "scans/scan_2d.h"

#include "core/error.h"
#include "kernels/selective_scan.h"
#include "scans/flatten_merge.h"

#include <torch/torch.h>

#include <string>
#include <tuple>

namespace vss {

namespace {

struct Dims {
  int64_t batch, channels, states;  // B, D, N
};

// u is a 4-d map whose dims h_dim, h_dim + 1 are the plan's H×W (layout names the dims).
void check_map(const std::string& where, const at::Tensor& u, int64_t h_dim, const char* layout,
               const ScanPlan& plan) {
  if (u.dim() != 4)
    throw Error(where + "u must be " + layout + ", got shape " + shape_to_string(u.sizes().vec()));
  if (u.size(h_dim) != plan.H || u.size(h_dim + 1) != plan.W)
    throw Error(where + "u is a " + std::to_string(u.size(h_dim)) + "x" +
                std::to_string(u.size(h_dim + 1)) + " map but the plan is for " +
                std::to_string(plan.H) + "x" + std::to_string(plan.W) + " (HxW)");
}

// Shapes of the image-layout inputs against the plan; errors name the tensor.
Dims check_inputs(const char* fn, const at::Tensor& u, const at::Tensor& delta,
                  const at::Tensor& A, const at::Tensor& B, const at::Tensor& C,
                  const ScanPlan& plan) {
  const std::string where = std::string(fn) + ": ";
  check_map(where, u, 2, "[B, D, H, W]", plan);
  const int64_t batch = u.size(0), channels = u.size(1), K = plan.K;
  if (A.dim() != 2 || A.size(0) != K * channels)
    throw_shape_error(where + "A", {K * channels, -1}, A.sizes().vec());
  const int64_t states = A.size(1);
  const std::vector<int64_t> delta_shape{batch, K * channels, plan.H, plan.W};
  const std::vector<int64_t> bc_shape{batch, K, states, plan.H, plan.W};
  if (delta.sizes().vec() != delta_shape) throw_shape_error(where + "delta", delta_shape, delta.sizes().vec());
  if (B.sizes().vec() != bc_shape) throw_shape_error(where + "B", bc_shape, B.sizes().vec());
  if (C.sizes().vec() != bc_shape) throw_shape_error(where + "C", bc_shape, C.sizes().vec());
  return {batch, channels, states};
}

}  // namespace

at::Tensor scan_2d(const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A,
                   const at::Tensor& B, const at::Tensor& C, const std::optional<at::Tensor>& D,
                   const std::optional<at::Tensor>& delta_bias, const ScanPlan& plan,
                   bool delta_softplus, std::optional<at::ScalarType> out_dtype) {
  const Dims d = check_inputs("scan_2d", u, delta, A, B, C, plan);
  const int64_t HW = plan.H * plan.W;
  std::optional<at::Tensor> merge_weight;
  if (plan.merge_weight.defined()) merge_weight = plan.merge_weight.to(u.device());
  at::Tensor y = selective_scan_plan(
      u.reshape({d.batch, d.channels, HW}), delta.reshape({d.batch, plan.K * d.channels, HW}),
      A, B.reshape({d.batch, plan.K, d.states, HW}), C.reshape({d.batch, plan.K, d.states, HW}),
      D, delta_bias, plan.index.to(u.device()), merge_weight, delta_softplus, out_dtype);
  return y.view({d.batch, d.channels, plan.H, plan.W});
}

at::Tensor scan_2d_channels_last(const at::Tensor& u, const at::Tensor& delta,
                                 const at::Tensor& A, const at::Tensor& B, const at::Tensor& C,
                                 const std::optional<at::Tensor>& D,
                                 const std::optional<at::Tensor>& delta_bias,
                                 const ScanPlan& plan, bool delta_softplus,
                                 std::optional<at::ScalarType> out_dtype) {
  const std::string where = "scan_2d_channels_last: ";
  check_map(where, u, 1, "[B, H, W, D]", plan);
  const int64_t batch = u.size(0), HW = plan.H * plan.W, dim = u.size(3);
  for (auto [name, t, rank] : {std::tuple{"delta", &delta, 4}, std::tuple{"B", &B, 5},
                               std::tuple{"C", &C, 5}})
    if (t->dim() != rank || t->size(0) != batch || t->size(1) != plan.H || t->size(2) != plan.W)
      throw Error(where + name + " must be [" + std::to_string(batch) + ", " +
                  std::to_string(plan.H) + ", " + std::to_string(plan.W) +
                  (rank == 4 ? ", K*D]" : ", K, N]") + " (u's batch and map), got shape " +
                  shape_to_string(t->sizes().vec()));
  std::optional<at::Tensor> merge_weight;
  if (plan.merge_weight.defined()) merge_weight = plan.merge_weight.to(u.device());
  const at::Tensor y = selective_scan_plan_channels_last(
      u.reshape({batch, HW, dim}), delta.reshape({batch, HW, delta.size(3)}), A,
      B.reshape({batch, HW, B.size(3), B.size(4)}), C.reshape({batch, HW, C.size(3), C.size(4)}),
      D, delta_bias, plan.index.to(u.device()), merge_weight, delta_softplus, out_dtype);
  return y.view({batch, plan.H, plan.W, dim});
}

at::Tensor scan_2d_unfused(const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A,
                           const at::Tensor& B, const at::Tensor& C,
                           const std::optional<at::Tensor>& D,
                           const std::optional<at::Tensor>& delta_bias, const ScanPlan& plan,
                           bool delta_softplus, std::optional<at::ScalarType> out_dtype) {
  const Dims d = check_inputs("scan_2d_unfused", u, delta, A, B, C, plan);
  const int64_t K = plan.K, L = plan.L;
  const at::Tensor us = flatten(u, plan).reshape({d.batch, K * d.channels, L});
  const at::Tensor deltas =
      flatten_directions(delta.reshape({d.batch, K, d.channels, plan.H, plan.W}), plan)
          .reshape({d.batch, K * d.channels, L});
  const at::Tensor y = std::get<0>(selective_scan(us, deltas, A, flatten_directions(B, plan),
                                                  flatten_directions(C, plan), D, delta_bias,
                                                  delta_softplus, false, out_dtype));
  return merge(y.view({d.batch, K, d.channels, L}), plan);
}

}  // namespace vss
