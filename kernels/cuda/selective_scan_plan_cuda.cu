// CUDA kernels of vss::selective_scan_plan and its backward: the fused ("virtual flatten")
// scan. Semantics: kernels/selective_scan.h and the CPU reference selective_scan_plan_cpu.cpp.
//
// One block owns (batch b, channel d) and runs the K directions one after the other, reading
// the image-layout inputs through index[k] inside the kernel: the K flattened copies
// [B, K, D, L] never exist. u's row (shared by the directions) is staged once in shared
// memory as float, and the directions' outputs are summed into a float row there; the merged
// row (times merge_weight) is written once at the end. When H·W is too large for shared
// memory, the same code keeps those rows in a float scratch row in global memory instead.
// Short plans on small maps (VMamba's later stages) take a channel-tile kernel instead: one
// block per 32 channels of a batch, a thread per channel stepping through the plan. With one
// state (N = 1) on plans of 128 to ~1800 steps the block's warps take a direction each instead. Long
// plans on few channels (restoration) split every direction into segments (scan_split.h)
// run by separate blocks, one launch per direction, into a float accumulator.
//
// The sum over directions adds each token's contributions in direction order (a barrier
// separates directions), so the forward is deterministic when each direction visits a token at
// most once, which every registered strategy's plan does (any index works; repeated visits
// within one direction are summed in an unspecified order). Out-of-range token ids are treated
// as padding here (no memory access); the CPU op reports them.
//
// Backward: the same ownership; du (over directions) and ddelta (per direction) gather in
// float rows and are written once per row; dB and dC sum over the D channels of a group with
// float atomics, as in the plain kernel.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/selective_scan_common.cuh"
#include "kernels/selective_scan_checks.h"

#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include <optional>
#include <tuple>

namespace vss::cuda {
namespace {

constexpr int kItems = 8;

// Float rows indexed by token live at pad(p) = p + p/32: a thread's 8 steps down a column
// are 8·W tokens apart from the next thread's, which without the pad word per 32 lands every
// lane of a warp in one shared-memory bank (32-way conflicts; notes v4).
__host__ __device__ __forceinline__ int64_t pad(int64_t p) { return p + (p >> 5); }
__host__ __device__ __forceinline__ int64_t padded_len(int64_t HW) { return pad(HW - 1) + 1; }

struct PlanArgs {
  const void* u;            // [B, D, HW]
  const void* delta;        // [B, K·D, HW]
  const float* A;           // [K·D, N]
  const void* B;            // [B, K, N, HW]
  const void* C;
  const float* D;           // may be null
  const float* delta_bias;  // may be null
  const int32_t* index;     // [K, L]
  const float* weight;      // [HW] or null
  int64_t dim, groups, N, L, HW;
  int block_dims;  // backward without staging: d's per block (divides dim; 1 unless N == 1)
  bool softplus;
};

// Loads the thread's ITEMS token ids of steps t.. of one direction (-1 past L and for any id
// outside 0..HW-1, which then reads and writes nothing).
template <int ITEMS>
__device__ __forceinline__ void load_tokens(const int32_t* __restrict__ row, int64_t t, int64_t L,
                                            int64_t HW, int (&tok)[ITEMS]) {
  const int32_t* q = row + t;
  if (t + ITEMS <= L && (reinterpret_cast<uintptr_t>(q) & 15) == 0) {
#pragma unroll
    for (int v = 0; v < ITEMS / 4; ++v) {
      const int4 raw = reinterpret_cast<const int4*>(q)[v];
      tok[4 * v] = raw.x, tok[4 * v + 1] = raw.y, tok[4 * v + 2] = raw.z, tok[4 * v + 3] = raw.w;
    }
  } else {
#pragma unroll
    for (int i = 0; i < ITEMS; ++i) tok[i] = t + i < L ? q[i] : -1;
  }
#pragma unroll
  for (int i = 0; i < ITEMS; ++i)
    if (tok[i] < 0 || tok[i] >= HW) tok[i] = -1;
}

template <typename T, int ITEMS>
__device__ __forceinline__ void gather(const T* __restrict__ row, const int (&tok)[ITEMS],
                                       float (&out)[ITEMS]) {
#pragma unroll
  for (int i = 0; i < ITEMS; ++i) out[i] = tok[i] >= 0 ? to_float(row[tok[i]]) : 0.f;
}

// The rows a block keeps for its (b, d) while it runs the directions: in shared memory when
// they fit (kStaged), else u and the upstream gradient are read from global memory and the
// float accumulators live in a global scratch row of the block's own.
template <typename T, int NT, int ITEMS>
struct PlanBlock {
  PlanArgs p;
  int64_t b, d, bd;  // bd = b·D + d

  __device__ PlanBlock(const PlanArgs& args, int64_t d_) : p(args) {
    b = blockIdx.y, d = d_, bd = b * p.dim + d;
  }
  __device__ int64_t channel(int64_t k) const { return k * p.dim + d; }
  __device__ const T* u_row() const { return static_cast<const T*>(p.u) + bd * p.HW; }
  __device__ const T* delta_row(int64_t k) const {
    return static_cast<const T*>(p.delta) + (b * p.groups * p.dim + channel(k)) * p.HW;
  }
  __device__ int64_t BC_offset(int64_t k) const { return (b * p.groups + k) * p.N * p.HW; }

  // The thread's items of B and C for state n at tokens tok.
  __device__ auto loader(int64_t k, const int (&tok)[ITEMS]) const {
    const T* Bk = static_cast<const T*>(p.B) + BC_offset(k);
    const T* Ck = static_cast<const T*>(p.C) + BC_offset(k);
    const int64_t HW = p.HW;
    return [Bk, Ck, HW, &tok](int n, float (&Bv)[ITEMS], float (&Cv)[ITEMS]) {
      gather(Bk + n * HW, tok, Bv);
      gather(Ck + n * HW, tok, Cv);
    };
  }

  // Steps t.. of direction k: token ids, u (from the staged float row or global), and Δ.
  __device__ void load_steps(int64_t k, int64_t t, const float* u_staged, int (&tok)[ITEMS],
                             float (&u)[ITEMS], float (&dt)[ITEMS]) const {
    load_tokens(p.index + k * p.L, t, p.L, p.HW, tok);
    load_values(k, u_staged, tok, u, dt);
  }
  // u and Δ at tokens tok of direction k.
  __device__ void load_values(int64_t k, const float* u_staged, const int (&tok)[ITEMS],
                              float (&u)[ITEMS], float (&dt)[ITEMS]) const {
    if (u_staged) {
#pragma unroll
      for (int i = 0; i < ITEMS; ++i) u[i] = tok[i] >= 0 ? u_staged[pad(tok[i])] : 0.f;
    } else {
      gather(u_row(), tok, u);
    }
    gather(delta_row(k), tok, dt);
    const int64_t c = channel(k);
    apply_delta_transform(dt, p.delta_bias ? p.delta_bias[c] : 0.f, p.softplus);
  }
};

// Copies a T row of HW elements into a padded float row (times weight when given).
template <int NT, int ITEMS, typename T>
__device__ void stage_row(const T* __restrict__ src, const float* __restrict__ weight, int64_t HW,
                          float* dst) {
  for (int64_t q = threadIdx.x * ITEMS; q < HW; q += NT * ITEMS) {
    float v[ITEMS];
    load_items<ITEMS>(src, q, HW, v);
#pragma unroll
    for (int i = 0; i < ITEMS; ++i)
      if (q + i < HW) dst[pad(q + i)] = weight ? v[i] * weight[q + i] : v[i];
  }
}

// Writes a padded float row (times weight when given) to a T row of HW elements.
template <int NT, int ITEMS, typename T>
__device__ void write_row(const float* src, const float* __restrict__ weight, int64_t HW,
                          T* __restrict__ dst) {
  for (int64_t q = threadIdx.x * ITEMS; q < HW; q += NT * ITEMS) {
    float v[ITEMS];
#pragma unroll
    for (int i = 0; i < ITEMS; ++i)
      v[i] = q + i < HW ? (weight ? src[pad(q + i)] * weight[q + i] : src[pad(q + i)]) : 0.f;
    store_items<ITEMS>(dst, q, HW, v);
  }
}

__device__ void zero_row(float* row, int64_t HW, int nt) {
  for (int64_t q = threadIdx.x; q < padded_len(HW); q += nt) row[q] = 0.f;
}

// Forward. Shared memory (kStaged): u as float [HW], y accumulator [HW]. Otherwise `scratch`
// holds the block's y accumulator row ([B·D, HW] float).
// Registers cap: 768 resident threads in the forward, 512 in the backward.
template <typename T, typename O, int NT, bool kStaged, bool kSingle>
__global__ void __launch_bounds__(NT, 768 / NT)
    plan_fwd_kernel(PlanArgs p, O* __restrict__ y, float* __restrict__ scratch) {
  constexpr int kChunk = NT * kItems;
  const int N = kSingle ? 1 : static_cast<int>(p.N);
  extern __shared__ float rows_s[];
  __shared__ ScanSmem<NT> smem;
  const PlanBlock<T, NT, kItems> blk(p, blockIdx.x);
  const int64_t stride = padded_len(p.HW);
  const float* u_staged = kStaged ? rows_s : nullptr;
  float* acc = kStaged ? rows_s + stride : scratch + blk.bd * stride;
  if constexpr (kStaged) stage_row<NT, kItems>(blk.u_row(), nullptr, p.HW, rows_s);
  zero_row(acc, p.HW, NT);
  __syncthreads();
  int parity = 0;
  float carries[kMaxN];
  for (int64_t k = 0; k < p.groups; ++k) {
    const int64_t c = blk.channel(k);
    const float Dc = p.D ? p.D[c] : 0.f;
    for (int n = 0; n < N; ++n) carries[n] = 0.f;
    for (int64_t t0 = 0; t0 < p.L; t0 += kChunk) {
      const int64_t t = t0 + threadIdx.x * kItems;
      int tok[kItems];
      float u[kItems], dt[kItems], out[kItems];
      blk.load_steps(k, t, u_staged, tok, u, dt);
#pragma unroll
      for (int i = 0; i < kItems; ++i) out[i] = Dc * u[i];
      forward_chunk<NT>(dt, u, t, p.L, p.A + c * p.N, N, carries, smem, parity,
                        blk.loader(k, tok), out);
      // Each direction's adds come after a barrier that follows the previous direction's.
#pragma unroll
      for (int i = 0; i < kItems; ++i)
        if (tok[i] >= 0) atomicAdd(acc + pad(tok[i]), out[i]);
    }
  }
  __syncthreads();
  write_row<NT, kItems>(acc, p.weight, p.HW, y + blk.bd * p.HW);
}

// ---- N = 1 on maps whose rows fit in shared memory: a warp per direction ----------------
// The kernel above runs a (b, d)'s K directions one after the other, each chunk a block-wide
// scan with barriers: latency-bound at VMamba's 56×56 and 28×28. Here the block's warps take
// the directions (warp w: k = w, w + kPlanWarps, ...), each scanning its own in tiles of
// 32 × kItems steps (warp shuffles, no barriers) and adding into its own float y row in shared
// memory; u's row is staged once for all of them. The rows are summed in warp order at the
// end, so each token's directions add up in a fixed order: deterministic (that order, with
// several directions a warp, differs from the kernel above's k = 0, 1, 2, ...).
constexpr int kPlanWarps = 4;
constexpr int kPlanWarpBlocks = 6;  // resident blocks a multiprocessor (registers capped for it)

template <typename T, typename O>
__global__ void __launch_bounds__(32 * kPlanWarps, kPlanWarpBlocks)
    plan_fwd_warp_kernel(PlanArgs p, O* __restrict__ y) {
  constexpr int NT = 32 * kPlanWarps, kTileLen = 32 * kItems;
  extern __shared__ float rows_s[];  // u [stride], then one y row per warp that has directions
  const int64_t stride = padded_len(p.HW);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int rows = static_cast<int>(min(int64_t{kPlanWarps}, p.groups));
  const PlanBlock<T, NT, kItems> blk(p, blockIdx.x);
  float* y_rows = rows_s + stride;
  stage_row<NT, kItems>(blk.u_row(), nullptr, p.HW, rows_s);
  for (int64_t q = threadIdx.x; q < rows * stride; q += NT) y_rows[q] = 0.f;
  __syncthreads();
  float* acc = y_rows + warp * stride;
  for (int64_t k = warp; k < p.groups; k += kPlanWarps) {
    const int64_t c = blk.channel(k);
    const float Dc = p.D ? p.D[c] : 0.f, An = p.A[c];
    const T* Bk = static_cast<const T*>(p.B) + blk.BC_offset(k);
    const T* Ck = static_cast<const T*>(p.C) + blk.BC_offset(k);
    float carry = 0.f;
    for (int64_t t0 = 0; t0 < p.L; t0 += kTileLen) {
      const int64_t t = t0 + lane * kItems;
      int tok[kItems];
      float u[kItems], dt[kItems], Bv[kItems], Cv[kItems], a[kItems], bx[kItems];
      blk.load_steps(k, t, rows_s, tok, u, dt);
      gather(Bk, tok, Bv);
      gather(Ck, tok, Cv);
      Affine excl;
      warp_scan<false>(step_maps(dt, u, Bv, An, t, p.L, a, bx), excl);
      float h = excl.a * carry + excl.b;
#pragma unroll
      for (int i = 0; i < kItems; ++i) {
        h = a[i] * h + bx[i];
        if (tok[i] >= 0) atomicAdd(acc + pad(tok[i]), Dc * u[i] + Cv[i] * h);
      }
      carry = __shfl_sync(0xffffffffu, h, 31);  // steps past L are identity maps
    }
  }
  __syncthreads();
  O* out = y + blk.bd * p.HW;
  for (int64_t q = threadIdx.x; q < p.HW; q += NT) {
    float v = 0.f;
    for (int w = 0; w < rows; ++w) v += y_rows[w * stride + pad(q)];
    out[q] = from_float<O>(p.weight ? v * p.weight[q] : v);
  }
}

// ---- long sequences on few channels: the directions split into segments (scan_split.h) ----
// Where B·D blocks would leave most of the GPU idle, each direction's L steps are cut into
// segments run by separate blocks (grid z). The first kernel sums every segment but the last
// of every direction; then one launch per direction scans all its segments from their entry
// states and adds into a float accumulator [B, D, HW]. Launches run in stream order, so each
// token gets its directions' contributions in direction order (deterministic: in one launch a
// token is added once when the direction visits it at most once).
// kSummary: the first pass, blockIdx.z = k·(segments - 1) + segment for all segments but the
// last of every direction, each from a zero state, writing summary[(b·D + d)·K + k, seg, :]
// (end state, Σ Δ). Otherwise direction k's segments blockIdx.z, adding into acc.
template <typename T, int NT, bool kSingle, bool kSummary>
__global__ void __launch_bounds__(NT, 768 / NT)
    plan_segment_kernel(PlanArgs p, int64_t k, int64_t seg_len, int64_t segments,
                        float* __restrict__ summary, float* __restrict__ acc) {
  constexpr int kChunk = NT * kItems;
  const int N = kSingle ? 1 : static_cast<int>(p.N);
  __shared__ ScanSmem<NT> smem;
  const PlanBlock<T, NT, kItems> blk(p, blockIdx.x);
  if constexpr (kSummary) k = blockIdx.z / (segments - 1);
  const int64_t seg = kSummary ? blockIdx.z % (segments - 1) : blockIdx.z;
  const int64_t c = blk.channel(k), t_end = std::min(p.L, (seg + 1) * seg_len);
  float* row_summary = summary + (blk.bd * p.groups + k) * (segments - 1) * (N + 1);
  const float Dc = p.D ? p.D[c] : 0.f;
  float carries[kMaxN], dt_sum = 0.f;
  segment_entry_state(row_summary, kSummary ? 0 : seg, p.A + c * p.N, N, carries);
  int parity = 0;
  for (int64_t t0 = seg * seg_len; t0 < t_end; t0 += kChunk) {
    const int64_t t = t0 + threadIdx.x * kItems;
    int tok[kItems];
    float u[kItems], dt[kItems];
    blk.load_steps(k, t, nullptr, tok, u, dt);
    if constexpr (kSummary) {
      advance_chunk<NT>(dt, u, t, p.L, p.A + c * p.N, N, carries, smem, parity,
                        blk.loader(k, tok));
#pragma unroll
      for (int i = 0; i < kItems; ++i)
        if (t + i < p.L) dt_sum += dt[i];
    } else {
      float out[kItems];
#pragma unroll
      for (int i = 0; i < kItems; ++i) out[i] = Dc * u[i];
      forward_chunk<NT>(dt, u, t, p.L, p.A + c * p.N, N, carries, smem, parity,
                        blk.loader(k, tok), out);
#pragma unroll
      for (int i = 0; i < kItems; ++i)
        if (tok[i] >= 0) atomicAdd(acc + blk.bd * p.HW + tok[i], out[i]);
    }
  }
  if constexpr (kSummary) {
    __shared__ float red_s[NT / 32];
    const float total = block_sum<NT>(dt_sum, red_s);
    if (threadIdx.x == 0) {
      float* dst = row_summary + seg * (N + 1);
      for (int n = 0; n < N; ++n) dst[n] = carries[n];
      dst[N] = total;
    }
  }
}

// ---- short sequences: a tile of channels per block ----------------------------------------
// For small maps the block-wide scan above is latency-bound (4 dependent directions of a few
// hundred steps, a barrier per chunk). Here one block owns kTile consecutive channels of one
// batch: all its threads stage the tile's u rows and each direction's Δ rows (contiguous in
// memory: coalesced 16-byte loads) into shared memory as float, then one warp scans, a lane a
// channel, stepping through the plan sequentially and adding into its own float y row. Lane
// rows are kTileStride apart (odd), so lanes reading the same token hit distinct banks. Every
// y element is summed by one thread in direction order: deterministic.
constexpr int kTile = 32;          // channels a block (the scanning warp's lanes)
constexpr int kTileThreads = 128;  // threads staging rows
constexpr int kTileSteps = 8;      // plan steps whose loads are issued together

__host__ __device__ __forceinline__ int64_t tile_stride(int64_t HW) { return HW | 1; }

// Copies `rows` contiguous rows of HW elements into float rows `stride` apart.
template <typename T>
__device__ void stage_tile(const T* __restrict__ src, int rows, int HW, int stride, float* dst) {
  constexpr int kVec = 16 / sizeof(T);
  const int n = rows * HW;
  for (int q0 = threadIdx.x * kVec; q0 < n; q0 += 4 * kTileThreads * kVec) {
    float v[4][kVec];
#pragma unroll
    for (int j = 0; j < 4; ++j) load_items<kVec>(src, q0 + j * kTileThreads * kVec, n, v[j]);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int q = q0 + j * kTileThreads * kVec;
      int r = q / HW, col = q - r * HW;
#pragma unroll
      for (int i = 0; i < kVec; ++i) {
        if (q + i < n) dst[r * stride + col] = v[j][i];
        if (++col == HW) col = 0, ++r;
      }
    }
  }
}

template <typename T, typename O, bool kSingle>
__global__ void __launch_bounds__(kTileThreads)
    plan_fwd_tile_kernel(PlanArgs p, O* __restrict__ y) {
  extern __shared__ float rows_s[];
  const int HW = static_cast<int>(p.HW), stride = static_cast<int>(tile_stride(p.HW));
  const int N = kSingle ? 1 : static_cast<int>(p.N);
  float* u_s = rows_s;
  float* dt_s = u_s + kTile * stride;
  float* y_s = dt_s + kTile * stride;
  const int64_t b = blockIdx.y, d0 = int64_t{blockIdx.x} * kTile;
  const int rows = static_cast<int>(min(int64_t{kTile}, p.dim - d0));
  const int lane = threadIdx.x;
  stage_tile(static_cast<const T*>(p.u) + (b * p.dim + d0) * HW, rows, HW, stride, u_s);
  for (int q = threadIdx.x; q < kTile * stride; q += kTileThreads) y_s[q] = 0.f;
  for (int64_t k = 0; k < p.groups; ++k) {
    __syncthreads();  // u and y ready; the previous direction's Δ reads are done
    const int64_t c0 = k * p.dim + d0;
    stage_tile(static_cast<const T*>(p.delta) + (b * p.groups * p.dim + c0) * HW, rows, HW,
               stride, dt_s);
    __syncthreads();
    if (lane >= rows) continue;
    const int64_t c = c0 + lane;
    float A_log2[kMaxN], h[kMaxN];
    for (int n = 0; n < N; ++n) A_log2[n] = p.A[c * p.N + n] * kLog2e, h[n] = 0.f;
    const float Dc = p.D ? p.D[c] : 0.f, bias = p.delta_bias ? p.delta_bias[c] : 0.f;
    const float* u_row = u_s + lane * stride;
    const float* dt_row = dt_s + lane * stride;
    float* y_row = y_s + lane * stride;
    const T* Bk = static_cast<const T*>(p.B) + (b * p.groups + k) * p.N * HW;
    const T* Ck = static_cast<const T*>(p.C) + (b * p.groups + k) * p.N * HW;
    const int32_t* idx = p.index + k * p.L;
    for (int64_t t0 = 0; t0 < p.L; t0 += kTileSteps) {
      // Loads of kTileSteps steps first (the y adds below may alias nothing they read).
      int tok[kTileSteps];
      float u[kTileSteps], dt[kTileSteps], Bv[kTileSteps], Cv[kTileSteps];
#pragma unroll
      for (int i = 0; i < kTileSteps; ++i) {
        tok[i] = t0 + i < p.L ? __ldg(idx + t0 + i) : -1;
        if (tok[i] >= HW) tok[i] = -1;
      }
#pragma unroll
      for (int i = 0; i < kTileSteps; ++i) {
        const bool on = tok[i] >= 0;
        u[i] = on ? u_row[tok[i]] : 0.f;
        dt[i] = on ? dt_row[tok[i]] : 0.f;  // padding: raw Δ = 0 (the bias still applies)
        if constexpr (kSingle) {
          Bv[i] = on ? to_float(Bk[tok[i]]) : 0.f;
          Cv[i] = on ? to_float(Ck[tok[i]]) : 0.f;
        }
      }
      apply_delta_transform(dt, bias, p.softplus);
#pragma unroll
      for (int i = 0; i < kTileSteps; ++i) {
        if (t0 + i >= p.L) break;
        const bool on = tok[i] >= 0;
        float out = Dc * u[i];
        for (int n = 0; n < N; ++n) {
          const float Bn = kSingle ? Bv[i] : (on ? to_float(Bk[n * HW + tok[i]]) : 0.f);
          const float Cn = kSingle ? Cv[i] : (on ? to_float(Ck[n * HW + tok[i]]) : 0.f);
          h[n] = exp2f(dt[i] * A_log2[n]) * h[n] + dt[i] * Bn * u[i];
          out += Cn * h[n];
        }
        if (on) y_row[tok[i]] += out;
      }
    }
  }
  __syncthreads();
  O* y_tile = y + (b * p.dim + d0) * HW;
  for (int q = threadIdx.x; q < rows * HW; q += kTileThreads) {
    const int r = q / HW, col = q - r * HW;
    const float v = y_s[r * stride + col];
    y_tile[q] = from_float<O>(p.weight ? v * p.weight[col] : v);
  }
}

// Shared bytes of the tile kernel, or 0 when its rows would leave room for fewer than 2
// blocks per multiprocessor (or the plan is long: one warp steps through it serially).
size_t tile_bytes(int64_t HW, int64_t L) {
  const auto* prop = at::cuda::getCurrentDeviceProperties();
  const size_t want = static_cast<size_t>(3 * kTile * tile_stride(HW)) * sizeof(float);
  return L <= 1024 && 2 * (want + 1024) <= prop->sharedMemPerMultiprocessor ? want : 0;
}

struct PlanBwdArgs {
  float* dA_part;      // [B, K·D, N]
  float* dB;           // [B, K, N, HW] float32, atomics
  float* dC;
  float* dD_part;      // [B, K·D]
  float* dbias_part;   // [B, K·D]
  float* chunk_state;  // [B·D, chunks, N]
  float* scratch;      // !kStaged: [B·D, 2, HW] float: du and ddelta accumulators
};

// d's one backward block runs (N == 1): their directions share B and C, so B, C are gathered
// once per chunk for all of them and dB, dC are summed over them before one atomic add.
constexpr int kMaxDims = 8;

// Backward. Shared memory (kStaged, one d per block): u [HW], g = dout·weight [HW], du and
// ddelta accumulators [HW] each, all float. Otherwise (p.block_dims d's per block) u and g
// are gathered from global memory and the accumulators live in the d's scratch rows.
template <typename T, typename G, int NT, bool kStaged, bool kSingle>
__global__ void __launch_bounds__(NT, 512 / NT)
    plan_bwd_kernel(PlanArgs p, const G* __restrict__ dout, T* __restrict__ du,
                    T* __restrict__ ddelta, PlanBwdArgs o) {
  constexpr int kChunk = NT * kItems;
  constexpr int kWarps = NT / 32;
  const int N = kSingle ? 1 : static_cast<int>(p.N);
  extern __shared__ float rows_s[];
  __shared__ ScanSmem<NT> smem;
  __shared__ float dA_s[kMaxN][kWarps];  // d0 + j's state n at [j·N + n]
  __shared__ float red_s[kWarps];
  const int dims = kStaged ? 1 : p.block_dims;
  const int64_t b = blockIdx.y, d0 = int64_t{blockIdx.x} * dims, HW = p.HW;
  const int64_t stride = padded_len(HW);
  const float* u_staged = kStaged ? rows_s : nullptr;
  const float* g_staged = kStaged ? rows_s + stride : nullptr;
  // du accumulator of d0 + j; its ddelta accumulator follows it.
  auto du_acc = [&](int j) {
    return kStaged ? rows_s + 2 * stride : o.scratch + (b * p.dim + d0 + j) * 2 * stride;
  };
  auto dout_row = [&](int j) { return dout + (b * p.dim + d0 + j) * HW; };
  if constexpr (kStaged) {
    stage_row<NT, kItems>(static_cast<const T*>(p.u) + (b * p.dim + d0) * HW, nullptr, HW, rows_s);
    stage_row<NT, kItems>(dout_row(0), p.weight, HW, rows_s + stride);
  }
  for (int j = 0; j < dims; ++j) zero_row(du_acc(j), HW, NT);
  __syncthreads();
  const int64_t chunks = (p.L + kChunk - 1) / kChunk;
  // Chunk-entry states of d0 + j: state_base + j·chunks·N.
  float* state_base = o.chunk_state + (b * p.dim + d0) * chunks * N;
  int parity = 0;
  float carries[kMaxN];  // d0 + j's state n at [j·N + n]

  // The upstream gradients of d0 + j at tokens tok: dout·weight.
  auto load_g = [&](int j, const int(&tok)[kItems], float(&g)[kItems]) {
    if constexpr (kStaged) {
#pragma unroll
      for (int i = 0; i < kItems; ++i) g[i] = tok[i] >= 0 ? g_staged[pad(tok[i])] : 0.f;
    } else {
      gather(dout_row(j), tok, g);
      if (p.weight)
#pragma unroll
        for (int i = 0; i < kItems; ++i)
          if (tok[i] >= 0) g[i] *= p.weight[tok[i]];
    }
  };

  for (int64_t k = 0; k < p.groups; ++k) {
    const int64_t BC_offset = (b * p.groups + k) * p.N * HW;
    const T* Bk = static_cast<const T*>(p.B) + BC_offset;
    const T* Ck = static_cast<const T*>(p.C) + BC_offset;
    // kSingle: B, C at the chunk's tokens, gathered once for the block's d's.
    float Bc[kItems], Cc[kItems];
    auto gather_BC = [&](const int(&tok)[kItems]) {
      if constexpr (kSingle) {
        gather(Bk, tok, Bc);
        gather(Ck, tok, Cc);
      }
    };
    auto loader = [&](const int(&tok)[kItems]) {
      return [&](int n, float(&Bv)[kItems], float(&Cv)[kItems]) {
        if constexpr (kSingle) {
#pragma unroll
          for (int i = 0; i < kItems; ++i) Bv[i] = Bc[i], Cv[i] = Cc[i];
        } else {
          gather(Bk + n * HW, tok, Bv);
          gather(Ck + n * HW, tok, Cv);
        }
      };
    };
    for (int j = 0; j < dims; ++j) zero_row(du_acc(j) + stride, HW, NT);
    for (int i = threadIdx.x; i < kMaxN * kWarps; i += NT) dA_s[i / kWarps][i % kWarps] = 0.f;

    // Pass 1: the state entering each chunk of this direction.
    for (int i = 0; i < dims * N; ++i) carries[i] = 0.f;
    for (int64_t ch = 0; ch + 1 < chunks; ++ch) {
      const int64_t t = ch * kChunk + threadIdx.x * kItems;
      int tok[kItems];
      load_tokens(p.index + k * p.L, t, p.L, HW, tok);
      gather_BC(tok);
      for (int j = 0; j < dims; ++j) {
        const PlanBlock<T, NT, kItems> blk(p, d0 + j);
        const float* A_row = p.A + blk.channel(k) * p.N;
        float u[kItems], dt[kItems];
        blk.load_values(k, u_staged, tok, u, dt);
        advance_chunk<NT>(dt, u, t, p.L, A_row, N, carries + j * N, smem, parity, loader(tok));
        if (threadIdx.x == 0)
          for (int n = 0; n < N; ++n)
            state_base[(j * chunks + ch + 1) * N + n] = carries[j * N + n];
      }
    }
    __syncthreads();  // state rows, the zeroed accumulators and dA_s are visible to all

    // Pass 2: chunks in reverse.
    for (int i = 0; i < dims * N; ++i) carries[i] = 0.f;
    float dD_acc[kMaxDims], dbias_acc[kMaxDims];
    for (int j = 0; j < dims; ++j) dD_acc[j] = dbias_acc[j] = 0.f;
    for (int64_t ch = chunks - 1; ch >= 0; --ch) {
      const int64_t t = ch * kChunk + threadIdx.x * kItems;
      int tok[kItems];
      load_tokens(p.index + k * p.L, t, p.L, HW, tok);
      gather_BC(tok);
      float dB_sum[kItems], dC_sum[kItems];  // kSingle: summed over the block's d's
#pragma unroll
      for (int i = 0; i < kItems; ++i) dB_sum[i] = dC_sum[i] = 0.f;
      for (int j = 0; j < dims; ++j) {
        const PlanBlock<T, NT, kItems> blk(p, d0 + j);
        const int64_t c = blk.channel(k);
        const float Dc = p.D ? p.D[c] : 0.f;
        float u[kItems], dt[kItems], g[kItems], du_v[kItems], ddt[kItems];
        blk.load_values(k, u_staged, tok, u, dt);
        load_g(j, tok, g);
#pragma unroll
        for (int i = 0; i < kItems; ++i) {
          du_v[i] = Dc * g[i];
          ddt[i] = 0.f;
          dD_acc[j] += g[i] * u[i];
        }
        auto entry_state = [&](int n) {
          return ch == 0 ? 0.f : state_base[(j * chunks + ch) * N + n];
        };
        auto add_dBC = [&](int n, int i, float dBv, float dCv) {
          if (tok[i] < 0) return;  // padding: B = C = 0 are constants
          if constexpr (kSingle) {
            dB_sum[i] += dBv, dC_sum[i] += dCv;
          } else {
            atomicAdd(o.dB + BC_offset + n * HW + tok[i], dBv);
            atomicAdd(o.dC + BC_offset + n * HW + tok[i], dCv);
          }
        };
        backward_chunk<NT>(dt, u, g, t, p.L, p.A + c * p.N, N, entry_state, carries + j * N,
                           smem, parity, loader(tok), add_dBC, du_v, ddt, dA_s + j * N);
        delta_transform_grad(dt, p.softplus, ddt);
        float* acc = du_acc(j);
#pragma unroll
        for (int i = 0; i < kItems; ++i) {
          if (t + i < p.L) dbias_acc[j] += ddt[i];  // padding steps too: their Δ uses the bias
          if (tok[i] >= 0) {
            atomicAdd(acc + pad(tok[i]), du_v[i]);
            atomicAdd(acc + stride + pad(tok[i]), ddt[i]);
          }
        }
      }
      if constexpr (kSingle) {
#pragma unroll
        for (int i = 0; i < kItems; ++i) {
          if (tok[i] >= 0) {
            atomicAdd(o.dB + BC_offset + tok[i], dB_sum[i]);
            atomicAdd(o.dC + BC_offset + tok[i], dC_sum[i]);
          }
        }
      }
    }
    const int64_t row0 = b * p.groups * p.dim + k * p.dim + d0;  // (b, channel k·D + d0)
    for (int j = 0; j < dims; ++j) {
      const float dD_sum = block_sum<NT>(dD_acc[j], red_s);
      const float dbias_sum = block_sum<NT>(dbias_acc[j], red_s);  // barriers also end pass 2
      if (threadIdx.x == 0) {
        o.dD_part[row0 + j] = dD_sum;
        o.dbias_part[row0 + j] = dbias_sum;
      }
    }
    if (threadIdx.x < dims * N) {
      float s = 0.f;
      for (int w = 0; w < kWarps; ++w) s += dA_s[threadIdx.x][w];
      o.dA_part[row0 * N + threadIdx.x] = s;
    }
    for (int j = 0; j < dims; ++j)
      write_row<NT, kItems>(du_acc(j) + stride, nullptr, HW, ddelta + (row0 + j) * HW);
    __syncthreads();  // before the next direction zeroes the ddelta rows and dA_s
  }
  for (int j = 0; j < dims; ++j)
    write_row<NT, kItems>(du_acc(j), nullptr, HW, du + (b * p.dim + d0 + j) * HW);
}

// ---- host side -----------------------------------------------------------------------

PlanArgs make_args(const ScanTensors& t, const ScanSizes& s, bool softplus) {
  PlanArgs p;
  p.u = t.u.const_data_ptr();
  p.delta = t.delta.const_data_ptr();
  p.A = cptr<float>(t.A);
  p.B = t.B.const_data_ptr();
  p.C = t.C.const_data_ptr();
  p.D = cptr<float>(t.D);
  p.delta_bias = cptr<float>(t.bias);
  p.index = cptr<int32_t>(t.index);
  p.weight = cptr<float>(t.weight);
  p.dim = s.dim;
  p.groups = s.groups;
  p.N = s.state;
  p.L = s.length;
  p.HW = s.tokens;
  p.block_dims = 1;
  p.softplus = softplus;
  return p;
}

// Shared-memory bytes for `rows` float rows of HW, or 0 when they would leave room for fewer
// than 3 blocks per multiprocessor (then the global scratch rows keep more blocks resident:
// at 128×128 staging ran 6.9× slower than the plain op, notes v2).
size_t staged_bytes(int64_t rows, int64_t HW, size_t static_bytes) {
  const auto* prop = at::cuda::getCurrentDeviceProperties();
  const size_t want = static_cast<size_t>(rows * padded_len(HW)) * sizeof(float);
  return 3 * (want + static_bytes + 1024) <= prop->sharedMemPerMultiprocessor ? want : 0;
}

// Shared bytes of the warp-per-direction forward (N = 1: u and one y row per warp), or 0 when
// it does not apply or its rows would leave room for fewer than kPlanWarpBlocks blocks per
// multiprocessor: as many warps as the block kernel keeps, which it beats only with those
// (at 56×56, 3 blocks of 4 warps, it was 1.3× slower; at 14×14 it takes 0.50 ms a call where
// the channel tile, one scanning warp a block, took 0.96).
size_t warp_kernel_bytes(const ScanSizes& s) {
  // Below half a tile (32 lanes × kItems steps) most lanes would idle: at 7×7 the channel
  // tile was 2.8× faster (0.28 vs 0.79 ms a call in VMamba-T's last stage, H200).
  if (s.state != 1 || s.length < 16 * kItems) return 0;
  const auto* prop = at::cuda::getCurrentDeviceProperties();
  const int64_t rows = 1 + std::min<int64_t>(kPlanWarps, s.groups);
  const size_t want = static_cast<size_t>(rows * padded_len(s.tokens)) * sizeof(float);
  return kPlanWarpBlocks * (want + 1024) <= prop->sharedMemPerMultiprocessor ? want : 0;
}

template <typename Kernel>
void allow_smem(Kernel kernel, size_t bytes) {
  if (bytes > 48 * 1024)
    C10_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(bytes)));
}


at::Tensor selective_scan_plan_cuda(const at::Tensor& u_in, const at::Tensor& delta_in,
                                    const at::Tensor& A_in, const at::Tensor& B_in,
                                    const at::Tensor& C_in, const std::optional<at::Tensor>& D_in,
                                    const std::optional<at::Tensor>& bias_in,
                                    const at::Tensor& index_in,
                                    const std::optional<at::Tensor>& weight_in,
                                    bool delta_softplus, std::optional<at::ScalarType> out_dtype) {
  constexpr const char* op = "vss::selective_scan_plan";
  const ScanSizes s = check_selective_scan_plan_args(op, u_in, delta_in, A_in, B_in, C_in, D_in,
                                                     bias_in, index_in, weight_in);
  check_plan_cuda_args(op, s, u_in);
  check_scan_out_dtype(op, out_dtype);
  const c10::cuda::CUDAGuard guard(u_in.device());
  const ScanTensors t(u_in, delta_in, A_in, B_in, C_in, D_in, bias_in, index_in, weight_in);
  const at::Tensor& u = t.u;
  const auto want = out_dtype.value_or(u.scalar_type());
  const auto odt = kernel_out_dtype(u.scalar_type(), want);
  at::Tensor y = at::empty({s.batch, s.dim, s.tokens}, u.options().dtype(odt));
  const PlanArgs p = make_args(t, s, delta_softplus);
  const dim3 grid(static_cast<unsigned>(s.dim), static_cast<unsigned>(s.batch));
  auto stream = c10::cuda::getCurrentCUDAStream();
  dispatch_in_out(u.scalar_type(), odt, [&](auto in_t, auto out_t) {
    using T = typename decltype(in_t)::type;
    using O = typename decltype(out_t)::type;
    const bool single = s.state == 1;
    if (const size_t warp_smem = warp_kernel_bytes(s); warp_smem > 0) {
      auto kernel = plan_fwd_warp_kernel<T, O>;
      allow_smem(kernel, warp_smem);
      kernel<<<grid, 32 * kPlanWarps, warp_smem, stream>>>(p, mptr<O>(y));
      C10_CUDA_KERNEL_LAUNCH_CHECK();
      return;
    }
    if (const size_t tile_smem = tile_bytes(s.tokens, s.length); tile_smem > 0) {
      auto kernel = single ? plan_fwd_tile_kernel<T, O, true> : plan_fwd_tile_kernel<T, O, false>;
      allow_smem(kernel, tile_smem);
      const dim3 tiles(static_cast<unsigned>((s.dim + kTile - 1) / kTile),
                       static_cast<unsigned>(s.batch));
      kernel<<<tiles, kTileThreads, tile_smem, stream>>>(p, mptr<O>(y));
      C10_CUDA_KERNEL_LAUNCH_CHECK();
      return;
    }
    with_block_size(s.length, 128 * kItems, [&](auto nt) {
      constexpr int NT = decltype(nt)::value;
      constexpr int64_t kChunk = NT * kItems;
      const int64_t chunks = (s.length + kChunk - 1) / kChunk;
      auto seg_kernel = single ? plan_segment_kernel<T, NT, true, false>
                               : plan_segment_kernel<T, NT, false, false>;
      // Only where a quarter of the GPU or less would be busy: the summary pass repeats the
      // gathers, and at B1 D192 512² (half busy) splitting was slower (6.4 vs 5.1 ms, H200).
      const int64_t segments =
          split_segments(s.batch * s.dim, chunks, resident_blocks(seg_kernel, NT, 0), 4);
      if (segments > 1) {
        const int64_t seg_len = (chunks + segments - 1) / segments * kChunk;
        const auto f32 = u.options().dtype(at::kFloat);
        at::Tensor summary = at::empty({s.batch * s.dim * s.groups, segments - 1, s.state + 1}, f32);
        at::Tensor acc = at::zeros({s.batch, s.dim, s.tokens}, f32);
        auto first = single ? plan_segment_kernel<T, NT, true, true>
                            : plan_segment_kernel<T, NT, false, true>;
        const dim3 first_grid(grid.x, grid.y, static_cast<unsigned>(s.groups * (segments - 1)));
        first<<<first_grid, NT, 0, stream>>>(p, 0, seg_len, segments, mptr<float>(summary),
                                             nullptr);
        C10_CUDA_KERNEL_LAUNCH_CHECK();
        const dim3 seg_grid(grid.x, grid.y, static_cast<unsigned>(segments));
        for (int64_t k = 0; k < s.groups; ++k) {
          seg_kernel<<<seg_grid, NT, 0, stream>>>(p, k, seg_len, segments, mptr<float>(summary),
                                                  mptr<float>(acc));
          C10_CUDA_KERNEL_LAUNCH_CHECK();
        }
        y = t.weight.defined() ? acc * t.weight : acc;
        return;
      }
      const size_t smem = staged_bytes(2, s.tokens, sizeof(ScanSmem<NT>));
      if (smem > 0) {
        auto kernel = single ? plan_fwd_kernel<T, O, NT, true, true>
                             : plan_fwd_kernel<T, O, NT, true, false>;
        allow_smem(kernel, smem);
        kernel<<<grid, NT, smem, stream>>>(p, mptr<O>(y), nullptr);
      } else {
        at::Tensor scratch =
            at::empty({s.batch * s.dim, padded_len(s.tokens)}, u.options().dtype(at::kFloat));
        auto kernel = single ? plan_fwd_kernel<T, O, NT, false, true>
                             : plan_fwd_kernel<T, O, NT, false, false>;
        kernel<<<grid, NT, 0, stream>>>(p, mptr<O>(y), mptr<float>(scratch));
      }
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    });
  });
  return y.to(want);
}

ScanGrads
selective_scan_plan_backward_cuda(const at::Tensor& dout_in, const at::Tensor& u_in,
                                  const at::Tensor& delta_in, const at::Tensor& A_in,
                                  const at::Tensor& B_in, const at::Tensor& C_in,
                                  const std::optional<at::Tensor>& D_in,
                                  const std::optional<at::Tensor>& bias_in,
                                  const at::Tensor& index_in,
                                  const std::optional<at::Tensor>& weight_in,
                                  bool delta_softplus) {
  constexpr const char* op = "vss::selective_scan_plan_backward";
  const ScanSizes s = check_selective_scan_plan_args(op, u_in, delta_in, A_in, B_in, C_in, D_in,
                                                     bias_in, index_in, weight_in);
  check_plan_cuda_args(op, s, u_in);
  check_scan_dout(op, dout_in, u_in.sizes(), u_in);
  const c10::cuda::CUDAGuard guard(u_in.device());
  const ScanTensors t(u_in, delta_in, A_in, B_in, C_in, D_in, bias_in, index_in, weight_in);
  const at::Tensor &u = t.u, &delta = t.delta, &B = t.B, &C = t.C, &D = t.D, &bias = t.bias;
  const at::Tensor dout = kernel_dout(dout_in, u);
  const auto f32 = u.options().dtype(at::kFloat);
  at::Tensor du = at::empty_like(u), ddelta = at::empty_like(delta);
  const ScanGradBuffers g(s.batch, s.channels, s.state, B);
  PlanArgs p = make_args(t, s, delta_softplus);
  auto stream = c10::cuda::getCurrentCUDAStream();
  dispatch_in_out(u.scalar_type(), dout.scalar_type(), [&](auto in_t, auto g_t) {
    using T = typename decltype(in_t)::type;
    using G = typename decltype(g_t)::type;
    with_block_size(s.length, 128 * kItems, [&](auto nt) {
      constexpr int NT = decltype(nt)::value;
      const int64_t chunks = (s.length + NT * kItems - 1) / (NT * kItems);
      at::Tensor chunk_state = at::empty({s.batch * s.dim, chunks, s.state}, f32);
      PlanBwdArgs o{mptr<float>(g.dA_part), mptr<float>(g.dB),         mptr<float>(g.dC),
                    mptr<float>(g.dD_part), mptr<float>(g.dbias_part), mptr<float>(chunk_state),
                    nullptr};
      const size_t static_bytes = sizeof(ScanSmem<NT>) + sizeof(float) * (kMaxN + 1) * (NT / 32);
      const bool single = s.state == 1;
      // N == 1: several d's per block through global scratch rows (dB/dC atomics / d's),
      // else one d per block, staged in shared memory when the rows fit.
      const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
      int dims = single ? kMaxDims : 1;
      while (dims > 1 && (s.dim % dims != 0 || s.batch * s.dim / dims < 8 * sms)) dims /= 2;
      const size_t smem = dims == 1 ? staged_bytes(4, s.tokens, static_bytes) : 0;
      p.block_dims = dims;
      const dim3 grid(static_cast<unsigned>(s.dim / dims), static_cast<unsigned>(s.batch));
      if (smem > 0) {
        auto kernel = single ? plan_bwd_kernel<T, G, NT, true, true>
                             : plan_bwd_kernel<T, G, NT, true, false>;
        allow_smem(kernel, smem);
        kernel<<<grid, NT, smem, stream>>>(p, cptr<G>(dout), mptr<T>(du), mptr<T>(ddelta), o);
      } else {
        at::Tensor scratch = at::empty({s.batch * s.dim, 2, padded_len(s.tokens)}, f32);
        o.scratch = mptr<float>(scratch);
        auto kernel = single ? plan_bwd_kernel<T, G, NT, false, true>
                             : plan_bwd_kernel<T, G, NT, false, false>;
        kernel<<<grid, NT, 0, stream>>>(p, cptr<G>(dout), mptr<T>(du), mptr<T>(ddelta), o);
      }
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    });
  });
  return g.finish(du, ddelta, B, C, D.defined(), bias.defined());
}

}  // namespace
}  // namespace vss::cuda

TORCH_LIBRARY_IMPL(vss, CUDA, m) {
  m.impl("selective_scan_plan", &vss::cuda::selective_scan_plan_cuda);
  m.impl("selective_scan_plan_backward", &vss::cuda::selective_scan_plan_backward_cuda);
}
