#pragma once
// Element access for the CUDA kernels: every input dtype is read as float and every output
// written from float (round to nearest even), in runs of ITEMS elements moved as 16-byte
// vectors where the run is aligned and inside the row.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <cstring>

namespace vss::cuda {

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ float from_float<float>(float x) { return x; }
template <>
__device__ __forceinline__ __half from_float<__half>(float x) { return __float2half_rn(x); }
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}

// The 16 / sizeof(T) elements of one 16-byte vector, as floats.
// (memcpy, not a pointer cast: reading a uint4 through T* breaks strict aliasing, which host
// compilers of the emulated kernels exploit; nvcc turns the copy into register moves.)
template <typename T>
__device__ __forceinline__ void unpack_vector(const uint4& raw, float* out) {
  T e[16 / sizeof(T)];
  memcpy(static_cast<void*>(e), &raw, sizeof(raw));
#pragma unroll
  for (int i = 0; i < 16 / static_cast<int>(sizeof(T)); ++i) out[i] = to_float(e[i]);
}

// Loads ITEMS elements starting at row[t] (t may run past len: those read as 0).
// One 16-byte vector per 16 bytes when the whole run lies inside the row and is aligned.
template <int ITEMS, typename T>
__device__ __forceinline__ void load_items(const T* __restrict__ row, int64_t t, int64_t len,
                                           float (&out)[ITEMS]) {
  constexpr int kVec = 16 / sizeof(T);
  static_assert(ITEMS % kVec == 0, "ITEMS must fill whole 16-byte vectors");
  const T* p = row + t;
  if (t + ITEMS <= len && (reinterpret_cast<uintptr_t>(p) & 15) == 0) {
#pragma unroll
    for (int v = 0; v < ITEMS / kVec; ++v) unpack_vector<T>(reinterpret_cast<const uint4*>(p)[v], out + v * kVec);
  } else {
#pragma unroll
    for (int i = 0; i < ITEMS; ++i) out[i] = t + i < len ? to_float(p[i]) : 0.f;
  }
}

// Stores ITEMS elements to row[t..] (elements at or past len are dropped).
template <int ITEMS, typename T>
__device__ __forceinline__ void store_items(T* __restrict__ row, int64_t t, int64_t len,
                                            const float (&in)[ITEMS]) {
  constexpr int kVec = 16 / sizeof(T);
  static_assert(ITEMS % kVec == 0, "ITEMS must fill whole 16-byte vectors");
  T* p = row + t;
  if (t + ITEMS <= len && (reinterpret_cast<uintptr_t>(p) & 15) == 0) {
#pragma unroll
    for (int v = 0; v < ITEMS / kVec; ++v) {
      T e[kVec];
#pragma unroll
      for (int i = 0; i < kVec; ++i) e[i] = from_float<T>(in[v * kVec + i]);
      uint4 raw;
      memcpy(&raw, static_cast<const void*>(e), sizeof(raw));
      reinterpret_cast<uint4*>(p)[v] = raw;
    }
  } else {
#pragma unroll
    for (int i = 0; i < ITEMS; ++i)
      if (t + i < len) p[i] = from_float<T>(in[i]);
  }
}

}  // namespace vss::cuda
