#include "bench/gpu_timing.h"

#include <torch/torch.h>
#if VSS_WITH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include <algorithm>
#include <chrono>
#include <vector>

namespace vss::bench {

double median_ms(const std::function<void()>& fn, const c10::Device& device, int warmup,
                 int iters) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> ms;
  ms.reserve(iters);
#if VSS_WITH_CUDA
  if (device.is_cuda()) {
    at::cuda::CUDAEvent start(cudaEventDefault), stop(cudaEventDefault);
    for (int i = 0; i < iters; ++i) {
      auto stream = c10::cuda::getCurrentCUDAStream(device.index());
      start.record(stream);
      fn();
      stop.record(stream);
      stop.synchronize();
      ms.push_back(start.elapsed_time(stop));
    }
  }
#endif
  if (!device.is_cuda()) {
    for (int i = 0; i < iters; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      fn();
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
  }
  TORCH_CHECK(!ms.empty(), "median_ms: no timings (CUDA device without CUDA support built in)");
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

double copy_bandwidth_gbs(const c10::Device& device, int64_t bytes) {
  const auto opts = torch::TensorOptions().dtype(torch::kUInt8).device(device);
  at::Tensor src = torch::randint(0, 255, {bytes}, opts), dst = torch::empty({bytes}, opts);
  const double ms = median_ms([&] { dst.copy_(src); }, device, 3, 20);
  return 2.0 * static_cast<double>(bytes) / (ms * 1e6);
}

}  // namespace vss::bench
