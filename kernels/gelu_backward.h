#pragma once
// The backward of the exact (erf) GELU together with the gradient of a bias added before it:
// for y = gelu(h), vss::gelu_backward_with_bias_grad(dy, h) = {dh = dy·gelu'(h), Σ dh over every
// dimension but the last}. An MLP's fc1 -> GELU trains on it: dh is the gradient of fc1's output
// and the sum that of fc1's bias, which would otherwise take a second full read of dh (the bf16
// column sums of Dense's bias gradients, fc1's the largest, were 1.4 ms of VMamba-T's 59 ms b128
// step on an H100). CPU reference (float64) + CUDA kernel; the sum is of dh as written (rounded
// to its dtype), in float32, the same bits every run.
#include <ATen/core/Tensor.h>

#include <tuple>

namespace vss {

// dy, h: the same shape [..., C] and float dtype. Returns {dh in h's dtype and shape, [C] in
// float32 (float64 for float64)}.
std::tuple<at::Tensor, at::Tensor> gelu_backward_with_bias_grad(const at::Tensor& dy, const at::Tensor& h);

}  // namespace vss
