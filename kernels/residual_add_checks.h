#pragma once
// Argument rules of vss::residual_add and its backward, shared by the CPU and CUDA kernels so
// both reject the same inputs with the same one-line message naming the tensor and its shape;
// and the op as ATen formulas: the CPU kernel (the reference), and the CUDA kernels' fallback
// for the dtype pairs they have no instantiation for (float64, a 16-bit x with a float32 branch).
#include <ATen/core/Tensor.h>

#include <optional>

namespace vss {

// The result's dtype (x's and branch's promoted dtype).
at::ScalarType check_residual_add_args(const at::Tensor& x, const at::Tensor& branch,
                                       const std::optional<at::Tensor>& sample_scale);

void check_residual_add_backward_args(const at::Tensor& dout, const std::optional<at::Tensor>& sample_scale,
                                      at::ScalarType branch_dtype);

// x + branch · sample_scale[b], formed in float32 (float64 for float64), in the result dtype.
at::Tensor residual_add_formula(const at::Tensor& x, const at::Tensor& branch,
                                const std::optional<at::Tensor>& sample_scale);

// dout · sample_scale[b] in branch_dtype.
at::Tensor residual_add_backward_formula(const at::Tensor& dout, const std::optional<at::Tensor>& sample_scale,
                                         at::ScalarType branch_dtype);

}  // namespace vss
