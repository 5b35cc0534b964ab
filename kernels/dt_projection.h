#pragma once
// SS2D's dt_proj on every direction's sequence: vss::dt_projection(x, weight)[b, k] =
// weight[k] · x[b, k], a [D, R] matrix times [R, L] rows with a small rank R (dt_rank, 6 for
// VMamba-T), as the official v05 computes Δ before the scan. CPU reference + CUDA kernel,
// differentiable. Its inner dimension is too short for a GEMM to pay: cuBLAS / CUTLASS ran it
// at a third of the copy bandwidth (1.9 ms of a VMamba-T b128 training step), while the
// result is all it has to write. The CUDA kernel keeps a thread's R × 8 inputs in registers
// and writes 8 outputs of every row d from them, with the float32 weights in shared memory;
// products and sums in float32 (float64 for float64), the result in x's dtype. The backward
// is two GEMMs (dx = weightᵀ · dout, dweight = Σ_b dout · xᵀ), in dout's dtype as autocast
// would run them.
#include <ATen/core/Tensor.h>

namespace vss {

// x [B, K, R, L] (any strides), weight [K, D, R] -> [B, K, D, L] in x's dtype.
at::Tensor dt_projection(const at::Tensor& x, const at::Tensor& weight);

// The weight's gradient given dout [B, K, D, L]: Σ_b dout[b] · x[b]ᵀ, the products in dout's
// dtype, summed into weight_dtype. The autograd backward's, public for code that owns a larger
// autograd node around the op (backbones/ss2d_sequence_core.h).
at::Tensor dt_projection_weight_grad(const at::Tensor& dout, const at::Tensor& x, at::ScalarType weight_dtype);

}  // namespace vss
