#pragma once
// SS2D's sequence path (the training path on CUDA) from the walks' sequences to the scan's
// output as one autograd node: x_proj, dt_proj (vss::dt_projection), the B / C rows and the
// selective scan, as the official v05 computes them. One node can do what separate ones cannot:
// the sequences' gradient is the scan's du with x_proj's backward product added by the GEMM
// itself (beta = 1), and the projection rows' gradient is written in place, without the sum of
// two full [B, K, D, L] gradients and the zero-filled narrow gradients autograd would make.
#include <ATen/core/Tensor.h>

namespace vss {

// xs [B, K, D, L] (the sequences, in the computation dtype), x_proj_weight [K, R + 2N, D],
// dt_projs_weight [K, D, R], A [K·D, N], Ds [K·D], delta_bias [K·D] (float32, or float64 with
// float64 xs) -> y [B, K·D, L] in xs' dtype: Δ = softplus(dt_proj(x_proj(xs)[:R]) + delta_bias).
at::Tensor ss2d_sequence_core(const at::Tensor& xs, const at::Tensor& x_proj_weight,
                              const at::Tensor& dt_projs_weight, const at::Tensor& A, const at::Tensor& Ds,
                              const at::Tensor& delta_bias);

}  // namespace vss
