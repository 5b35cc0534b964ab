#pragma once
// The residual connection with stochastic depth: vss::residual_add(x, branch, sample_scale)
// = x + branch · sample_scale[b] for every sample b, in one pass (CPU reference + CUDA kernel,
// differentiable). What ATen takes three for under autocast: the bf16 branch cast to the
// float32 residual stream (a copy), then addcmul with the [B, 1, 1, 1] drop-path mask (a
// broadcast, so its kernel cannot use vector loads); and in the backward the masked gradient in
// float32 followed by its cast to the branch's dtype. Here the branch is read in its own dtype,
// the sum is formed in float32 (float64 for float64) and written in the result dtype, and the
// backward writes the branch's gradient in the branch's dtype directly.
#include <ATen/core/Tensor.h>

#include <optional>

namespace vss {

// x, branch: the same shape [B, ...], any float dtypes; sample_scale: [B] float32 (float64 for
// float64 x), absent = 1 (no drop path). The result has the promoted dtype of x and branch,
// as x + branch would.
at::Tensor residual_add(const at::Tensor& x, const at::Tensor& branch,
                        const std::optional<at::Tensor>& sample_scale = std::nullopt);

// The branch's gradient given dout, the gradient of residual_add's result: dout · sample_scale[b]
// in branch_dtype. (x's gradient is dout itself.) Autograd calls it; public for the tests that
// hold each device's kernel to the CPU reference.
at::Tensor residual_add_backward(const at::Tensor& dout, const std::optional<at::Tensor>& sample_scale,
                                 at::ScalarType branch_dtype);

}  // namespace vss
