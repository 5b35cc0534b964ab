// CUDA kernel of vss::gelu_backward_with_bias_grad (kernels/gelu_backward.h): the column-run
// skeleton of kernels/cuda/column_run.cuh over dy and h (16-byte vectors where rows allow),
// each thread writing dh for its columns and summing dh as written; one float32 partial row a
// block, summed by vss::column_sum. Reads dy and h and writes dh once each: a copy's traffic.
#include "kernels/column_sum.h"
#include "kernels/cuda/column_run.cuh"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/element.cuh"
#include "kernels/gelu_backward_checks.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <algorithm>
#include <cstdint>
#include <limits>

namespace vss::cuda {
namespace {

// gelu'(x) = Φ(x) + x·φ(x).
__device__ __forceinline__ float gelu_derivative(float x) {
  constexpr float kSqrtHalf = 0.70710678118654752f, kInvSqrt2Pi = 0.39894228040143268f;
  return 0.5f * (1.f + erff(x * kSqrtHalf)) + x * kInvSqrt2Pi * expf(-0.5f * x * x);
}

// Row r's dh at columns c .. c + V from dy and h, written and handed back (as rounded) to be summed.
template <int V, typename T>
struct GeluBackwardRows {
  const T* dy;
  const T* h;
  T* dh;
  int C;
  struct Loaded {
    float dy[V], h[V];
  };
  __device__ __forceinline__ void load(int64_t r, int64_t c, Loaded& l) const {
    if constexpr (V == 1) {
      l.dy[0] = to_float(dy[r * C + c]);
      l.h[0] = to_float(h[r * C + c]);
    } else {
      load_items<V>(dy + r * C, c, C, l.dy);
      load_items<V>(h + r * C, c, C, l.h);
    }
  }
  __device__ __forceinline__ void take(int64_t r, int64_t c, const Loaded& l, float (&v)[V]) const {
#pragma unroll
    for (int i = 0; i < V; ++i) v[i] = to_float(from_float<T>(l.dy[i] * gelu_derivative(l.h[i])));
    if constexpr (V == 1) dh[r * C + c] = from_float<T>(v[0]);
    else store_items<V>(dh + r * C, c, C, v);
  }
};

std::tuple<at::Tensor, at::Tensor> gelu_backward_with_bias_grad_cuda(const at::Tensor& dy_in, const at::Tensor& h_in) {
  check_gelu_backward_args(dy_in, h_in);
  const int64_t C = h_in.size(-1), M = h_in.numel() / C;
  TORCH_CHECK(C <= std::numeric_limits<int>::max() / 2 && C / kColumnRunThreads <= 65535,
              "vss::gelu_backward_with_bias_grad (CUDA): ", C, " channels is too many");
  const c10::cuda::CUDAGuard guard(h_in.device());
  const at::Tensor dy = dy_in.contiguous(), h = h_in.contiguous();
  at::Tensor dh = at::empty(h.sizes(), h.options());
  if (M == 0) return {dh, at::zeros({C}, h.options().dtype(at::kFloat))};
  const auto stream = at::cuda::getCurrentCUDAStream();
  // Eight blocks a SM keep every SM reading; each takes at least 8 rows.
  const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  const int64_t blocks = std::clamp<int64_t>(M / 8, 1, 8 * sms);
  at::Tensor partial = at::empty({blocks, C}, h.options().dtype(at::kFloat));
  const auto aligned = [](const at::Tensor& t) { return reinterpret_cast<uintptr_t>(t.const_data_ptr()) % 16 == 0; };
  const bool vectors = aligned(dy) && aligned(h) && aligned(dh);
  dispatch_float(h.scalar_type(), "gelu_backward_with_bias_grad", "h", [&](auto type) {
    using T = typename decltype(type)::type;
    auto run = [&](auto v) {
      constexpr int V = decltype(v)::value;
      const ColumnRun a = column_run(M, static_cast<int>(C), blocks, V, kColumnRunThreads);
      const GeluBackwardRows<V, T> rows{cptr<T>(dy), cptr<T>(h), mptr<T>(dh), static_cast<int>(C)};
      column_run_kernel<V, GeluBackwardRows<V, T>>
          <<<column_run_grid(a, blocks, V), kColumnRunThreads, 0, stream>>>(rows, mptr<float>(partial), a);
    };
    constexpr int kVec = 16 / sizeof(T);
    if (vectors && C % kVec == 0) run(std::integral_constant<int, kVec>{});
    else run(std::integral_constant<int, 1>{});
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return {dh, blocks == 1 ? partial.view({C}) : column_sum(partial)};
}

}  // namespace
}  // namespace vss::cuda

TORCH_LIBRARY_IMPL(vss, CUDA, m) {
  m.impl("gelu_backward_with_bias_grad", &vss::cuda::gelu_backward_with_bias_grad_cuda);
}
