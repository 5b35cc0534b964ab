// CUDA kernels of vss::layer_norm (kernels/layer_norm.h).
//
// Channel-last rows: one warp per row. VMamba's rows are short (C = 96..1536), where
// at::layer_norm's block-per-row kernel leaves most of each block idle; a warp keeps its
// row in registers (up to kMaxVectors vectors of 4 values a lane), so the row is read from
// memory once for the mean, the variance of the deviations and the output. Rows too long for
// that, or not a multiple of 4, take a streaming variant that re-reads the row (from L1/L2).
//
// Channel-first input [B, C, S]: a block of 8 warps takes 32 consecutive tokens of one batch;
// lane t loads token t of every channel (coalesced along S) into a [C][33] shared tile (33: a
// column read touches 32 distinct banks), the statistics are reduced across the warps, and the
// output is written channel-last, each warp writing whole contiguous rows of C. Tiles above
// kMaxTileChannels (132 KB) would not fit: those transpose first and take the row kernel.
//
// Backward: a warp per channel-last row as in the forward (the row of x and of dy in registers,
// or streamed), recomputing the statistics. Each warp walks many rows and keeps the column sums
// Σ dy·x̂ and Σ dy of its lanes, written once to its own row of a partial buffer that the host
// sums: no atomics, so reruns are bit-identical. Channel-first x takes the forward's tile,
// then a warp per token for dx, written back channel-first from the tile (column sums per warp
// in shared memory, per block in the partial buffer); where the tile and those sums do not fit
// in shared memory, x is transposed to rows first and dx transposed back. A residual gradient
// (x's layout) is read where dx is written and added to it.
#include "kernels/column_sum.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/element.cuh"
#include "kernels/layer_norm_checks.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>
#include <torch/torch.h>

#include <algorithm>
#include <tuple>

namespace vss::cuda {
namespace {

constexpr int kRowsPerBlock = 8;  // warps of the row kernels
constexpr int kMaxVectors = 16;   // register-held vectors of 4 per lane: C <= 2048
constexpr int kTileTokens = 32;
constexpr int kTileWarps = 8;
constexpr int64_t kMaxTileChannels = 1024;
constexpr int kMaxBackwardVectors = 8;  // C <= 1024 in registers: x, dy and two sums a lane
constexpr int kBackwardRowsPerWarp = 16;  // at least: keeps the partial sums small beside the rows

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// Four consecutive elements moved as one 8- or 16-byte access.
template <typename T>
struct alignas(4 * sizeof(T)) Quad {
  T v[4];
};

// A row's statistics as every kernel here computes them: of x - x[0] (a large common offset
// would otherwise cost the float32 sum the digits of the mean, and the normalized values with
// them), two passes (mean, then the variance of the deviations).
struct RowStatistics {
  float shift, mean, rstd;  // mean of x - shift
};

// A register-held row (lane-owned vectors; zeros past C): v becomes x - x[0].
template <int kVectors>
__device__ __forceinline__ RowStatistics register_row_statistics(float (&v)[kVectors][4], int quads, int C,
                                                                 float eps) {
  const int lane = threadIdx.x & 31;
  const float shift = __shfl_sync(0xffffffffu, v[0][0], 0);
  float sum = 0.f;
#pragma unroll
  for (int i = 0; i < kVectors; ++i)
    if (i * 32 + lane < quads)
#pragma unroll
      for (int j = 0; j < 4; ++j) v[i][j] -= shift, sum += v[i][j];
  const float mean = warp_sum(sum) / C;
  float sq = 0.f;
#pragma unroll
  for (int i = 0; i < kVectors; ++i)
    if (i * 32 + lane < quads)
#pragma unroll
      for (int j = 0; j < 4; ++j) sq += (v[i][j] - mean) * (v[i][j] - mean);
  return {shift, mean, rsqrtf(warp_sum(sq) / C + eps)};
}

// A row read from memory by the warp, twice.
template <typename In>
__device__ __forceinline__ RowStatistics streaming_row_statistics(const In* __restrict__ xr, int C, float eps) {
  const int lane = threadIdx.x & 31;
  const float shift = to_float(xr[0]);
  float sum = 0.f;
  for (int c = lane; c < C; c += 32) sum += to_float(xr[c]) - shift;
  const float mean = warp_sum(sum) / C;
  float sq = 0.f;
  for (int c = lane; c < C; c += 32) {
    const float d = to_float(xr[c]) - shift - mean;
    sq += d * d;
  }
  return {shift, mean, rsqrtf(warp_sum(sq) / C + eps)};
}

// Row kernel with the row in registers: lane `lane` owns the 4-element vectors lane,
// lane + 32, ... (kVectors of them; those past C are zero and masked out).
template <typename In, typename Out, int kVectors>
__global__ void layer_norm_rows_kernel(const In* __restrict__ x, const float* __restrict__ weight,
                                       const float* __restrict__ bias, Out* __restrict__ y,
                                       int64_t rows, int C, float eps) {
  const int lane = threadIdx.x & 31;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;
  if (row >= rows) return;
  const Quad<In>* xr = reinterpret_cast<const Quad<In>*>(x + row * C);
  const int quads = C / 4;
  float v[kVectors][4] = {};
#pragma unroll
  for (int i = 0; i < kVectors; ++i) {
    const int q = i * 32 + lane;
    if (q < quads) {
      const Quad<In> raw = xr[q];
#pragma unroll
      for (int j = 0; j < 4; ++j) v[i][j] = to_float(raw.v[j]);
    }
  }
  const RowStatistics st = register_row_statistics(v, quads, C, eps);
  const float mean = st.mean, rstd = st.rstd;
  Quad<Out>* yr = reinterpret_cast<Quad<Out>*>(y + row * C);
#pragma unroll
  for (int i = 0; i < kVectors; ++i) {
    const int q = i * 32 + lane;
    if (q < quads) {
      Quad<Out> out;
#pragma unroll
      for (int j = 0; j < 4; ++j)
        out.v[j] = from_float<Out>((v[i][j] - mean) * rstd * weight[4 * q + j] + bias[4 * q + j]);
      yr[q] = out;
    }
  }
}

// Any C: three passes over the row (mean, variance of the deviations, output).
template <typename In, typename Out>
__global__ void layer_norm_rows_streaming_kernel(const In* __restrict__ x,
                                                 const float* __restrict__ weight,
                                                 const float* __restrict__ bias,
                                                 Out* __restrict__ y, int64_t rows, int C,
                                                 float eps) {
  const int lane = threadIdx.x & 31;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;
  if (row >= rows) return;
  const In* xr = x + row * C;
  const RowStatistics st = streaming_row_statistics(xr, C, eps);
  const float shift = st.shift, mean = st.mean, rstd = st.rstd;
  Out* yr = y + row * C;
  for (int c = lane; c < C; c += 32)
    yr[c] = from_float<Out>((to_float(xr[c]) - shift - mean) * rstd * weight[c] + bias[c]);
}

constexpr int kTileStride = kTileTokens + 1;  // a column read touches 32 distinct banks

// The channel-first kernels' first step: tokens s0 .. s0 + tokens of one batch, xb pointing at
// token s0 of channel 0, into tile [C][kTileStride] as x - x[channel 0] (the row kernels'
// shift), and each token's mean and rstd into mean_of / rstd_of. Ends with a barrier.
template <typename In>
__device__ void load_tile_statistics(const In* __restrict__ xb, int C, int64_t S, int tokens, float eps,
                                     float* tile, float (*partial)[kTileTokens], float* mean_of, float* rstd_of) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x / 32;
  const float shift = lane < tokens ? to_float(xb[lane]) : 0.f;
  float sum = 0.f;
  for (int c = warp; c < C; c += kTileWarps) {
    const float v = lane < tokens ? to_float(xb[c * S + lane]) - shift : 0.f;
    tile[c * kTileStride + lane] = v;
    sum += v;
  }
  partial[warp][lane] = sum;
  __syncthreads();
  if (warp == 0) {
    float total = 0.f;
#pragma unroll
    for (int w = 0; w < kTileWarps; ++w) total += partial[w][lane];
    mean_of[lane] = total / C;
  }
  __syncthreads();
  const float mean = mean_of[lane];
  float sq = 0.f;
  for (int c = warp; c < C; c += kTileWarps) {
    const float d = tile[c * kTileStride + lane] - mean;
    sq += d * d;
  }
  partial[warp][lane] = sq;  // warp 0 finished reading the sums before the barrier above
  __syncthreads();
  if (warp == 0) {
    float total = 0.f;
#pragma unroll
    for (int w = 0; w < kTileWarps; ++w) total += partial[w][lane];
    rstd_of[lane] = rsqrtf(total / C + eps);
  }
  __syncthreads();
}

// x [B, C, S] -> y [B, S, C]; grid (ceil(S / 32), B), kTileWarps warps a block.
template <typename In, typename Out>
__global__ void layer_norm_channel_first_kernel(const In* __restrict__ x,
                                                const float* __restrict__ weight,
                                                const float* __restrict__ bias,
                                                Out* __restrict__ y, int C, int64_t S, float eps) {
  extern __shared__ float tile[];  // [C][kTileStride]
  __shared__ float partial[kTileWarps][kTileTokens];
  __shared__ float mean_of[kTileTokens], rstd_of[kTileTokens];
  const int lane = threadIdx.x & 31, warp = threadIdx.x / 32;
  const int64_t s0 = static_cast<int64_t>(blockIdx.x) * kTileTokens;
  const int tokens = S - s0 < kTileTokens ? static_cast<int>(S - s0) : kTileTokens;
  load_tile_statistics(x + static_cast<int64_t>(blockIdx.y) * C * S + s0, C, S, tokens, eps, tile, partial,
                       mean_of, rstd_of);
  for (int t = warp; t < tokens; t += kTileWarps) {
    const float m = mean_of[t], r = rstd_of[t];
    Out* yr = y + (static_cast<int64_t>(blockIdx.y) * S + s0 + t) * C;
    for (int c = lane; c < C; c += 32)
      yr[c] = from_float<Out>((tile[c * kTileStride + t] - m) * r * weight[c] + bias[c]);
  }
}

// Backward, row in registers. Warp w of W takes rows w, w + W, ...; lane `lane` owns the same
// columns as in the forward and sums dy·x̂ and dy over its rows in registers, then writes them
// to partial[w] = [Σ dy·x̂ | Σ dy] (2·C floats). residual (null: none) is added to dx.
template <typename In, typename Grad, int kVectors>
__global__ void layer_norm_backward_rows_kernel(const In* __restrict__ x, const Grad* __restrict__ dy,
                                                const float* __restrict__ weight, const In* __restrict__ residual,
                                                In* __restrict__ dx, float* __restrict__ partial, int64_t rows,
                                                int C, float eps) {
  const int lane = threadIdx.x & 31;
  const int64_t warp = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * kRowsPerBlock;
  const int quads = C / 4;
  float dw[kVectors][4], db[kVectors][4];
#pragma unroll
  for (int i = 0; i < kVectors; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) dw[i][j] = db[i][j] = 0.f;
  for (int64_t row = warp; row < rows; row += warps) {
    const Quad<In>* xr = reinterpret_cast<const Quad<In>*>(x + row * C);
    const Quad<Grad>* gr = reinterpret_cast<const Quad<Grad>*>(dy + row * C);
    float v[kVectors][4] = {}, g[kVectors][4] = {};  // zeros past C (lanes without a vector)
#pragma unroll
    for (int i = 0; i < kVectors; ++i) {
      const int q = i * 32 + lane;
      if (q < quads) {
        const Quad<In> raw = xr[q];
        const Quad<Grad> graw = gr[q];
#pragma unroll
        for (int j = 0; j < 4; ++j) v[i][j] = to_float(raw.v[j]), g[i][j] = to_float(graw.v[j]);
      }
    }
    const RowStatistics st = register_row_statistics(v, quads, C, eps);  // the forward's
    const float mean = st.mean, rstd = st.rstd;
    // v becomes x̂, g becomes weight·dy.
    float sum_g = 0.f, sum_gx = 0.f;
#pragma unroll
    for (int i = 0; i < kVectors; ++i) {
      const int q = i * 32 + lane;
      if (q < quads)
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          v[i][j] = (v[i][j] - mean) * rstd;
          dw[i][j] += g[i][j] * v[i][j];
          db[i][j] += g[i][j];
          g[i][j] = __fmul_rn(g[i][j], weight[4 * q + j]);  // rounded once, not fused into the sums
          sum_g += g[i][j];
          sum_gx += g[i][j] * v[i][j];
        }
    }
    const float mean_g = warp_sum(sum_g) / C, mean_gx = warp_sum(sum_gx) / C;
    Quad<In>* dxr = reinterpret_cast<Quad<In>*>(dx + row * C);
#pragma unroll
    for (int i = 0; i < kVectors; ++i) {
      const int q = i * 32 + lane;
      if (q < quads) {
        float add[4] = {};
        if (residual) {
          const Quad<In> raw = reinterpret_cast<const Quad<In>*>(residual + row * C)[q];
#pragma unroll
          for (int j = 0; j < 4; ++j) add[j] = to_float(raw.v[j]);
        }
        Quad<In> out;
#pragma unroll
        for (int j = 0; j < 4; ++j) out.v[j] = from_float<In>(rstd * (g[i][j] - mean_g - v[i][j] * mean_gx) + add[j]);
        dxr[q] = out;
      }
    }
  }
  float* pw = partial + warp * 2 * C;
#pragma unroll
  for (int i = 0; i < kVectors; ++i) {
    const int q = i * 32 + lane;
    if (q < quads)
#pragma unroll
      for (int j = 0; j < 4; ++j) pw[4 * q + j] = dw[i][j], pw[C + 4 * q + j] = db[i][j];
  }
}

// Backward for any C: the row streamed three times (statistics, the two row sums, dx), the
// column sums kept in the warp's partial row itself (each lane its own columns).
template <typename In, typename Grad>
__global__ void layer_norm_backward_rows_streaming_kernel(const In* __restrict__ x,
                                                          const Grad* __restrict__ dy,
                                                          const float* __restrict__ weight,
                                                          const In* __restrict__ residual,
                                                          In* __restrict__ dx, float* __restrict__ partial,
                                                          int64_t rows, int C, float eps) {
  const int lane = threadIdx.x & 31;
  const int64_t warp = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * kRowsPerBlock;
  float* pw = partial + warp * 2 * C;
  for (int c = lane; c < C; c += 32) pw[c] = 0.f, pw[C + c] = 0.f;
  for (int64_t row = warp; row < rows; row += warps) {
    const In* xr = x + row * C;
    const Grad* gr = dy + row * C;
    const RowStatistics st = streaming_row_statistics(xr, C, eps);
    const float shift = st.shift, mean = st.mean, rstd = st.rstd;
    // weight·dy rounded the same way in both passes (no FMA contraction in one of them): at
    // C = 1, where dx is exactly 0, the two would otherwise differ by an ulp times rstd.
    float sum_g = 0.f, sum_gx = 0.f;
    for (int c = lane; c < C; c += 32) {
      const float xh = (to_float(xr[c]) - shift - mean) * rstd, d = to_float(gr[c]);
      const float g = __fmul_rn(weight[c], d);
      pw[c] += d * xh;
      pw[C + c] += d;
      sum_g += g;
      sum_gx += g * xh;
    }
    const float mean_g = warp_sum(sum_g) / C, mean_gx = warp_sum(sum_gx) / C;
    In* dxr = dx + row * C;
    for (int c = lane; c < C; c += 32) {
      const float xh = (to_float(xr[c]) - shift - mean) * rstd;
      const float add = residual ? to_float(residual[row * C + c]) : 0.f;
      dxr[c] = from_float<In>(rstd * (__fmul_rn(weight[c], to_float(gr[c])) - mean_g - xh * mean_gx) + add);
    }
  }
}

// Channel-first backward: x [B, C, S], dy [B, S, C] -> dx [B, C, S]; grid (ceil(S / 32), B).
// The tile is loaded as in the forward; then a warp per token reads its row of dy (coalesced),
// forms the two row sums and writes that token's dx into the tile, which is written back
// channel-first (coalesced along S). Column sums: a row per warp in shared memory, summed per
// block into partial[block] = [Σ dy·x̂ | Σ dy]. residual [B, C, S] (null: none) is added to dx.
template <typename In, typename Grad>
__global__ void layer_norm_backward_channel_first_kernel(const In* __restrict__ x, const Grad* __restrict__ dy,
                                                         const float* __restrict__ weight,
                                                         const In* __restrict__ residual, In* __restrict__ dx,
                                                         float* __restrict__ partial, int C, int64_t S,
                                                         float eps) {
  extern __shared__ float smem[];  // tile [C][kTileStride], then column sums [kTileWarps][2][C]
  __shared__ float stats[kTileWarps][kTileTokens];
  __shared__ float mean_of[kTileTokens], rstd_of[kTileTokens];
  float* tile = smem;
  const int lane = threadIdx.x & 31, warp = threadIdx.x / 32;
  const int64_t b = blockIdx.y, s0 = static_cast<int64_t>(blockIdx.x) * kTileTokens;
  const int tokens = S - s0 < kTileTokens ? static_cast<int>(S - s0) : kTileTokens;
  load_tile_statistics(x + b * C * S + s0, C, S, tokens, eps, tile, stats, mean_of, rstd_of);
  float* sum_w = smem + static_cast<int64_t>(C) * kTileStride + warp * 2 * C;
  float* sum_b = sum_w + C;
  for (int c = lane; c < C; c += 32) sum_w[c] = 0.f, sum_b[c] = 0.f;
  for (int t = warp; t < tokens; t += kTileWarps) {
    const float m = mean_of[t], r = rstd_of[t];
    const Grad* dyr = dy + (b * S + s0 + t) * C;
    float sum_g = 0.f, sum_gx = 0.f;
    for (int c = lane; c < C; c += 32) {
      const float xh = (tile[c * kTileStride + t] - m) * r, d = to_float(dyr[c]);
      const float g = __fmul_rn(weight[c], d);
      sum_w[c] += d * xh;
      sum_b[c] += d;
      sum_g += g;
      sum_gx += g * xh;
    }
    const float mean_g = warp_sum(sum_g) / C, mean_gx = warp_sum(sum_gx) / C;
    for (int c = lane; c < C; c += 32) {  // this token's column of the tile is this warp's alone
      const float xh = (tile[c * kTileStride + t] - m) * r;
      tile[c * kTileStride + t] = r * (__fmul_rn(weight[c], to_float(dyr[c])) - mean_g - xh * mean_gx);
    }
  }
  __syncthreads();
  if (lane < tokens)
    for (int c = warp; c < C; c += kTileWarps) {
      const int64_t i = b * C * S + s0 + c * S + lane;
      dx[i] = from_float<In>(tile[c * kTileStride + lane] + (residual ? to_float(residual[i]) : 0.f));
    }
  const float* sums = smem + static_cast<int64_t>(C) * kTileStride;
  float* out = partial + (static_cast<int64_t>(blockIdx.y) * gridDim.x + blockIdx.x) * 2 * C;
  for (int c = threadIdx.x; c < 2 * C; c += blockDim.x) {
    float total = 0.f;
#pragma unroll
    for (int w = 0; w < kTileWarps; ++w) total += sums[w * 2 * C + c];
    out[c] = total;
  }
}

template <typename In, typename Out>
void launch_rows(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, at::Tensor& y,
                 int64_t rows, int C, float eps, cudaStream_t stream) {
  const In* xp = cptr<In>(x);
  Out* yp = mptr<Out>(y);
  const dim3 grid(static_cast<unsigned>((rows + kRowsPerBlock - 1) / kRowsPerBlock));
  const dim3 block(32 * kRowsPerBlock);
  const bool vectors = C % 4 == 0 && C <= 4 * 32 * kMaxVectors &&
                       reinterpret_cast<uintptr_t>(xp) % (4 * sizeof(In)) == 0 &&
                       reinterpret_cast<uintptr_t>(yp) % (4 * sizeof(Out)) == 0;
  const float* wp = cptr<float>(w);
  const float* bp = cptr<float>(b);
  if (!vectors) {
    layer_norm_rows_streaming_kernel<In, Out><<<grid, block, 0, stream>>>(xp, wp, bp, yp, rows, C, eps);
    return;
  }
  const int per_lane = (C / 4 + 31) / 32;
  auto run = [&](auto vectors_per_lane) {
    layer_norm_rows_kernel<In, Out, decltype(vectors_per_lane)::value>
        <<<grid, block, 0, stream>>>(xp, wp, bp, yp, rows, C, eps);
  };
  if (per_lane <= 1) run(std::integral_constant<int, 1>{});
  else if (per_lane <= 2) run(std::integral_constant<int, 2>{});
  else if (per_lane <= 4) run(std::integral_constant<int, 4>{});
  else if (per_lane <= 8) run(std::integral_constant<int, 8>{});
  else run(std::integral_constant<int, kMaxVectors>{});
}

// residual: x's layout, or undefined.
template <typename In, typename Grad>
void launch_backward_rows(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& w, const at::Tensor& residual,
                          at::Tensor& dx, at::Tensor& partial, int64_t rows, int C, float eps, cudaStream_t stream) {
  const In* xp = cptr<In>(x);
  const In* rp = residual.defined() ? cptr<In>(residual) : nullptr;
  const Grad* gp = cptr<Grad>(dy);
  In* dxp = mptr<In>(dx);
  const float* wp = cptr<float>(w);
  float* pp = mptr<float>(partial);
  const dim3 grid(static_cast<unsigned>(partial.size(0) / kRowsPerBlock));
  const dim3 block(32 * kRowsPerBlock);
  const auto aligned = [](const void* p, size_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; };
  const bool vectors = C % 4 == 0 && C <= 4 * 32 * kMaxBackwardVectors && aligned(xp, 4 * sizeof(In)) &&
                       aligned(gp, 4 * sizeof(Grad)) && aligned(dxp, 4 * sizeof(In)) && aligned(rp, 4 * sizeof(In));
  if (!vectors) {
    layer_norm_backward_rows_streaming_kernel<In, Grad>
        <<<grid, block, 0, stream>>>(xp, gp, wp, rp, dxp, pp, rows, C, eps);
    return;
  }
  const int per_lane = (C / 4 + 31) / 32;
  auto run = [&](auto vectors_per_lane) {
    layer_norm_backward_rows_kernel<In, Grad, decltype(vectors_per_lane)::value>
        <<<grid, block, 0, stream>>>(xp, gp, wp, rp, dxp, pp, rows, C, eps);
  };
  if (per_lane <= 1) run(std::integral_constant<int, 1>{});
  else if (per_lane <= 2) run(std::integral_constant<int, 2>{});
  else if (per_lane <= 4) run(std::integral_constant<int, 4>{});
  else run(std::integral_constant<int, kMaxBackwardVectors>{});
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> layer_norm_backward_cuda(
    const at::Tensor& dy_in, const at::Tensor& x_in, const at::Tensor& weight, double eps, bool channel_first,
    const std::optional<at::Tensor>& residual_grad) {
  const LayerNormSizes s = check_layer_norm_backward_args(dy_in, x_in, weight, eps, channel_first, residual_grad);
  TORCH_CHECK(s.channels <= std::numeric_limits<int>::max(), "vss::layer_norm_backward (CUDA): ",
              s.channels, " channels is too many");
  const c10::cuda::CUDAGuard guard(x_in.device());
  const at::Tensor dy = dy_in.contiguous();
  const at::Tensor w = weight.to(at::kFloat).contiguous();
  // In x's dtype and layout, as dx is written.
  const at::Tensor residual =
      residual_grad && residual_grad->defined() ? residual_grad->to(x_in.scalar_type()) : at::Tensor();
  const int C = static_cast<int>(s.channels);
  cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  // The tile and the per-warp column sums of the channel-first kernel, where they fit.
  const size_t tile_bytes = static_cast<size_t>(C) * (kTileStride + 2 * kTileWarps) * sizeof(float);
  if (channel_first && tile_bytes <= at::cuda::getCurrentDeviceProperties()->sharedMemPerBlockOptin &&
      s.outer <= 65535) {
    const at::Tensor x = x_in.contiguous();
    const at::Tensor r = residual.defined() ? residual.contiguous() : residual;
    at::Tensor dx = at::empty(x.sizes(), x.options());
    const dim3 grid(static_cast<unsigned>((s.inner + kTileTokens - 1) / kTileTokens), static_cast<unsigned>(s.outer));
    at::Tensor partial = at::empty({static_cast<int64_t>(grid.x) * grid.y, 2, s.channels}, x.options().dtype(at::kFloat));
    if (s.rows > 0) {
      dispatch_float(x.scalar_type(), "layer_norm", "x", [&](auto in) {
        using In = typename decltype(in)::type;
        dispatch_float(dy.scalar_type(), "layer_norm", "dy", [&](auto grad) {
          using Grad = typename decltype(grad)::type;
          auto kernel = layer_norm_backward_channel_first_kernel<In, Grad>;
          C10_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                              static_cast<int>(tile_bytes)));
          kernel<<<grid, 32 * kTileWarps, tile_bytes, stream>>>(
              cptr<In>(x), cptr<Grad>(dy), cptr<float>(w), r.defined() ? cptr<In>(r) : nullptr, mptr<In>(dx),
              mptr<float>(partial), C, s.inner, static_cast<float>(eps));
        });
      });
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    }
    const at::Tensor sums = column_sum(partial.view({partial.size(0), -1})).view({2, s.channels});
    return {dx, sums[0].to(weight.scalar_type()), sums[1].to(weight.scalar_type())};
  }
  // Rows: channel-first x transposed first (too many channels for the tile), dx transposed back.
  const at::Tensor x = (channel_first ? x_in.movedim(1, -1) : x_in).contiguous();
  const at::Tensor r = residual.defined() ? (channel_first ? residual.movedim(1, -1) : residual).contiguous() : residual;
  at::Tensor dx = at::empty(x.sizes(), x.options());
  // Enough warps to fill the GPU, each taking at least kBackwardRowsPerWarp rows.
  const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  const int64_t blocks = std::clamp<int64_t>(
      (s.rows + kRowsPerBlock * kBackwardRowsPerWarp - 1) / (kRowsPerBlock * kBackwardRowsPerWarp), 1, 8 * sms);
  at::Tensor partial = at::empty({blocks * kRowsPerBlock, 2, s.channels}, x.options().dtype(at::kFloat));
  dispatch_float(x.scalar_type(), "layer_norm", "x", [&](auto in) {
    using In = typename decltype(in)::type;
    dispatch_float(dy.scalar_type(), "layer_norm", "dy", [&](auto grad) {
      using Grad = typename decltype(grad)::type;
      launch_backward_rows<In, Grad>(dy, x, w, r, dx, partial, s.rows, C, static_cast<float>(eps), stream);
    });
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  const at::Tensor sums = column_sum(partial.view({partial.size(0), -1})).view({2, s.channels});  // Σ dy·x̂, Σ dy
  if (channel_first) dx = dx.movedim(-1, 1).contiguous();
  return {dx, sums[0].to(weight.scalar_type()), sums[1].to(weight.scalar_type())};
}

at::Tensor layer_norm_cuda(const at::Tensor& x_in, const at::Tensor& weight, const at::Tensor& bias,
                           double eps, bool channel_first, std::optional<at::ScalarType> out_dtype) {
  const LayerNormSizes s = check_layer_norm_args(x_in, weight, bias, eps, channel_first, out_dtype);
  TORCH_CHECK(s.channels <= std::numeric_limits<int>::max(), "vss::layer_norm (CUDA): ",
              s.channels, " channels is too many");
  const c10::cuda::CUDAGuard guard(x_in.device());
  const bool tile = channel_first && s.channels <= kMaxTileChannels && s.outer <= 65535;
  // Rows of C values, unless the tile kernel reads the channel-first layout directly.
  const at::Tensor x = (channel_first && !tile ? x_in.movedim(1, -1) : x_in).contiguous();
  const at::Tensor w = weight.to(at::kFloat).contiguous();
  const at::Tensor b = bias.to(at::kFloat).contiguous();
  at::Tensor y = at::empty(layer_norm_out_shape(x_in, channel_first),
                           x_in.options().dtype(out_dtype.value_or(x_in.scalar_type())));
  if (s.rows == 0) return y;
  const int C = static_cast<int>(s.channels);
  const auto feps = static_cast<float>(eps);
  cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  dispatch_float(x.scalar_type(), "layer_norm", "x", [&](auto in) {
    using In = typename decltype(in)::type;
    dispatch_float(y.scalar_type(), "layer_norm", "out_dtype", [&](auto out) {
      using Out = typename decltype(out)::type;
      if (!tile) return launch_rows<In, Out>(x, w, b, y, s.rows, C, feps, stream);
      const dim3 grid(static_cast<unsigned>((s.inner + kTileTokens - 1) / kTileTokens),
                      static_cast<unsigned>(s.outer));
      const size_t shared = static_cast<size_t>(C) * (kTileTokens + 1) * sizeof(float);
      auto kernel = layer_norm_channel_first_kernel<In, Out>;
      C10_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          static_cast<int>(shared)));
      kernel<<<grid, 32 * kTileWarps, shared, stream>>>(cptr<In>(x), cptr<float>(w), cptr<float>(b),
                                                        mptr<Out>(y), C, s.inner, feps);
    });
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return y;
}

}  // namespace
}  // namespace vss::cuda

TORCH_LIBRARY_IMPL(vss, CUDA, m) {
  m.impl("layer_norm", &vss::cuda::layer_norm_cuda);
  m.impl("layer_norm_backward", &vss::cuda::layer_norm_backward_cuda);
}
