#pragma once
// The argument rules of vss::add_channel_bias and its ATen formula, shared by the CPU kernel
// (the reference) and the CUDA kernel's fallback.
#include "kernels/float_dtypes.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

namespace vss {

inline void check_channel_bias_args(const at::Tensor& x, const at::Tensor& bias) {
  TORCH_CHECK(x.defined() && bias.defined(), "vss::add_channel_bias: x and bias must be defined tensors");
  TORCH_CHECK(x.dim() >= 1 && bias.dim() == 1 && bias.size(0) == x.size(-1), "vss::add_channel_bias: bias must have shape [",
              x.dim() >= 1 ? x.size(-1) : 0, "] (x's last dim), got ", bias.sizes(), " for x ", x.sizes());
  TORCH_CHECK(is_float_dtype(x.scalar_type()) && is_float_dtype(bias.scalar_type()),
              "vss::add_channel_bias: x and bias must be float32, float16, bfloat16 or float64, got ", x.scalar_type(),
              " and ", bias.scalar_type());
  TORCH_CHECK(bias.device() == x.device(), "vss::add_channel_bias: bias must be on x's device ", x.device(), ", got ",
              bias.device());
}

inline at::Tensor channel_bias_formula(const at::Tensor& x, const at::Tensor& bias) {
  check_channel_bias_args(x, bias);
  const at::ScalarType acc = x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  return (x.to(acc) + bias.to(acc)).to(x.scalar_type());
}

}  // namespace vss
