// CUDA kernel of vss::dt_projection (kernels/dt_projection.h). A block takes kRows rows d of
// one (b, k) and 8 tokens a thread: the thread loads its R × 8 inputs once (16-byte vectors
// where the row allows, load_items) into registers, then writes 8 outputs of each of the
// block's rows from the float32 weights staged in shared memory (zero beyond R, so the rank
// loop is unrolled to a fixed kRank). Rows of d split over blockIdx.z keep enough blocks on the
// GPU when L is short (14x14, 7x7 maps). Ranks over 16 go to cuBLAS.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/element.cuh"
#include "kernels/dt_projection_checks.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <cstdint>
#include <limits>

namespace vss::cuda {
namespace {

constexpr int kThreads = 128;
constexpr int kItems = 8;   // tokens a thread
constexpr int kRows = 32;   // rows d a block

struct DtArgs {
  int64_t x_stride_b, x_stride_k, x_stride_r;  // x's strides (elements); its L stride is 1
  int K, D, R;
  int64_t L;
};

template <int kRank, typename T>
__global__ void __launch_bounds__(kThreads) dt_projection_kernel(const T* __restrict__ x,
                                                                 const float* __restrict__ weight,
                                                                 T* __restrict__ out, DtArgs a) {
  __shared__ float w[kRows][kRank];
  const int bk = blockIdx.y, b = bk / a.K, k = bk - b * a.K;
  const int d0 = blockIdx.z * kRows;
  for (int i = threadIdx.x; i < kRows * kRank; i += kThreads) {
    const int d = d0 + i / kRank, r = i % kRank;
    w[i / kRank][r] = d < a.D && r < a.R ? weight[(static_cast<int64_t>(k) * a.D + d) * a.R + r] : 0.f;
  }
  __syncthreads();
  const int64_t t = (static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x) * kItems;
  if (t >= a.L) return;
  const T* xb = x + b * a.x_stride_b + k * a.x_stride_k;
  float xv[kRank][kItems];
#pragma unroll
  for (int r = 0; r < kRank; ++r) {
    if (r < a.R) {
      load_items<kItems>(xb + r * a.x_stride_r, t, a.L, xv[r]);
    } else {
#pragma unroll
      for (int i = 0; i < kItems; ++i) xv[r][i] = 0.f;
    }
  }
  T* ob = out + (static_cast<int64_t>(bk) * a.D + d0) * a.L;
  const int rows = min(kRows, a.D - d0);
  for (int d = 0; d < rows; ++d) {
    float acc[kItems];
#pragma unroll
    for (int i = 0; i < kItems; ++i) {
      float s = 0.f;
#pragma unroll
      for (int r = 0; r < kRank; ++r) s = fmaf(w[d][r], xv[r][i], s);
      acc[i] = s;
    }
    store_items<kItems>(ob + d * a.L, t, a.L, acc);
  }
}

at::Tensor dt_projection_cuda(const at::Tensor& x, const at::Tensor& weight) {
  check_dt_projection_args(x, weight);
  const int64_t B = x.size(0), K = x.size(1), R = x.size(2), L = x.size(3), D = weight.size(1);
  const bool fits = R <= 16 && B * K <= 65535 && (D + kRows - 1) / kRows <= 65535 &&
                    L / (kThreads * kItems) < std::numeric_limits<int32_t>::max() &&
                    D <= std::numeric_limits<int32_t>::max() && x.scalar_type() != at::kDouble;
  // Ranks past 16 (VMamba-T's last two stages: 24, 48) would not fit the registers: cuBLAS in
  // x's dtype, as autocast runs the matmul (the float32 formula ran on FFMA, 0.12 ms a block).
  if (!fits) {
    return x.scalar_type() == at::kDouble ? dt_projection_formula(x, weight)
                                          : at::matmul(weight.to(x.scalar_type()), x);
  }
  const c10::cuda::CUDAGuard guard(x.device());
  // Rows of L elements with unit stride (a narrow of the rank rows keeps that).
  const at::Tensor xs = x.stride(3) == 1 ? x : x.contiguous();
  const at::Tensor w = weight.to(at::kFloat).contiguous();
  at::Tensor out = at::empty({B, K, D, L}, x.options().memory_format(at::MemoryFormat::Contiguous));
  if (out.numel() == 0) return out;
  const DtArgs args{xs.stride(0), xs.stride(1), xs.stride(2), static_cast<int>(K), static_cast<int>(D),
                    static_cast<int>(R), L};
  const dim3 grid(static_cast<unsigned>((L + kThreads * kItems - 1) / (kThreads * kItems)),
                  static_cast<unsigned>(B * K), static_cast<unsigned>((D + kRows - 1) / kRows));
  const auto stream = at::cuda::getCurrentCUDAStream();
  dispatch_float(x.scalar_type(), "dt_projection", "x", [&](auto type) {
    using T = typename decltype(type)::type;
    if (R <= 8)
      dt_projection_kernel<8, T><<<grid, kThreads, 0, stream>>>(cptr<T>(xs), cptr<float>(w), mptr<T>(out), args);
    else
      dt_projection_kernel<16, T><<<grid, kThreads, 0, stream>>>(cptr<T>(xs), cptr<float>(w), mptr<T>(out), args);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

}  // namespace
}  // namespace vss::cuda

TORCH_LIBRARY_IMPL(vss, CUDA, m) { m.impl("dt_projection", &vss::cuda::dt_projection_cuda); }
