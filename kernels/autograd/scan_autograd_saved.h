#pragma once
// What the scans' autograd functions (selective_scan_autograd.cpp,
// selective_scan_plan_autograd.cpp) do with saved tensors and the gradients they return.
#include <ATen/core/Tensor.h>

#include <optional>

namespace vss::detail {

// An optional input saved for backward comes back undefined when it was absent.
inline std::optional<at::Tensor> from_saved(const at::Tensor& t) {
  return t.defined() ? std::optional<at::Tensor>(t) : std::nullopt;
}

// A gradient in its input's dtype (dB of bf16 B is bf16, dA of float32 A is float32);
// undefined when either is.
inline at::Tensor grad_like(const at::Tensor& grad, const at::Tensor& input) {
  return grad.defined() && input.defined() ? grad.to(input.scalar_type()) : at::Tensor();
}

}  // namespace vss::detail
