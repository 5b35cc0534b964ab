// CUDA kernels of kernels/depthwise_conv.h.
// Channel-first (vss::depthwise_conv2d and its backward): a block (or, for small planes, a
// warp) owns a tile of one (b, c) plane, staged in shared memory with its halo, so each input
// is read from memory once; the backward stages x with a 2-pixel-wider halo, recomputes the
// pre-activation where SiLU was fused, and writes dx and its tile's dweight / dbias sums to a
// slot of its own (summed by a reduction afterwards in a fixed order: no atomics, the same
// bits every run).
// Channel-last (vss::depthwise_conv2d_channels_last): a thread owns one channel of kRun
// consecutive pixels of a row: it keeps its k×k weights in registers and slides a window of
// kRun + k - 1 inputs along each of the k input rows, so it loads each input once per row
// instead of k times; consecutive threads take consecutive channels, so every load and store
// of a warp is one contiguous run of the channel-last map.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/element.cuh"
#include "kernels/depthwise_conv_checks.h"

#include <ATen/ATen.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include <algorithm>
#include <limits>
#include <type_traits>

namespace vss::cuda {
namespace {

constexpr int kRun = 8;  // output pixels a thread computes along W (channel-last)
constexpr int kBlockThreads = 256;

// How the channel-first kernels cut an H×W plane: tiles of th×tw outputs, about 2048 each
// (a few outputs a thread), whole rows where W is at most 128, at most 256 rows.
struct PlaneTiles {
  int th, tw, tiles_w, per_plane;
};

PlaneTiles plane_tiles(int64_t H, int64_t W) {
  const int64_t tw = W <= 128 ? W : 64;
  const int64_t cuts = std::max((H * tw + 2047) / 2048, (H + 255) / 256);
  const int64_t th = (H + cuts - 1) / cuts;
  const int64_t tiles_w = (W + tw - 1) / tw;
  return {static_cast<int>(th), static_cast<int>(tw), static_cast<int>(tiles_w),
          static_cast<int>(((H + th - 1) / th) * tiles_w)};
}

// One tile's place. A tile is worked by a group of Group threads: the whole block (large
// planes), or one warp (planes of a few hundred pixels, VMamba's late stages, where a block a
// plane would leave most threads idle); a group syncs only itself.
struct Tile {
  int64_t b, c, plane_offset;
  int index, h0, w0, rows, cols;  // index: the tile's number within its plane
};

template <int Group>
__device__ __forceinline__ bool locate_tile(const PlaneTiles& t, int64_t B, int64_t C, int64_t H, int64_t W,
                                            Tile& tile) {
  const int64_t id = int64_t{blockIdx.x} * (kBlockThreads / Group) + threadIdx.x / Group;
  if (id >= B * C * t.per_plane) return false;
  const int64_t plane = id / t.per_plane;
  tile.index = static_cast<int>(id % t.per_plane);
  tile.b = plane / C, tile.c = plane % C, tile.plane_offset = plane * H * W;
  tile.h0 = (tile.index / t.tiles_w) * t.th, tile.w0 = (tile.index % t.tiles_w) * t.tw;
  tile.rows = static_cast<int>(H - tile.h0 < t.th ? H - tile.h0 : t.th);
  tile.cols = static_cast<int>(W - tile.w0 < t.tw ? W - tile.w0 : t.tw);
  return true;
}

template <int Group>
__device__ __forceinline__ void sync_group() {
  if constexpr (Group == 32) {
    __syncwarp();
  } else {
    __syncthreads();
  }
}

__device__ __forceinline__ float silu_of(float p) { return p / (1.f + __expf(-p)); }

// A group's threads laid over a rows × cols grid without a division per element: thread
// (lane) takes column q0 + j·col_step of rows r0, r0 + row_step, ... Where cols exceeds the
// group, a thread takes several columns; otherwise Group / cols rows at once (the few threads
// past them idle).
struct GridWalk {
  int r0, q0, row_step, col_step;
  bool active;
};

template <int Group>
__device__ __forceinline__ GridWalk grid_walk(int cols) {
  const int lane = threadIdx.x % Group;
  const int col_step = cols < Group ? cols : Group, row_step = Group / col_step;
  return {lane / col_step, lane % col_step, row_step, col_step, lane / col_step < row_step};
}

// Stages rows [h0 - halo, h0 + rows + halo) × columns [w0 - halo, w0 + cols + halo) of a plane
// as float, zero outside the image. kBatch rows' loads in flight per thread: a loop that
// stored each load before issuing the next would wait out the memory latency once per element.
template <typename T, int Group>
__device__ void stage_tile(const T* __restrict__ plane, int64_t H, int64_t W, const Tile& t, int halo,
                           float* tile) {
  constexpr int kBatch = 8;
  const int sw = t.cols + 2 * halo, n_rows = t.rows + 2 * halo;
  const GridWalk g = grid_walk<Group>(sw);
  if (!g.active) return;
  for (int r = g.r0; r < n_rows; r += g.row_step * kBatch)
    for (int q = g.q0; q < sw; q += g.col_step) {
      const int64_t ww = t.w0 - halo + q;
      const bool column_inside = ww >= 0 && ww < W;
      float v[kBatch];
#pragma unroll
      for (int u = 0; u < kBatch; ++u) {
        const int row = r + u * g.row_step;
        const int64_t hh = t.h0 - halo + row;
        v[u] = row < n_rows && column_inside && hh >= 0 && hh < H ? to_float(plane[hh * W + ww]) : 0.f;
      }
#pragma unroll
      for (int u = 0; u < kBatch; ++u)
        if (r + u * g.row_step < n_rows) tile[(r + u * g.row_step) * sw + q] = v[u];
    }
}

// Shared-memory floats of one tile: the forward's input with a K/2 halo; the backward's input
// with a K-1 halo and gradient with a K/2 halo.
constexpr int64_t forward_tile_floats(const PlaneTiles& t, int K) { return int64_t{t.th + K - 1} * (t.tw + K - 1); }
constexpr int64_t backward_tile_floats(const PlaneTiles& t, int K) {
  return int64_t{t.th + 2 * (K - 1)} * (t.tw + 2 * (K - 1)) + forward_tile_floats(t, K);
}

template <typename T, int K, int Group>
__global__ void __launch_bounds__(kBlockThreads) depthwise_conv_cf_kernel(
    const T* __restrict__ x, const float* __restrict__ weight, const float* __restrict__ bias, T* __restrict__ y,
    int64_t B, int64_t C, int64_t H, int64_t W, PlaneTiles tiles, bool silu) {
  extern __shared__ float smem[];
  constexpr int P = K / 2;
  Tile t;
  if (!locate_tile<Group>(tiles, B, C, H, W, t)) return;  // (only whole warps of a last block)
  float* xs = smem + (threadIdx.x / Group) * forward_tile_floats(tiles, K);  // the input tile with a P halo
  const int sw = t.cols + 2 * P;
  stage_tile<T, Group>(x + t.plane_offset, H, W, t, P, xs);
  float wk[K * K];
#pragma unroll
  for (int j = 0; j < K * K; ++j) wk[j] = weight[t.c * K * K + j];
  const float b0 = bias ? bias[t.c] : 0.f;
  sync_group<Group>();
  const GridWalk g = grid_walk<Group>(t.cols);
  if (!g.active) return;
  for (int r = g.r0; r < t.rows; r += g.row_step)
    for (int q = g.q0; q < t.cols; q += g.col_step) {
      float acc = b0;
#pragma unroll
      for (int di = 0; di < K; ++di)
#pragma unroll
        for (int dj = 0; dj < K; ++dj) acc += wk[di * K + dj] * xs[(r + di) * sw + q + dj];
      y[t.plane_offset + (t.h0 + r) * W + t.w0 + q] = from_float<T>(silu ? silu_of(acc) : acc);
    }
}

// dx of the tile, and the tile's sums of dweight (K·K) and dbias into partial[slot][K·K + 1],
// slot = (c, b, tile in the plane).
template <typename T, int K, int Group>
__global__ void __launch_bounds__(kBlockThreads) depthwise_conv_cf_backward_kernel(
    const T* __restrict__ dy, const T* __restrict__ x, const float* __restrict__ weight,
    const float* __restrict__ bias, T* __restrict__ dx, float* __restrict__ partial, int64_t B, int64_t C,
    int64_t H, int64_t W, PlaneTiles tiles, bool silu) {
  extern __shared__ float smem[];
  constexpr int P = K / 2, S = K * K + 1;
  __shared__ float warp_sums[kBlockThreads / 32][S];
  Tile t;
  if (!locate_tile<Group>(tiles, B, C, H, W, t)) return;  // (only whole warps of a last block)
  // x with a 2P halo (the pre-activations of g's halo need P more), g = dL/d(pre-activation)
  // with a P halo (dx at the tile's edge needs g beyond it).
  const int xw = t.cols + 4 * P, gw = t.cols + 2 * P, g_rows = t.rows + 2 * P;
  float* xs = smem + (threadIdx.x / Group) * backward_tile_floats(tiles, K);
  float* gs = xs + (t.rows + 4 * P) * xw;
  stage_tile<T, Group>(x + t.plane_offset, H, W, t, 2 * P, xs);
  stage_tile<T, Group>(dy + t.plane_offset, H, W, t, P, gs);
  float wk[K * K];
#pragma unroll
  for (int j = 0; j < K * K; ++j) wk[j] = weight[t.c * K * K + j];
  sync_group<Group>();
  if (silu) {  // d silu(p)/dp = s (1 + p (1 - s)), s = sigmoid(p)
    const float b0 = bias ? bias[t.c] : 0.f;
    const GridWalk g = grid_walk<Group>(gw);
    if (g.active)
      for (int a = g.r0; a < g_rows; a += g.row_step)
        for (int q = g.q0; q < gw; q += g.col_step) {
          float p = b0;
#pragma unroll
          for (int di = 0; di < K; ++di)
#pragma unroll
            for (int dj = 0; dj < K; ++dj) p += wk[di * K + dj] * xs[(a + di) * xw + q + dj];
          const float s = 1.f / (1.f + __expf(-p));
          gs[a * gw + q] *= s * (1.f + p * (1.f - s));
        }
    sync_group<Group>();
  }
  float sums[S];
#pragma unroll
  for (int j = 0; j < S; ++j) sums[j] = 0.f;
  const GridWalk walk = grid_walk<Group>(t.cols);
  if (walk.active)
    for (int r = walk.r0; r < t.rows; r += walk.row_step)
      for (int q = walk.q0; q < t.cols; q += walk.col_step) {
        // dx(h, w) = Σ w[di][dj] g(h - di + P, w - dj + P); dweight[di][dj] += g(h, w) x(h + di - P, w + dj - P).
        float acc = 0.f;
        const float g = gs[(r + P) * gw + q + P];
#pragma unroll
        for (int di = 0; di < K; ++di)
#pragma unroll
          for (int dj = 0; dj < K; ++dj) {
            acc += wk[di * K + dj] * gs[(r + 2 * P - di) * gw + q + 2 * P - dj];
            sums[di * K + dj] += g * xs[(r + di + P) * xw + q + dj + P];
          }
        sums[K * K] += g;
        dx[t.plane_offset + (t.h0 + r) * W + t.w0 + q] = from_float<T>(acc);
      }
  float* slot = partial + ((t.c * B + t.b) * tiles.per_plane + t.index) * S;
  const int lane32 = threadIdx.x % 32, warp = threadIdx.x / 32;
#pragma unroll
  for (int j = 0; j < S; ++j) {
    float v = sums[j];
    for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (lane32 == 0) {
      if constexpr (Group == 32) {
        slot[j] = v;
      } else {
        warp_sums[warp][j] = v;
      }
    }
  }
  if constexpr (Group != 32) {
    __syncthreads();
    if (threadIdx.x < S) {
      float total = 0.f;
      for (int w = 0; w < kBlockThreads / 32; ++w) total += warp_sums[w][threadIdx.x];
      slot[threadIdx.x] = total;
    }
  }
}

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
    const float v = silu ? silu_of(acc[o]) : acc[o];
    out[(w0 + o) * C] = from_float<T>(v);
  }
}

template <typename Launch>
void dispatch_kernel_size(int64_t k, Launch&& launch) {
  switch (k) {
    case 1: return launch(std::integral_constant<int, 1>{});
    case 3: return launch(std::integral_constant<int, 3>{});
    case 5: return launch(std::integral_constant<int, 5>{});
    default: return launch(std::integral_constant<int, 7>{});
  }
}

void check_cuda_kernel_args(const char* op, const at::Tensor& x, const at::Tensor& weight, int64_t k) {
  TORCH_CHECK(x.scalar_type() != at::kDouble, op, ": float64 is CPU-only, got x of dtype float64 on ", x.device());
  TORCH_CHECK(k <= 7, op, ": the CUDA kernel takes k <= 7, got weight ", weight.sizes());
}

// Launches f(Group, blocks, shared bytes): a warp a tile where a tile is a few hundred pixels
// and eight tiles fit the default 48 KiB of shared memory, else a block a tile.
template <typename F>
void with_tile_group(const PlaneTiles& tiles, int64_t planes, int64_t tile_floats, F&& f) {
  const int64_t count = planes * tiles.per_plane;
  constexpr int64_t kWarps = kBlockThreads / 32;
  if (int64_t{tiles.th} * tiles.tw <= 512 && kWarps * tile_floats * 4 <= 48 * 1024) {
    TORCH_CHECK((count + kWarps - 1) / kWarps <= std::numeric_limits<int32_t>::max(),
                "vss::depthwise_conv2d (CUDA): too many planes: ", planes);
    f(std::integral_constant<int, 32>{}, static_cast<unsigned>((count + kWarps - 1) / kWarps),
      static_cast<size_t>(kWarps * tile_floats * 4));
  } else {
    TORCH_CHECK(count <= std::numeric_limits<int32_t>::max(), "vss::depthwise_conv2d (CUDA): too many tiles: ", count);
    f(std::integral_constant<int, kBlockThreads>{}, static_cast<unsigned>(count), static_cast<size_t>(tile_floats * 4));
  }
}

at::Tensor float_or_undefined(const std::optional<at::Tensor>& t) {
  return t.has_value() && t->defined() ? t->to(at::kFloat).contiguous() : at::Tensor();
}

at::Tensor depthwise_conv2d_cuda(const at::Tensor& x_in, const at::Tensor& weight_in,
                                 const std::optional<at::Tensor>& bias_in, bool silu) {
  constexpr const char* op = "vss::depthwise_conv2d";
  const int64_t k = check_depthwise_conv_args(op, x_in, weight_in, bias_in, /*channel_first=*/true);
  check_cuda_kernel_args(op, x_in, weight_in, k);
  const c10::cuda::CUDAGuard guard(x_in.device());
  const at::Tensor x = x_in.contiguous();
  const at::Tensor weight = weight_in.to(at::kFloat).contiguous(), bias = float_or_undefined(bias_in);
  at::Tensor y = at::empty_like(x);
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const PlaneTiles tiles = plane_tiles(H, W);
  auto stream = c10::cuda::getCurrentCUDAStream();
  dispatch_in_out(x.scalar_type(), at::kFloat, [&](auto in_t, auto) {
    using T = typename decltype(in_t)::type;
    dispatch_kernel_size(k, [&](auto k_t) {
      constexpr int K = decltype(k_t)::value;
      with_tile_group(tiles, B * C, forward_tile_floats(tiles, K), [&](auto group_t, unsigned blocks, size_t smem) {
        constexpr int Group = decltype(group_t)::value;
        depthwise_conv_cf_kernel<T, K, Group><<<blocks, kBlockThreads, smem, stream>>>(
            cptr<T>(x), cptr<float>(weight), cptr<float>(bias), mptr<T>(y), B, C, H, W, tiles, silu);
      });
    });
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return y;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> depthwise_conv2d_backward_cuda(const at::Tensor& dy_in,
                                                                              const at::Tensor& x_in,
                                                                              const at::Tensor& weight_in,
                                                                              const std::optional<at::Tensor>& bias_in,
                                                                              bool silu) {
  const int64_t k = check_depthwise_conv_backward_args(dy_in, x_in, weight_in, bias_in);
  check_cuda_kernel_args("vss::depthwise_conv2d_backward", x_in, weight_in, k);
  const c10::cuda::CUDAGuard guard(x_in.device());
  const at::Tensor x = x_in.contiguous();
  const at::Tensor dy = dy_in.to(x.scalar_type()).contiguous();  // autocast may hand back another dtype
  const at::Tensor weight = weight_in.to(at::kFloat).contiguous(), bias = float_or_undefined(bias_in);
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const PlaneTiles tiles = plane_tiles(H, W);
  at::Tensor dx = at::empty_like(x);
  at::Tensor partial = at::empty({C, B * tiles.per_plane, k * k + 1}, x.options().dtype(at::kFloat));
  auto stream = c10::cuda::getCurrentCUDAStream();
  dispatch_in_out(x.scalar_type(), at::kFloat, [&](auto in_t, auto) {
    using T = typename decltype(in_t)::type;
    dispatch_kernel_size(k, [&](auto k_t) {
      constexpr int K = decltype(k_t)::value;
      with_tile_group(tiles, B * C, backward_tile_floats(tiles, K), [&](auto group_t, unsigned blocks, size_t smem) {
        constexpr int Group = decltype(group_t)::value;
        depthwise_conv_cf_backward_kernel<T, K, Group><<<blocks, kBlockThreads, smem, stream>>>(
            cptr<T>(dy), cptr<T>(x), cptr<float>(weight), cptr<float>(bias), mptr<T>(dx), mptr<float>(partial), B,
            C, H, W, tiles, silu);
      });
    });
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  const at::Tensor sums = partial.sum(1);  // [C, k·k + 1]
  const at::Tensor dweight = sums.narrow(1, 0, k * k).reshape(weight_in.sizes()).to(weight_in.scalar_type());
  const at::Tensor dbias = bias.defined() ? sums.select(1, k * k).to(bias_in->scalar_type()) : at::Tensor();
  return {dx.to(x_in.scalar_type()), dweight, dbias};
}

at::Tensor depthwise_conv2d_channels_last_cuda(const at::Tensor& x_in, const at::Tensor& weight_in,
                                               const std::optional<at::Tensor>& bias_in,
                                               bool silu) {
  constexpr const char* op = "vss::depthwise_conv2d_channels_last";
  const int64_t k = check_depthwise_conv_args(op, x_in, weight_in, bias_in, /*channel_first=*/false);
  check_cuda_kernel_args(op, x_in, weight_in, k);
  const c10::cuda::CUDAGuard guard(x_in.device());
  const at::Tensor x = x_in.contiguous();
  const at::Tensor weight = weight_in.to(at::kFloat).contiguous(), bias = float_or_undefined(bias_in);
  at::Tensor y = at::empty_like(x);
  const int64_t B = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3);
  const int64_t runs = (W + kRun - 1) / kRun, threads = B * H * runs * C;
  const unsigned blocks = static_cast<unsigned>((threads + 255) / 256);
  auto stream = c10::cuda::getCurrentCUDAStream();
  dispatch_in_out(x.scalar_type(), at::kFloat, [&](auto in_t, auto) {
    using T = typename decltype(in_t)::type;
    dispatch_kernel_size(k, [&](auto k_t) {
      constexpr int K = decltype(k_t)::value;
      depthwise_conv_cl_kernel<T, K><<<blocks, 256, 0, stream>>>(cptr<T>(x), cptr<float>(weight), cptr<float>(bias),
                                                                 mptr<T>(y), B, H, W, C, runs, silu);
    });
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return y;
}

}  // namespace
}  // namespace vss::cuda

TORCH_LIBRARY_IMPL(vss, CUDA, m) {
  m.impl("depthwise_conv2d", &vss::cuda::depthwise_conv2d_cuda);
  m.impl("depthwise_conv2d_backward", &vss::cuda::depthwise_conv2d_backward_cuda);
  m.impl("depthwise_conv2d_channels_last", &vss::cuda::depthwise_conv2d_channels_last_cuda);
}
