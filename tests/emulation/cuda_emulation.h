#pragma once
// Runs the CUDA kernels of kernels/cuda/*.cu on the CPU, so that CI (which has no GPU) tests the
// code that ships. translate_cuda.py rewrites each .cu file to include this header; the
// kernels and their host code are otherwise compiled as they are.
//
// The model: blocks run one after another; a block's threads are fibers on one OS thread,
// switched only at __syncthreads, __syncwarp and warp shuffles, so atomics are plain
// read-modify-writes. Threads run in thread order in even blocks and in reverse order in odd
// ones: a read of another thread's write that lacks a barrier sees the stale value in one of
// the two orders, and so fails a test. A barrier or a shuffle that some thread can never
// reach (divergence, an exited lane) is reported as a deadlock naming the block and threads.
// Dynamic shared memory starts as NaN bytes, so reading it before writing shows up too.
// What it cannot see: the real memory model, register or shared-memory limits, timing.
#include <cuda_runtime.h>  // host-compilable: dim3, cudaStream_t, cudaDeviceProp
#include <cuda_bf16.h>     // host implementations of the bfloat16 / half conversions
#include <cuda_fp16.h>

#include <ATen/ATen.h>
#include <torch/library.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <tuple>
#include <utility>

namespace vss_emu {

struct ThreadState {
  uint3 thread_idx;
  int linear;  // x + y·blockDim.x + z·blockDim.x·blockDim.y, as CUDA numbers lanes
};

// The emulated thread now running and its block's coordinates.
extern ThreadState* current;
extern uint3 block_idx;
extern dim3 block_dim, grid_dim;

// Kernel launches so far (the tests check that a GPU test launched some).
int64_t launch_count();
// Runs `body` once per thread of every block of the grid.
void run_grid(const char* kernel, dim3 grid, dim3 block, size_t dynamic_shared_bytes,
              const std::function<void()>& body);
void* dynamic_shared_memory();
template <typename T>
T* dynamic_shared() {
  return static_cast<T*>(dynamic_shared_memory());
}

// The block's barrier, and a warp's collective exchange: every lane of the warp (the mask
// must be the full warp) deposits `value` and gets back every lane's deposit.
void sync_block();
void sync_warp(unsigned mask);
const uint64_t* warp_exchange(unsigned mask, uint64_t value);

template <typename T>
T shuffle_from(unsigned mask, T value, int width, int (*source)(int lane, int width, int arg), int arg) {
  static_assert(sizeof(T) <= sizeof(uint64_t), "shuffles move at most 64 bits");
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  const uint64_t* lanes = warp_exchange(mask, bits);
  const int lane = current->linear & 31;
  T out;
  std::memcpy(&out, &lanes[source(lane, width, arg)], sizeof(T));
  return out;
}

inline int lane_indexed(int lane, int width, int src) { return (lane & ~(width - 1)) + (src & (width - 1)); }
inline int lane_up(int lane, int width, int delta) {
  return (lane & (width - 1)) >= delta ? lane - delta : lane;
}
inline int lane_down(int lane, int width, int delta) {
  return (lane & (width - 1)) + delta < width ? lane + delta : lane;
}
inline int lane_xor(int lane, int width, int mask) {
  const int other = lane ^ mask;
  return (other & ~(width - 1)) == (lane & ~(width - 1)) ? other : lane;
}

// What a kernel launch with <<<grid, block, smem, stream>>> becomes: the arguments are
// converted to the kernel's parameter types once, and every thread gets its own copy.
template <typename... Params>
struct Launch {
  void (*kernel)(Params...);
  const char* name;
  dim3 grid, block;
  size_t shared_bytes;
  template <typename... Args>
  void operator()(Args&&... args) const {
    const std::tuple<Params...> params(std::forward<Args>(args)...);
    run_grid(name, grid, block, shared_bytes, [&] { std::apply(kernel, params); });
  }
};

template <typename... Params>
Launch<Params...> launch_named(const char* name, void (*kernel)(Params...), dim3 grid, dim3 block,
                               size_t shared_bytes = 0, cudaStream_t = nullptr) {
  return {kernel, name, grid, block, shared_bytes};
}

// The runtime calls the host code makes, answered as an H100 SXM would (132 SMs, 228 KiB
// of shared memory per SM); occupancy assumes 128 registers a thread, what the scan kernels
// use.
const cudaDeviceProp* device_properties();
cudaError_t get_device(int* device);
cudaError_t device_get_attribute(int* value, cudaDeviceAttr attr, int device);
template <typename Kernel>
cudaError_t func_set_attribute(Kernel, cudaFuncAttribute, int) {
  return cudaSuccess;
}
cudaError_t occupancy_blocks(int* blocks, int threads, size_t shared_bytes);
template <typename Kernel>
cudaError_t occupancy(int* blocks, Kernel, int threads, size_t shared_bytes) {
  return occupancy_blocks(blocks, threads, shared_bytes);
}

// The emulated kernels' registration: each op gets a kernel on the PrivateUse1 key that
// sends float64 inputs (the tests' references) to the CPU kernel and runs the rest on the
// emulator (tests/emulation/emulated_gpu.cpp turns the key on for the test process).
bool has_float64(const at::Tensor& t);
bool has_float64(const std::optional<at::Tensor>& t);
template <typename T>
bool has_float64(const T&) {
  return false;
}
c10::OperatorHandle op_handle(const char* name);

class Registrar {
 public:
  explicit Registrar(torch::Library& library) : library_(library) {}
  template <typename R, typename... A>
  void impl(const char* name, R (*kernel)(A...)) {
    library_.impl(name, [kernel, name](A... args) -> R {
      if ((has_float64(args) || ...)) {
        return op_handle(name).typed<R(A...)>().redispatch(c10::DispatchKeySet(c10::DispatchKey::CPU),
                                                          args...);
      }
      return kernel(args...);
    });
  }

 private:
  torch::Library& library_;
};

}  // namespace vss_emu

#define VSS_EMU_LIBRARY_IMPL(m)                                                       \
  static void VSS_EMU_CONCAT(vss_emu_register_, __LINE__)(vss_emu::Registrar & m);    \
  TORCH_LIBRARY_IMPL(vss, PrivateUse1, library) {                                     \
    vss_emu::Registrar registrar(library);                                           \
    VSS_EMU_CONCAT(vss_emu_register_, __LINE__)(registrar);                           \
  }                                                                                   \
  static void VSS_EMU_CONCAT(vss_emu_register_, __LINE__)(vss_emu::Registrar & m)
#define VSS_EMU_CONCAT_(a, b) a##b
#define VSS_EMU_CONCAT(a, b) VSS_EMU_CONCAT_(a, b)

// ---- the device side -------------------------------------------------------------------
#undef __shared__
#define __shared__ static  // one block at a time: a function-local static is its shared memory
#define __launch_bounds__(...)
#define threadIdx (vss_emu::current->thread_idx)
#define blockIdx (vss_emu::block_idx)
#define blockDim (vss_emu::block_dim)
#define gridDim (vss_emu::grid_dim)
constexpr int warpSize = 32;

inline void __syncthreads() { vss_emu::sync_block(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { vss_emu::sync_warp(mask); }
template <typename T>
T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
  return vss_emu::shuffle_from(mask, v, width, vss_emu::lane_indexed, src);
}
template <typename T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  return vss_emu::shuffle_from(mask, v, width, vss_emu::lane_up, static_cast<int>(delta));
}
template <typename T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  return vss_emu::shuffle_from(mask, v, width, vss_emu::lane_down, static_cast<int>(delta));
}
template <typename T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
  return vss_emu::shuffle_from(mask, v, width, vss_emu::lane_xor, lane_mask);
}
template <typename T>
T atomicAdd(T* address, T value) {  // fibers switch only at barriers: this cannot interleave
  const T old = *address;
  *address = old + value;
  return old;
}
template <typename T>
T __ldg(const T* p) {
  return *p;
}
inline unsigned __umulhi(unsigned a, unsigned b) {
  return static_cast<unsigned>((static_cast<uint64_t>(a) * b) >> 32);
}
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __fmul_rn(float a, float b) { return a * b; }  // host code never contracts across statements
inline float __fadd_rn(float a, float b) { return a + b; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
template <typename T>
T min(T a, T b) {  // CUDA's device min/max, which take any arithmetic type
  return b < a ? b : a;
}
template <typename T>
T max(T a, T b) {
  return a < b ? b : a;
}

// ---- the host side ---------------------------------------------------------------------
namespace c10::cuda {
struct CUDAGuard {
  explicit CUDAGuard(c10::Device) {}
};
struct CUDAStream {
  operator cudaStream_t() const { return nullptr; }
  cudaStream_t stream() const { return nullptr; }
};
inline CUDAStream getCurrentCUDAStream() { return {}; }
}  // namespace c10::cuda
namespace at::cuda {
using c10::cuda::getCurrentCUDAStream;
inline const cudaDeviceProp* getCurrentDeviceProperties() { return vss_emu::device_properties(); }
}  // namespace at::cuda
#define C10_CUDA_KERNEL_LAUNCH_CHECK() ((void)0)
#define C10_CUDA_CHECK(expr) TORCH_CHECK((expr) == cudaSuccess, #expr)
#define cudaGetDevice vss_emu::get_device
#define cudaDeviceGetAttribute vss_emu::device_get_attribute
#define cudaFuncSetAttribute vss_emu::func_set_attribute
#define cudaOccupancyMaxActiveBlocksPerMultiprocessor vss_emu::occupancy
