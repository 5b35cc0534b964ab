#pragma once
// The device the GPU test suites (tests/<layer>/cuda) run their GPU side on: the CUDA device, or, in the
// emulated build of a suite (VSS_CUDA_EMULATION, tests/emulation), the CPU, where the CUDA
// kernels run on the emulator and float64 references on the CPU kernels.
#include <ATen/Context.h>
#include <c10/core/DeviceType.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cstdint>

#ifdef VSS_CUDA_EMULATION
namespace vss_emu {
int64_t launch_count();
}
#endif

namespace vss::test {

#ifdef VSS_CUDA_EMULATION
inline constexpr c10::DeviceType kGpu = c10::kCPU;
inline constexpr bool kEmulatedGpu = true;
// A GPU test that launched no kernel ran its "GPU" side on the CPU kernels: a failure.
struct ExpectEmulatedLaunches {
  int64_t before = vss_emu::launch_count();
  ~ExpectEmulatedLaunches() {
    EXPECT_GT(vss_emu::launch_count(), before) << "no CUDA kernel ran on the emulator";
  }
};
#define REQUIRE_GPU() const vss::test::ExpectEmulatedLaunches vss_expect_emulated_launches
#else
inline constexpr c10::DeviceType kGpu = c10::kCUDA;
inline constexpr bool kEmulatedGpu = false;
#define REQUIRE_GPU() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device"
#endif

// "float32" means float32 while alive: no TF32 in cuDNN convolutions or cuBLAS (LibTorch
// allows TF32 convolutions by default, which alone costs ~1e-3 in whole-network comparisons).
// The previous settings come back at the end, so other tests in the process see the defaults.
class ScopedNoTf32 {
 public:
  ScopedNoTf32()
      : cudnn_(at::globalContext().allowTF32CuDNN()), cublas_(at::globalContext().allowTF32CuBLAS()) {
    at::globalContext().setAllowTF32CuDNN(false);
    at::globalContext().setAllowTF32CuBLAS(false);
  }
  ~ScopedNoTf32() {
    at::globalContext().setAllowTF32CuDNN(cudnn_);
    at::globalContext().setAllowTF32CuBLAS(cublas_);
  }
  ScopedNoTf32(const ScopedNoTf32&) = delete;
  ScopedNoTf32& operator=(const ScopedNoTf32&) = delete;

 private:
  bool cudnn_, cublas_;
};

}  // namespace vss::test
