// CUDA kernel of vss::column_sum (kernels/column_sum.h): kernels/cuda/column_run.cuh's
// skeleton, launched twice: over the input with a run of rows a block (one float32 partial row
// each; up to eight blocks a SM), then over the partial rows with a single run (the result).
#include "kernels/column_sum_checks.h"
#include "kernels/cuda/column_run.cuh"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/element.cuh"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <algorithm>
#include <cstdint>
#include <limits>

namespace vss::cuda {
namespace {

// V elements of row r from column c (past C: zeros), as floats; summed as they are.
template <int V, typename T>
struct LoadedRows {
  const T* x;
  int C;
  struct Loaded {
    float v[V];
  };
  __device__ __forceinline__ void load(int64_t r, int64_t c, Loaded& l) const {
    if constexpr (V == 1) l.v[0] = to_float(x[r * C + c]);
    else load_items<V>(x + r * C, c, C, l.v);
  }
  __device__ __forceinline__ void take(int64_t, int64_t, const Loaded& l, float (&v)[V]) const {
#pragma unroll
    for (int i = 0; i < V; ++i) v[i] = l.v[i];
  }
};

// Sums the rows of x [rows, C] into `blocks` partial rows of out [blocks, C], at most
// `max_group` column vectors a block.
template <typename T>
void launch_sums(const T* x, float* out, int64_t rows, int C, int64_t blocks, int max_group, bool vectors,
                 cudaStream_t stream) {
  auto run = [&](auto v) {
    constexpr int V = decltype(v)::value;
    const ColumnRun a = column_run(rows, C, blocks, V, max_group);
    column_run_kernel<V, LoadedRows<V, T>>
        <<<column_run_grid(a, blocks, V), kColumnRunThreads, 0, stream>>>(LoadedRows<V, T>{x, C}, out, a);
  };
  constexpr int kVec = 16 / sizeof(T);  // one 16-byte load a thread and row
  if (vectors && C % kVec == 0) run(std::integral_constant<int, kVec>{});
  else run(std::integral_constant<int, 1>{});
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

at::Tensor column_sum_cuda(const at::Tensor& x_in) {
  check_column_sum_arg(x_in);
  const int64_t M = x_in.size(0), C = x_in.size(1);
  if (x_in.scalar_type() == at::kDouble || C > std::numeric_limits<int>::max() / 2 || C / kColumnRunThreads > 65535)
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
      launch_sums<T>(cptr<T>(x), mptr<float>(out), M, static_cast<int>(C), 1, kColumnRunThreads, aligned, stream);
      return;
    }
    at::Tensor partial = at::empty({blocks, C}, out.options());
    launch_sums<T>(cptr<T>(x), mptr<float>(partial), M, static_cast<int>(C), blocks, kColumnRunThreads, aligned, stream);
    // The partial rows: 8 columns a block, 32 rows in flight, one run.
    launch_sums<float>(cptr<float>(partial), mptr<float>(out), blocks, static_cast<int>(C), 1, 8, false, stream);
  });
  return out;
}

}  // namespace
}  // namespace vss::cuda

TORCH_LIBRARY_IMPL(vss, CUDA, m) { m.impl("column_sum", &vss::cuda::column_sum_cuda); }
