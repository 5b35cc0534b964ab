// CUDA kernel of vss::add_channel_bias (kernels/channel_bias.h): a thread adds the bias to V
// consecutive elements of a row (16 bytes where C and the pointer allow it), the bias read in
// float32 through the cache; a grid-stride loop over the map.
#include "kernels/channel_bias_checks.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/element.cuh"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <algorithm>
#include <cstdint>

namespace vss::cuda {
namespace {

constexpr int kThreads = 256;

template <int V, typename T>
__global__ void __launch_bounds__(kThreads) channel_bias_kernel(const T* __restrict__ x, const float* __restrict__ bias,
                                                                T* __restrict__ y, int64_t vectors, int C) {
  const int vectors_per_row = C / V;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < vectors;
       i += static_cast<int64_t>(gridDim.x) * kThreads) {
    const int c = static_cast<int>(i % vectors_per_row) * V;
    float v[V];
    if constexpr (V == 1) {
      v[0] = to_float(x[i]);
    } else {
      load_items<V>(x + i * V, 0, V, v);
    }
#pragma unroll
    for (int k = 0; k < V; ++k) v[k] += __ldg(bias + c + k);
    if constexpr (V == 1) {
      y[i] = from_float<T>(v[0]);
    } else {
      store_items<V>(y + i * V, 0, V, v);
    }
  }
}

at::Tensor add_channel_bias_cuda(const at::Tensor& x_in, const at::Tensor& bias_in) {
  check_channel_bias_args(x_in, bias_in);
  const int64_t C = x_in.size(-1);
  if (x_in.scalar_type() == at::kDouble || C > (int64_t{1} << 30)) return channel_bias_formula(x_in, bias_in);
  const c10::cuda::CUDAGuard guard(x_in.device());
  const at::Tensor x = x_in.contiguous(), bias = bias_in.to(at::kFloat).contiguous();
  at::Tensor y = at::empty(x.sizes(), x.options());
  if (y.numel() == 0) return y;
  const auto stream = at::cuda::getCurrentCUDAStream();
  const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  dispatch_float(x.scalar_type(), "add_channel_bias", "x", [&](auto type) {
    using T = typename decltype(type)::type;
    constexpr int kVec = 16 / sizeof(T);
    const bool vectors = C % kVec == 0 && reinterpret_cast<uintptr_t>(x.const_data_ptr()) % 16 == 0;
    auto run = [&](auto v) {
      constexpr int V = decltype(v)::value;
      const int64_t n = x.numel() / V;
      const auto blocks = static_cast<unsigned>(std::clamp<int64_t>((n + kThreads - 1) / kThreads, 1, 16 * sms));
      channel_bias_kernel<V, T><<<blocks, kThreads, 0, stream>>>(cptr<T>(x), cptr<float>(bias), mptr<T>(y), n,
                                                                 static_cast<int>(C));
    };
    if (vectors) run(std::integral_constant<int, kVec>{});
    else run(std::integral_constant<int, 1>{});
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return y;
}

}  // namespace
}  // namespace vss::cuda

TORCH_LIBRARY_IMPL(vss, CUDA, m) { m.impl("add_channel_bias", &vss::cuda::add_channel_bias_cuda); }
