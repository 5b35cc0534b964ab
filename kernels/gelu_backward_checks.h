#pragma once
// The argument rules of vss::gelu_backward_with_bias_grad, shared by its CPU and CUDA kernels.
#include "kernels/float_dtypes.h"

#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

namespace vss {

inline void check_gelu_backward_args(const at::Tensor& dy, const at::Tensor& h) {
  TORCH_CHECK(h.defined() && h.dim() >= 1 && h.size(-1) >= 1,
              "vss::gelu_backward_with_bias_grad: h must have shape [..., C] with C >= 1, got ",
              h.defined() ? h.sizes() : at::IntArrayRef{});
  TORCH_CHECK(is_float_dtype(h.scalar_type()),
              "vss::gelu_backward_with_bias_grad: h must be float32, float16, bfloat16 or float64, got ",
              h.scalar_type());
  TORCH_CHECK(dy.defined() && dy.sizes() == h.sizes(),
              "vss::gelu_backward_with_bias_grad: dy must have h's shape ", h.sizes(), ", got ",
              dy.defined() ? dy.sizes() : at::IntArrayRef{});
  TORCH_CHECK(dy.scalar_type() == h.scalar_type(), "vss::gelu_backward_with_bias_grad: dy must have h's dtype ",
              h.scalar_type(), ", got ", dy.scalar_type());
  TORCH_CHECK(dy.device() == h.device(), "vss::gelu_backward_with_bias_grad: dy must be on h's device ",
              h.device(), ", got ", dy.device());
}

}  // namespace vss
