// CUDA kernel of vss::dt_projection (kernels/dt_projection.h). A block takes kRows rows d of
// one (b, k) and kItems tokens a thread: the thread loads its R × kItems inputs once into
// registers, then writes kItems outputs of each of the block's rows (plus `add`'s, when given)
// from the float32 weights staged in shared memory (zero beyond R, so the rank loop is
// unrolled to a fixed kRank). kRank × kItems stays at most 128 floats: 8 tokens a thread up to
// rank 16, 4 up to 32, 2 up to 64 (VMamba-T's dt ranks 6, 12, 24, 48; its x_proj rows 8 to 50
// in SS2D's backward). Rows of d split over blockIdx.z keep enough blocks on the GPU when L is
// short (14x14, 7x7 maps). Ranks over 64 go to cuBLAS.
#include "kernels/cuda_element.cuh"
#include "kernels/dt_projection_checks.h"
#include "kernels/selective_scan_cuda_common.cuh"
#include "kernels/selective_scan_cuda_dispatch.cuh"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>

namespace vss::cuda {
namespace {

constexpr int kThreads = 128;
constexpr int kRows = 32;  // rows d a block
constexpr int kMaxRank = 64;

// Tokens a thread for rank kRank: its inputs stay within 128 registers.
constexpr int items_for_rank(int rank) { return rank <= 16 ? 8 : 128 / rank; }

struct DtArgs {
  int64_t x_stride_b, x_stride_k, x_stride_r;  // x's strides (elements); its L stride is 1
  int K, D, R;
  int64_t L;
};

// An unsigned type of n bytes: one vector load / store of a run of n bytes.
template <int kBytes>
struct RunWord;
template <>
struct RunWord<16> { using type = uint4; };
template <>
struct RunWord<8> { using type = uint2; };
template <>
struct RunWord<4> { using type = uint32_t; };
template <>
struct RunWord<2> { using type = uint16_t; };

// A run of kItems elements of T moves as kWords vector words of up to 16 bytes.
template <int kItems, typename T>
struct TokenRun {
  static constexpr int kBytes = kItems * static_cast<int>(sizeof(T));
  static constexpr int kWordBytes = kBytes < 16 ? kBytes : 16;
  static constexpr int kWords = kBytes / kWordBytes;
  using Word = typename RunWord<kWordBytes>::type;
};

// kItems elements from row[t] as floats (0 past len): vector loads where the run is whole and
// aligned to its word, else element by element.
template <int kItems, typename T>
__device__ __forceinline__ void load_run(const T* __restrict__ row, int64_t t, int64_t len, float (&out)[kItems]) {
  using R = TokenRun<kItems, T>;
  const T* p = row + t;
  if (t + kItems <= len && reinterpret_cast<uintptr_t>(p) % R::kWordBytes == 0) {
    typename R::Word w[R::kWords];
#pragma unroll
    for (int v = 0; v < R::kWords; ++v) w[v] = reinterpret_cast<const typename R::Word*>(p)[v];
    T e[kItems];
    memcpy(static_cast<void*>(e), w, sizeof(w));
#pragma unroll
    for (int i = 0; i < kItems; ++i) out[i] = to_float(e[i]);
  } else {
#pragma unroll
    for (int i = 0; i < kItems; ++i) out[i] = t + i < len ? to_float(p[i]) : 0.f;
  }
}

template <int kItems, typename T>
__device__ __forceinline__ void store_run(T* __restrict__ row, int64_t t, int64_t len, const float (&in)[kItems]) {
  using R = TokenRun<kItems, T>;
  T* p = row + t;
  if (t + kItems <= len && reinterpret_cast<uintptr_t>(p) % R::kWordBytes == 0) {
    T e[kItems];
#pragma unroll
    for (int i = 0; i < kItems; ++i) e[i] = from_float<T>(in[i]);
    typename R::Word w[R::kWords];
    memcpy(w, static_cast<const void*>(e), sizeof(w));
#pragma unroll
    for (int v = 0; v < R::kWords; ++v) reinterpret_cast<typename R::Word*>(p)[v] = w[v];
  } else {
#pragma unroll
    for (int i = 0; i < kItems; ++i)
      if (t + i < len) p[i] = from_float<T>(in[i]);
  }
}

template <int kRank, typename T>
__global__ void __launch_bounds__(kThreads) dt_projection_kernel(const T* __restrict__ x,
                                                                 const float* __restrict__ weight,
                                                                 const T* __restrict__ add,
                                                                 T* __restrict__ out, DtArgs a) {
  constexpr int kItems = items_for_rank(kRank);
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
      load_run<kItems>(xb + r * a.x_stride_r, t, a.L, xv[r]);
    } else {
#pragma unroll
      for (int i = 0; i < kItems; ++i) xv[r][i] = 0.f;
    }
  }
  const int64_t first = (static_cast<int64_t>(bk) * a.D + d0) * a.L;
  const int rows = min(kRows, a.D - d0);
  for (int d = 0; d < rows; ++d) {
    float acc[kItems];
    if (add) {
      load_run<kItems>(add + first + d * a.L, t, a.L, acc);
    } else {
#pragma unroll
      for (int i = 0; i < kItems; ++i) acc[i] = 0.f;
    }
#pragma unroll
    for (int i = 0; i < kItems; ++i) {
      float s = 0.f;
#pragma unroll
      for (int r = 0; r < kRank; ++r) s = fmaf(w[d][r], xv[r][i], s);
      acc[i] += s;
    }
    store_run<kItems>(out + first + d * a.L, t, a.L, acc);
  }
}

at::Tensor dt_projection_cuda(const at::Tensor& x, const at::Tensor& weight, const std::optional<at::Tensor>& add_in) {
  check_dt_projection_args(x, weight, add_in);
  const int64_t B = x.size(0), K = x.size(1), R = x.size(2), L = x.size(3), D = weight.size(1);
  const bool fits = R <= kMaxRank && B * K <= 65535 && (D + kRows - 1) / kRows <= 65535 &&
                    L / kThreads < std::numeric_limits<int32_t>::max() &&
                    D <= std::numeric_limits<int32_t>::max() && x.scalar_type() != at::kDouble;
  // Ranks past 64 would not fit the registers: cuBLAS in x's dtype, as autocast runs the matmul.
  if (!fits) {
    if (x.scalar_type() == at::kDouble) return dt_projection_formula(x, weight, add_in);
    at::Tensor out = at::matmul(weight.to(x.scalar_type()), x);
    if (add_in && add_in->defined()) out.add_(*add_in);
    return out;
  }
  const c10::cuda::CUDAGuard guard(x.device());
  // Rows of L elements with unit stride (a narrow of the rank rows keeps that).
  const at::Tensor xs = x.stride(3) == 1 ? x : x.contiguous();
  const at::Tensor w = weight.to(at::kFloat).contiguous();
  const at::Tensor add = contiguous_or_undefined(add_in);
  at::Tensor out = at::empty({B, K, D, L}, x.options().memory_format(at::MemoryFormat::Contiguous));
  if (out.numel() == 0) return out;
  const DtArgs args{xs.stride(0), xs.stride(1), xs.stride(2), static_cast<int>(K), static_cast<int>(D),
                    static_cast<int>(R), L};
  const auto stream = at::cuda::getCurrentCUDAStream();
  dispatch_float(x.scalar_type(), "dt_projection", "x", [&](auto type) {
    using T = typename decltype(type)::type;
    auto launch = [&](auto kernel, int items) {
      const dim3 grid(static_cast<unsigned>((L + kThreads * items - 1) / (kThreads * items)),
                      static_cast<unsigned>(B * K), static_cast<unsigned>((D + kRows - 1) / kRows));
      kernel<<<grid, kThreads, 0, stream>>>(cptr<T>(xs), cptr<float>(w), cptr<T>(add), mptr<T>(out), args);
    };
    if (R <= 8) launch(dt_projection_kernel<8, T>, items_for_rank(8));
    else if (R <= 16) launch(dt_projection_kernel<16, T>, items_for_rank(16));
    else if (R <= 32) launch(dt_projection_kernel<32, T>, items_for_rank(32));
    else launch(dt_projection_kernel<64, T>, items_for_rank(64));
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

}  // namespace
}  // namespace vss::cuda

TORCH_LIBRARY_IMPL(vss, CUDA, m) { m.impl("dt_projection", &vss::cuda::dt_projection_cuda); }
