#pragma once
// Argument rules of vss::dt_projection, shared by the CPU and CUDA kernels so both reject the
// same inputs with the same one-line message naming the tensor and its shape; and the op as an
// ATen formula (the CPU kernel, and the CUDA kernel's fallback for float64).
#include <ATen/core/Tensor.h>

namespace vss {

void check_dt_projection_args(const at::Tensor& x, const at::Tensor& weight);

// weight[k] · x[b, k] in float32 (float64 for float64 x), in x's dtype.
at::Tensor dt_projection_formula(const at::Tensor& x, const at::Tensor& weight);

}  // namespace vss
