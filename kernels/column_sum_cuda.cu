// CUDA kernel of vss::column_sum (kernels/column_sum.h). One kernel, launched twice: over the
// input with a run of rows a block (one float32 partial row each; up to eight blocks a SM, four
// rows' loads in flight a thread), then over the partial rows with a single run (the result). A block's threads split as `group` column vectors of V
// elements × `lanes` rows in flight; each thread sums its rows in order, and the lanes are
// summed in order through shared memory: the same bits every run.
#include "kernels/column_sum_checks.h"
#include "kernels/cuda_element.cuh"
#include "kernels/selective_scan_cuda_common.cuh"
#include "kernels/selective_scan_cuda_dispatch.cuh"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <algorithm>
#include <cstdint>
#include <limits>

namespace vss::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxV = 8;

constexpr int kUnroll = 4;  // rows a thread loads at once

// V elements of a row from p (fewer than V left in the row: the rest read as 0).
template <int V, typename T>
__device__ __forceinline__ void load_vector(const T* p, int64_t left, float (&v)[V]) {
  if constexpr (V == 1) v[0] = to_float(*p);
  else load_items<V>(p, 0, left, v);
}

struct SumArgs {
  int64_t rows, rows_per_block;
  int C, group;  // columns; column vectors a block
};

// out[blockIdx.x, c] = Σ x[r, c] over the block's rows, for the block's columns (blockIdx.y).
template <int V, typename T>
__global__ void __launch_bounds__(kThreads) column_sum_kernel(const T* __restrict__ x, float* __restrict__ out,
                                                              SumArgs a) {
  __shared__ float lanes_sum[kThreads * kMaxV];
  const int lanes = kThreads / a.group;
  const int lane = threadIdx.x / a.group, gl = threadIdx.x - lane * a.group;
  const int64_t c = (static_cast<int64_t>(blockIdx.y) * a.group + gl) * V;
  const bool active = lane < lanes && c < a.C;
  float acc[V];
#pragma unroll
  for (int i = 0; i < V; ++i) acc[i] = 0.f;
  const int64_t r0 = blockIdx.x * a.rows_per_block;
  const int64_t r1 = min(a.rows, r0 + a.rows_per_block);
  if (active) {
    // kUnroll rows' loads issued before their sums (one load in flight a thread left HBM idle),
    // summed in row order all the same.
    int64_t r = r0 + lane;
    for (; r + (kUnroll - 1) * lanes < r1; r += kUnroll * lanes) {
      float v[kUnroll][V];
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) load_vector<V>(x + (r + u * lanes) * a.C + c, a.C - c, v[u]);
#pragma unroll
      for (int u = 0; u < kUnroll; ++u)
#pragma unroll
        for (int i = 0; i < V; ++i) acc[i] += v[u][i];
    }
    for (; r < r1; r += lanes) {
      float v[V];
      load_vector<V>(x + r * a.C + c, a.C - c, v);
#pragma unroll
      for (int i = 0; i < V; ++i) acc[i] += v[i];
    }
  }
  if (lanes > 1) {
    if (active) {
#pragma unroll
      for (int i = 0; i < V; ++i) lanes_sum[threadIdx.x * V + i] = acc[i];
    }
    __syncthreads();
    if (!active || lane != 0) return;
    for (int l = 1; l < lanes; ++l) {
#pragma unroll
      for (int i = 0; i < V; ++i) acc[i] += lanes_sum[(l * a.group + gl) * V + i];
    }
  } else if (!active) {
    return;
  }
  float* o = out + static_cast<int64_t>(blockIdx.x) * a.C + c;
#pragma unroll
  for (int i = 0; i < V; ++i)
    if (c + i < a.C) o[i] = acc[i];
}

// Sums the rows of x [rows, C] into `blocks` partial rows of out [blocks, C], `group` column
// vectors a block.
template <typename T>
void launch_sums(const T* x, float* out, int64_t rows, int C, int64_t blocks, int max_group, bool vectors,
                 cudaStream_t stream) {
  auto run = [&](auto v) {
    constexpr int V = decltype(v)::value;
    const int64_t vectors_per_row = (C + V - 1) / V;
    const int group = static_cast<int>(std::min<int64_t>(vectors_per_row, max_group));
    const SumArgs a{rows, (rows + blocks - 1) / blocks, C, group};
    const dim3 grid(static_cast<unsigned>(blocks), static_cast<unsigned>((vectors_per_row + group - 1) / group));
    column_sum_kernel<V, T><<<grid, kThreads, 0, stream>>>(x, out, a);
  };
  constexpr int kVec = 16 / sizeof(T);  // one 16-byte load a thread and row
  if (vectors && C % kVec == 0) run(std::integral_constant<int, kVec>{});
  else run(std::integral_constant<int, 1>{});
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

at::Tensor column_sum_cuda(const at::Tensor& x_in) {
  check_column_sum_arg(x_in);
  const int64_t M = x_in.size(0), C = x_in.size(1);
  if (x_in.scalar_type() == at::kDouble || C > std::numeric_limits<int>::max() / 2 || C / kThreads > 65535)
    return at::sum(x_in, 0, false, column_sum_dtype(x_in));
  const c10::cuda::CUDAGuard guard(x_in.device());
  const at::Tensor x = x_in.contiguous();
  at::Tensor out = at::zeros({C}, x.options().dtype(at::kFloat));
  if (M == 0 || C == 0) return out;
  const auto stream = at::cuda::getCurrentCUDAStream();
  // Enough blocks to keep every SM reading (eight a SM), each at least 8 rows.
  const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  const int64_t blocks = std::clamp<int64_t>(M / 8, 1, 8 * sms);
  const bool aligned = reinterpret_cast<uintptr_t>(x.const_data_ptr()) % 16 == 0;
  dispatch_float(x.scalar_type(), "column_sum", "x", [&](auto type) {
    using T = typename decltype(type)::type;
    if (blocks == 1) {
      launch_sums<T>(cptr<T>(x), mptr<float>(out), M, static_cast<int>(C), 1, kThreads, aligned, stream);
      return;
    }
    at::Tensor partial = at::empty({blocks, C}, out.options());
    launch_sums<T>(cptr<T>(x), mptr<float>(partial), M, static_cast<int>(C), blocks, kThreads, aligned, stream);
    // The partial rows: 8 columns a block, 32 rows in flight, one run.
    launch_sums<float>(cptr<float>(partial), mptr<float>(out), blocks, static_cast<int>(C), 1, 8, false, stream);
  });
  return out;
}

}  // namespace
}  // namespace vss::cuda

TORCH_LIBRARY_IMPL(vss, CUDA, m) { m.impl("column_sum", &vss::cuda::column_sum_cuda); }
