// CUDA kernels of vss::walk_flatten / vss::walk_merge (kernels/walk_copy.h).
//
// A block takes one kTile × kTile tile of one (b, c) plane. Flatten reads the tile once into
// shared memory and writes it to every direction's sequence: the row walks straight (a warp
// writes part of a map row, which is a contiguous run of the sequence, ascending or descending),
// the column walks from the transposed tile (a warp writes part of a map column, contiguous in
// a column walk). Merge reads each direction's tile the same ways round, sums in float32
// registers and writes the map once. kTile is 32, or 16 for maps no larger than 16×16 (VMamba's
// last stages), where a 32×32 tile would leave most threads idle.
#include "kernels/cuda_element.cuh"
#include "kernels/selective_scan_cuda_dispatch.cuh"
#include "kernels/walk_copy_checks.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>
#include <torch/torch.h>

namespace vss::cuda {
namespace {

constexpr int kMaxWalks = 8;
constexpr int kTileRows = 8;  // threadIdx.y: a thread handles kTile / kTileRows tile rows

struct WalkList {
  int8_t walk[kMaxWalks];
  int count;
};

__device__ __forceinline__ bool by_columns(int8_t w) {
  return w == static_cast<int8_t>(Walk::kColumns) || w == static_cast<int8_t>(Walk::kColumnsReversed);
}
__device__ __forceinline__ bool reversed(int8_t w) {
  return w == static_cast<int8_t>(Walk::kRowsReversed) || w == static_cast<int8_t>(Walk::kColumnsReversed);
}

// Grid (B·C planes, W tiles, H tiles), block (kTile, kTileRows).
template <typename T, int kTile>
__global__ void walk_flatten_kernel(const T* __restrict__ x, T* __restrict__ out, WalkList walks, int64_t C,
                                    int H, int W) {
  __shared__ T tile[kTile][kTile + 1];
  const int64_t plane = blockIdx.x, b = plane / C, c = plane % C;
  const int w0 = static_cast<int>(blockIdx.y) * kTile, h0 = static_cast<int>(blockIdx.z) * kTile;
  const int64_t L = static_cast<int64_t>(H) * W;
  const int tx = threadIdx.x;
  const T* src = x + plane * L;
  for (int i = threadIdx.y; i < kTile; i += kTileRows) {
    const int h = h0 + i, w = w0 + tx;
    if (h < H && w < W) tile[i][tx] = src[static_cast<int64_t>(h) * W + w];
  }
  __syncthreads();
  for (int k = 0; k < walks.count; ++k) {
    const bool columns = by_columns(walks.walk[k]), back = reversed(walks.walk[k]);
    T* seq = out + ((b * walks.count + k) * C + c) * L;
    for (int i = threadIdx.y; i < kTile; i += kTileRows) {
      // Rows: map (h0 + i, w0 + tx); columns: map (h0 + tx, w0 + i). Lanes follow the walk.
      const int h = columns ? h0 + tx : h0 + i, w = columns ? w0 + i : w0 + tx;
      if (h < H && w < W) {
        const int64_t pos = columns ? static_cast<int64_t>(w) * H + h : static_cast<int64_t>(h) * W + w;
        seq[back ? L - 1 - pos : pos] = columns ? tile[tx][i] : tile[i][tx];
      }
    }
  }
}

template <typename T, int kTile>
__global__ void walk_merge_kernel(const T* __restrict__ y, T* __restrict__ out, WalkList walks, int64_t C,
                                  int H, int W) {
  __shared__ float tile[kTile][kTile + 1];
  constexpr int kPerThread = kTile / kTileRows;
  const int64_t plane = blockIdx.x, b = plane / C, c = plane % C;
  const int w0 = static_cast<int>(blockIdx.y) * kTile, h0 = static_cast<int>(blockIdx.z) * kTile;
  const int64_t L = static_cast<int64_t>(H) * W;
  const int tx = threadIdx.x;
  float acc[kPerThread] = {};  // map (h0 + threadIdx.y + kTileRows·j, w0 + tx)
  for (int k = 0; k < walks.count; ++k) {
    const bool back = reversed(walks.walk[k]);
    const T* seq = y + ((b * walks.count + k) * C + c) * L;
    if (!by_columns(walks.walk[k])) {
#pragma unroll
      for (int j = 0; j < kPerThread; ++j) {
        const int h = h0 + threadIdx.y + kTileRows * j, w = w0 + tx;
        if (h < H && w < W) {
          const int64_t pos = static_cast<int64_t>(h) * W + w;
          acc[j] += to_float(seq[back ? L - 1 - pos : pos]);
        }
      }
      continue;
    }
    // A column walk: lanes read along a map column, then each thread takes its own cells back
    // from the tile. (The branch is the same for the whole block: the barriers are safe.)
    __syncthreads();  // the previous column walk's reads of the tile are done
#pragma unroll
    for (int j = 0; j < kPerThread; ++j) {
      const int i = threadIdx.y + kTileRows * j;
      const int h = h0 + tx, w = w0 + i;
      if (h < H && w < W) {
        const int64_t pos = static_cast<int64_t>(w) * H + h;
        tile[tx][i] = to_float(seq[back ? L - 1 - pos : pos]);
      }
    }
    __syncthreads();
#pragma unroll
    for (int j = 0; j < kPerThread; ++j) {
      const int i = threadIdx.y + kTileRows * j;
      if (h0 + i < H && w0 + tx < W) acc[j] += tile[i][tx];
    }
  }
  T* dst = out + plane * L;
#pragma unroll
  for (int j = 0; j < kPerThread; ++j) {
    const int h = h0 + threadIdx.y + kTileRows * j, w = w0 + tx;
    if (h < H && w < W) dst[static_cast<int64_t>(h) * W + w] = from_float<T>(acc[j]);
  }
}

WalkList walk_list(const std::vector<Walk>& walks, const char* op) {
  TORCH_CHECK(walks.size() <= kMaxWalks, "vss::", op, " (CUDA): at most ", kMaxWalks, " walks, got ",
              walks.size());
  WalkList list{};
  for (size_t k = 0; k < walks.size(); ++k) list.walk[k] = static_cast<int8_t>(walks[k]);
  list.count = static_cast<int>(walks.size());
  return list;
}

// Calls f(Type<T>{}, tile) for the element type of t and the map's tile size.
template <typename F>
void dispatch(at::ScalarType t, int64_t H, int64_t W, const char* op, F&& f) {
  const auto with_tile = [&](auto type) {
    if (H <= 16 && W <= 16) f(type, std::integral_constant<int, 16>{});
    else f(type, std::integral_constant<int, 32>{});
  };
  switch (t) {
    case at::kFloat: return with_tile(Type<float>{});
    case at::kHalf: return with_tile(Type<__half>{});
    case at::kBFloat16: return with_tile(Type<__nv_bfloat16>{});
    default: TORCH_CHECK(false, "vss::", op, " (CUDA): float32, float16 or bfloat16 tensors only, got ", t);
  }
}

dim3 grid_of(int64_t planes, int64_t H, int64_t W, int tile, const char* op) {
  TORCH_CHECK(planes <= std::numeric_limits<int32_t>::max() && H <= std::numeric_limits<int32_t>::max() / 2 &&
                  W <= std::numeric_limits<int32_t>::max() / 2,
              "vss::", op, " (CUDA): ", planes, " planes of ", H, "x", W, " is too large");
  return dim3(static_cast<unsigned>(planes), static_cast<unsigned>((W + tile - 1) / tile),
              static_cast<unsigned>((H + tile - 1) / tile));
}

at::Tensor walk_flatten_cuda(const at::Tensor& x_in, at::IntArrayRef codes) {
  const std::vector<Walk> walks = check_walk_flatten_args(x_in, codes);
  const c10::cuda::CUDAGuard guard(x_in.device());
  const at::Tensor x = x_in.contiguous();
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const WalkList list = walk_list(walks, "walk_flatten");
  at::Tensor out = at::empty({B, list.count, C, H * W}, x.options());
  if (out.numel() == 0) return out;
  dispatch(x.scalar_type(), H, W, "walk_flatten", [&](auto type, auto tile) {
    using T = typename decltype(type)::type;
    constexpr int kTile = decltype(tile)::value;
    walk_flatten_kernel<T, kTile><<<grid_of(B * C, H, W, kTile, "walk_flatten"), dim3(kTile, kTileRows), 0,
                                    at::cuda::getCurrentCUDAStream()>>>(cptr<T>(x), mptr<T>(out), list, C,
                                                                        static_cast<int>(H), static_cast<int>(W));
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

at::Tensor walk_merge_cuda(const at::Tensor& y_in, at::IntArrayRef codes, int64_t H, int64_t W) {
  const std::vector<Walk> walks = check_walk_merge_args(y_in, codes, H, W);
  const c10::cuda::CUDAGuard guard(y_in.device());
  const at::Tensor y = y_in.contiguous();
  const int64_t B = y.size(0), C = y.size(2);
  const WalkList list = walk_list(walks, "walk_merge");
  at::Tensor out = at::empty({B, C, H, W}, y.options());
  if (out.numel() == 0) return out;
  dispatch(y.scalar_type(), H, W, "walk_merge", [&](auto type, auto tile) {
    using T = typename decltype(type)::type;
    constexpr int kTile = decltype(tile)::value;
    walk_merge_kernel<T, kTile><<<grid_of(B * C, H, W, kTile, "walk_merge"), dim3(kTile, kTileRows), 0,
                                  at::cuda::getCurrentCUDAStream()>>>(cptr<T>(y), mptr<T>(out), list, C,
                                                                      static_cast<int>(H), static_cast<int>(W));
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

}  // namespace
}  // namespace vss::cuda

TORCH_LIBRARY_IMPL(vss, CUDA, m) {
  m.impl("walk_flatten", &vss::cuda::walk_flatten_cuda);
  m.impl("walk_merge", &vss::cuda::walk_merge_cuda);
}
