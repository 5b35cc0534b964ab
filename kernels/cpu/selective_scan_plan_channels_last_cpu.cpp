// CPU kernel of vss::selective_scan_plan_channels_last: the channel-first plan op on
// permuted views, so both layouts share one reference (selective_scan_plan_cpu.cpp).
#include "kernels/selective_scan.h"
#include "kernels/selective_scan_checks.h"

#include <ATen/ATen.h>
#include <torch/library.h>

namespace vss {
namespace {

at::Tensor selective_scan_plan_channels_last_cpu(
    const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A, const at::Tensor& B,
    const at::Tensor& C, const std::optional<at::Tensor>& D,
    const std::optional<at::Tensor>& delta_bias, const at::Tensor& index,
    const std::optional<at::Tensor>& merge_weight, bool delta_softplus,
    std::optional<at::ScalarType> out_dtype) {
  check_selective_scan_plan_channels_last_args("vss::selective_scan_plan_channels_last", u, delta,
                                               A, B, C, D, delta_bias, index, merge_weight);
  const at::Tensor y = selective_scan_plan(
      u.transpose(1, 2), delta.transpose(1, 2), A, B.permute({0, 2, 3, 1}),
      C.permute({0, 2, 3, 1}), D, delta_bias, index, merge_weight, delta_softplus, out_dtype);
  return y.transpose(1, 2).contiguous();
}

}  // namespace
}  // namespace vss

TORCH_LIBRARY_IMPL(vss, CPU, m) {
  m.impl("selective_scan_plan_channels_last", &vss::selective_scan_plan_channels_last_cpu);
}
