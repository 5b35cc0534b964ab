#pragma once
// The argument rule of vss::column_sum, shared by its CPU and CUDA kernels.
#include "kernels/float_dtypes.h"

#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

namespace vss {

inline void check_column_sum_arg(const at::Tensor& x) {
  TORCH_CHECK(x.defined() && x.dim() == 2, "vss::column_sum: x must have shape [M, C], got ",
              x.defined() ? x.sizes() : at::IntArrayRef{});
  TORCH_CHECK(is_float_dtype(x.scalar_type()),
              "vss::column_sum: x must be float32, float16, bfloat16 or float64, got ", x.scalar_type());
}

// The sums' dtype: float64 for float64 x, float32 otherwise.
inline at::ScalarType column_sum_dtype(const at::Tensor& x) {
  return x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
}

}  // namespace vss
