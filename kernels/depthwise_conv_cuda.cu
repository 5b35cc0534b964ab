// CUDA kernel of vss::depthwise_conv2d_channels_last (kernels/depthwise_conv.h). A thread owns
// one channel of kRun consecutive pixels of a row: it keeps its k×k weights in registers and
// slides a window of kRun + k - 1 inputs along each of the k input rows, so it loads each
// input once per row instead of k times; consecutive threads take consecutive channels, so
// every load and store of a warp is one contiguous run of the channel-last map.
#include "kernels/cuda_element.cuh"
#include "kernels/depthwise_conv_checks.h"
#include "kernels/selective_scan_cuda_dispatch.cuh"

#include <ATen/ATen.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

namespace vss::cuda {
namespace {

constexpr int kRun = 8;  // output pixels a thread computes along W

template <typename T, int K>
__global__ void __launch_bounds__(256) depthwise_conv_cl_kernel(
    const T* __restrict__ x, const float* __restrict__ weight, const float* __restrict__ bias,
    T* __restrict__ y, int64_t B, int64_t H, int64_t W, int64_t C, int64_t runs, bool silu) {
  const int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  if (i >= B * H * runs * C) return;
  const int64_t c = i % C;
  int64_t rest = i / C;
  const int64_t w0 = (rest % runs) * kRun;
  rest /= runs;
  const int64_t h = rest % H, b = rest / H;
  constexpr int P = K / 2;
  float wk[K * K];
#pragma unroll
  for (int j = 0; j < K * K; ++j) wk[j] = weight[c * K * K + j];
  float acc[kRun];
  const float b0 = bias ? bias[c] : 0.f;
#pragma unroll
  for (int o = 0; o < kRun; ++o) acc[o] = b0;
#pragma unroll
  for (int di = 0; di < K; ++di) {
    const int64_t hh = h + di - P;
    if (hh < 0 || hh >= H) continue;
    const T* row = x + (b * H + hh) * W * C + c;
    float win[kRun + K - 1];
#pragma unroll
    for (int j = 0; j < kRun + K - 1; ++j) {
      const int64_t ww = w0 + j - P;
      win[j] = ww >= 0 && ww < W ? to_float(row[ww * C]) : 0.f;
    }
#pragma unroll
    for (int o = 0; o < kRun; ++o)
#pragma unroll
      for (int dj = 0; dj < K; ++dj) acc[o] += wk[di * K + dj] * win[o + dj];
  }
  T* out = y + (b * H + h) * W * C + c;
#pragma unroll
  for (int o = 0; o < kRun; ++o) {
    if (w0 + o >= W) break;
    const float v = silu ? acc[o] / (1.f + __expf(-acc[o])) : acc[o];
    out[(w0 + o) * C] = from_float<T>(v);
  }
}

at::Tensor depthwise_conv2d_channels_last_cuda(const at::Tensor& x_in, const at::Tensor& weight_in,
                                               const std::optional<at::Tensor>& bias_in,
                                               bool silu) {
  const int64_t k = check_depthwise_conv_args(x_in, weight_in, bias_in);
  TORCH_CHECK(x_in.scalar_type() != at::kDouble,
              "vss::depthwise_conv2d_channels_last: float64 is CPU-only, got x of dtype float64 on ",
              x_in.device());
  TORCH_CHECK(k <= 7, "vss::depthwise_conv2d_channels_last: the CUDA kernel takes k <= 7, got weight ",
              weight_in.sizes());
  const c10::cuda::CUDAGuard guard(x_in.device());
  const at::Tensor x = x_in.contiguous();
  const at::Tensor weight = weight_in.to(at::kFloat).contiguous();
  const at::Tensor bias =
      bias_in.has_value() && bias_in->defined() ? bias_in->to(at::kFloat).contiguous() : at::Tensor();
  at::Tensor y = at::empty_like(x);
  const int64_t B = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3);
  const int64_t runs = (W + kRun - 1) / kRun, threads = B * H * runs * C;
  const unsigned blocks = static_cast<unsigned>((threads + 255) / 256);
  auto stream = c10::cuda::getCurrentCUDAStream();
  dispatch_in_out(x.scalar_type(), at::kFloat, [&](auto in_t, auto) {
    using T = typename decltype(in_t)::type;
    auto launch = [&](auto kernel) {
      kernel<<<blocks, 256, 0, stream>>>(cptr<T>(x), cptr<float>(weight), cptr<float>(bias),
                                         mptr<T>(y), B, H, W, C, runs, silu);
    };
    switch (k) {
      case 1: launch(depthwise_conv_cl_kernel<T, 1>); break;
      case 3: launch(depthwise_conv_cl_kernel<T, 3>); break;
      case 5: launch(depthwise_conv_cl_kernel<T, 5>); break;
      default: launch(depthwise_conv_cl_kernel<T, 7>); break;
    }
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return y;
}

}  // namespace
}  // namespace vss::cuda

TORCH_LIBRARY_IMPL(vss, CUDA, m) {
  m.impl("depthwise_conv2d_channels_last", &vss::cuda::depthwise_conv2d_channels_last_cuda);
}
