// CUDA kernels of vss::residual_add and its backward (kernels/residual_add.h): a grid of
// (element blocks, sample), so a thread finds its sample's factor without a division, and V
// consecutive elements a thread with vector loads and stores where a sample's length and the
// pointers allow it (V = 4: 16 bytes of a float32 x, 8 of a bf16 branch). Bandwidth-bound: it
// reads x and the branch once and writes the result once.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/element.cuh"
#include "kernels/residual_add_checks.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <cstdint>
#include <cstring>
#include <limits>

namespace vss::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxSamples = 65535;  // gridDim.y

// The unsigned integer type of `Bytes` bytes: one load or store of a V-element run.
template <int Bytes>
struct Raw;
template <>
struct Raw<2> { using type = uint16_t; };
template <>
struct Raw<4> { using type = uint32_t; };
template <>
struct Raw<8> { using type = uint2; };
template <>
struct Raw<16> { using type = uint4; };

template <int V, typename T>
__device__ __forceinline__ void load_run(const T* p, float (&out)[V]) {
  using R = typename Raw<V * sizeof(T)>::type;
  const R raw = *reinterpret_cast<const R*>(p);
  T e[V];
  memcpy(static_cast<void*>(e), &raw, sizeof(raw));  // not a T* read of R (strict aliasing)
#pragma unroll
  for (int i = 0; i < V; ++i) out[i] = to_float(e[i]);
}

template <int V, typename T>
__device__ __forceinline__ void store_run(T* p, const float (&in)[V]) {
  using R = typename Raw<V * sizeof(T)>::type;
  T e[V];
#pragma unroll
  for (int i = 0; i < V; ++i) e[i] = from_float<T>(in[i]);
  R raw;
  memcpy(&raw, static_cast<const void*>(e), sizeof(raw));
  *reinterpret_cast<R*>(p) = raw;
}

// out = x + branch · scale[sample] over one sample's `per_sample` elements (blockIdx.y).
template <int V, typename TX, typename TB>
__global__ void residual_add_kernel(const TX* __restrict__ x, const TB* __restrict__ branch,
                                    const float* __restrict__ scale, TX* __restrict__ out, int64_t per_sample) {
  const int64_t i = (static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x) * V;
  if (i >= per_sample) return;
  const int64_t at = static_cast<int64_t>(blockIdx.y) * per_sample + i;
  const float s = scale ? scale[blockIdx.y] : 1.f;
  float xv[V], bv[V];
  load_run<V>(x + at, xv);
  load_run<V>(branch + at, bv);
#pragma unroll
  for (int k = 0; k < V; ++k) xv[k] = __fadd_rn(xv[k], __fmul_rn(bv[k], s));  // rounded as the CPU's (no FMA)
  store_run<V>(out + at, xv);
}

// dbranch = dout · scale[sample].
template <int V, typename TG, typename TB>
__global__ void residual_add_backward_kernel(const TG* __restrict__ dout, const float* __restrict__ scale,
                                             TB* __restrict__ dbranch, int64_t per_sample) {
  const int64_t i = (static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x) * V;
  if (i >= per_sample) return;
  const int64_t at = static_cast<int64_t>(blockIdx.y) * per_sample + i;
  const float s = scale[blockIdx.y];
  float g[V];
  load_run<V>(dout + at, g);
#pragma unroll
  for (int k = 0; k < V; ++k) g[k] = __fmul_rn(g[k], s);
  store_run<V>(dbranch + at, g);
}

bool aligned(const void* p, int bytes) { return reinterpret_cast<uintptr_t>(p) % static_cast<uintptr_t>(bytes) == 0; }

bool is_cuda_element(at::ScalarType t) { return t == at::kFloat || t == at::kHalf || t == at::kBFloat16; }

// Launches kernel<V> on (element blocks, samples): V = 4 where every sample starts on a
// 4-element boundary and the pointers are aligned to 4 elements, else 1.
template <typename Launch>
void launch(int64_t samples, int64_t per_sample, bool vector_ok, Launch&& run) {
  const int V = vector_ok && per_sample % 4 == 0 ? 4 : 1;
  const int64_t blocks = (per_sample + int64_t{kThreads} * V - 1) / (int64_t{kThreads} * V);
  const dim3 grid(static_cast<unsigned>(blocks), static_cast<unsigned>(samples));
  if (V == 4) run(std::integral_constant<int, 4>{}, grid);
  else run(std::integral_constant<int, 1>{}, grid);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

// The shapes the kernels take: [B, ...] with B <= 65535 and a sample's blocks within gridDim.x.
bool launchable(const at::Tensor& t) {
  if (t.dim() == 0) return false;
  const int64_t B = t.size(0), per_sample = B > 0 ? t.numel() / B : 0;
  return B <= kMaxSamples && per_sample / kThreads < std::numeric_limits<int32_t>::max();
}

at::Tensor float_scale(const std::optional<at::Tensor>& scale) {
  return scale.has_value() && scale->defined() ? scale->to(at::kFloat).contiguous() : at::Tensor();
}

at::Tensor residual_add_cuda(const at::Tensor& x_in, const at::Tensor& branch_in,
                             const std::optional<at::Tensor>& sample_scale) {
  const at::ScalarType out_dtype = check_residual_add_args(x_in, branch_in, sample_scale);
  if (out_dtype != x_in.scalar_type() || !is_cuda_element(out_dtype) || !is_cuda_element(branch_in.scalar_type()) ||
      !launchable(x_in))
    return residual_add_formula(x_in, branch_in, sample_scale);
  const c10::cuda::CUDAGuard guard(x_in.device());
  const at::Tensor x = x_in.contiguous(), branch = branch_in.contiguous(), scale = float_scale(sample_scale);
  at::Tensor out = at::empty_like(x, at::MemoryFormat::Contiguous);
  if (out.numel() == 0) return out;
  const int64_t B = x.size(0), per_sample = x.numel() / B;
  const auto stream = at::cuda::getCurrentCUDAStream();
  dispatch_float(x.scalar_type(), "residual_add", "x", [&](auto tx) {
    using TX = typename decltype(tx)::type;
    dispatch_float(branch.scalar_type(), "residual_add", "branch", [&](auto tb) {
      using TB = typename decltype(tb)::type;
      const bool vector_ok = aligned(x.const_data_ptr(), 4 * sizeof(TX)) &&
                             aligned(branch.const_data_ptr(), 4 * sizeof(TB));
      launch(B, per_sample, vector_ok, [&](auto v, dim3 grid) {
        residual_add_kernel<decltype(v)::value, TX, TB><<<grid, kThreads, 0, stream>>>(
            cptr<TX>(x), cptr<TB>(branch), cptr<float>(scale), mptr<TX>(out), per_sample);
      });
    });
  });
  return out;
}

at::Tensor residual_add_backward_cuda(const at::Tensor& dout_in, const std::optional<at::Tensor>& sample_scale,
                                      at::ScalarType branch_dtype) {
  check_residual_add_backward_args(dout_in, sample_scale, branch_dtype);
  if (!sample_scale.has_value() || !sample_scale->defined() || !is_cuda_element(dout_in.scalar_type()) ||
      !is_cuda_element(branch_dtype) || !launchable(dout_in))
    return residual_add_backward_formula(dout_in, sample_scale, branch_dtype);
  const c10::cuda::CUDAGuard guard(dout_in.device());
  const at::Tensor dout = dout_in.contiguous(), scale = float_scale(sample_scale);
  at::Tensor dbranch = at::empty(dout.sizes(), dout.options().dtype(branch_dtype));
  if (dbranch.numel() == 0) return dbranch;
  const int64_t B = dout.size(0), per_sample = dout.numel() / B;
  const auto stream = at::cuda::getCurrentCUDAStream();
  dispatch_float(dout.scalar_type(), "residual_add_backward", "dout", [&](auto tg) {
    using TG = typename decltype(tg)::type;
    dispatch_float(branch_dtype, "residual_add_backward", "branch_dtype", [&](auto tb) {
      using TB = typename decltype(tb)::type;
      launch(B, per_sample, aligned(dout.const_data_ptr(), 4 * sizeof(TG)), [&](auto v, dim3 grid) {
        residual_add_backward_kernel<decltype(v)::value, TG, TB>
            <<<grid, kThreads, 0, stream>>>(cptr<TG>(dout), cptr<float>(scale), mptr<TB>(dbranch), per_sample);
      });
    });
  });
  return dbranch;
}

}  // namespace
}  // namespace vss::cuda

TORCH_LIBRARY_IMPL(vss, CUDA, m) {
  m.impl("residual_add", &vss::cuda::residual_add_cuda);
  m.impl("residual_add_backward", &vss::cuda::residual_add_backward_cuda);
}
