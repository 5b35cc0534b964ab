#pragma once
// Device building blocks shared by the plain and the plan-driven CUDA selective scans:
// softplus, and the block-wide scan
// of the linear recurrence h -> a·h + b across a chunk of the sequence.
//
// Layout of work: a block of NT threads walks one channel's sequence in chunks of
// NT·ITEMS steps; thread j owns the ITEMS consecutive steps j·ITEMS .. j·ITEMS+ITEMS-1 of a
// chunk, so its loads are contiguous (16-byte vectors where the row is aligned).
#include "kernels/cuda/element.cuh"
#include "kernels/scan_split.h"
#include "kernels/selective_scan_checks.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace vss::cuda {

// softplus as torch computes it (threshold 20: above it, the identity), with the fast
// exp/log; log(1 + e) ~ e·(1 - e/2) where 1 + e would round off e's digits. Both MUFU ops
// are written before the selects so that nvcc 13 keeps this branch-free (with the log inside
// the ternary it gave every item its own branch, which serialised a thread's ITEMS
// exp -> log chains in the scan kernels); past 20 the unused e, l may be inf.
__device__ __forceinline__ float softplus(float x) {
  const float e = __expf(x);
  const float l = __logf(1.f + e);
  const float r = e < 1e-3f ? e * (1.f - 0.5f * e) : l;
  return x > 20.f ? x : r;
}

// An affine map h -> a·h + b; the recurrence's steps compose as such maps.
struct Affine {
  float a, b;
};

// `first` applied, then `then`.
__device__ __forceinline__ Affine compose(Affine first, Affine then) {
  return {then.a * first.a, then.a * first.b + then.b};
}

// Scratch a block scan needs: one Affine per warp, double-buffered so that consecutive
// scans need a single barrier each.
template <int NT>
struct ScanSmem {
  Affine warp_total[2][NT / 32];
};

// Scan of the lanes' maps within each segment of kLanes lanes (the whole warp by default):
// returns the inclusive composition (the segment's lanes up to this one, or from this one to
// its end when kReverse) and sets `excl` to the exclusive one (identity at the segment's first
// lane). Segments of fewer lanes let one warp walk 32 / kLanes short rows side by side.
template <bool kReverse, int kLanes = 32>
__device__ __forceinline__ Affine warp_scan(Affine mine, Affine& excl) {
  static_assert(kLanes >= 1 && kLanes <= 32 && (kLanes & (kLanes - 1)) == 0, "kLanes: a power of 2 up to 32");
  const int sub = threadIdx.x & (kLanes - 1);
  Affine incl = mine;
#pragma unroll
  for (int off = 1; off < kLanes; off <<= 1) {
    Affine other;
    if constexpr (kReverse) {
      other.a = __shfl_down_sync(0xffffffffu, incl.a, off, kLanes);
      other.b = __shfl_down_sync(0xffffffffu, incl.b, off, kLanes);
      if (sub + off < kLanes) incl = compose(other, incl);
    } else {
      other.a = __shfl_up_sync(0xffffffffu, incl.a, off, kLanes);
      other.b = __shfl_up_sync(0xffffffffu, incl.b, off, kLanes);
      if (sub >= off) incl = compose(other, incl);
    }
  }
  if constexpr (kReverse) {
    excl.a = __shfl_down_sync(0xffffffffu, incl.a, 1, kLanes);
    excl.b = __shfl_down_sync(0xffffffffu, incl.b, 1, kLanes);
    if (sub == kLanes - 1) excl = {1.f, 0.f};
  } else {
    excl.a = __shfl_up_sync(0xffffffffu, incl.a, 1, kLanes);
    excl.b = __shfl_up_sync(0xffffffffu, incl.b, 1, kLanes);
    if (sub == 0) excl = {1.f, 0.f};
  }
  return incl;
}

// Block-wide exclusive scan of the threads' maps, seeded with the carried state `carry`.
// Forward (kReverse = false): threads in order 0..NT-1; returns the state entering this
// thread's steps, and sets `carry` to the state after the whole chunk. Reverse: threads in
// order NT-1..0 (for the adjoint recurrence, which runs backwards in time).
// Every thread computes the new carry itself, so it needs no broadcast. `parity` picks the
// scratch buffer; callers alternate it between consecutive scans.
template <int NT, bool kReverse>
__device__ __forceinline__ float block_scan(Affine mine, float& carry, ScanSmem<NT>& smem,
                                            int parity) {
  constexpr int kWarps = NT / 32;
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  Affine excl;
  const Affine incl = warp_scan<kReverse>(mine, excl);
  if (lane == (kReverse ? 0 : 31)) smem.warp_total[parity][warp] = incl;
  __syncthreads();
  float h = carry;
  float into_warp = carry;
#pragma unroll
  for (int s = 0; s < kWarps; ++s) {
    const int w = kReverse ? kWarps - 1 - s : s;
    if (w == warp) into_warp = h;
    const Affine t = smem.warp_total[parity][w];
    h = t.a * h + t.b;
  }
  carry = h;
  return excl.a * into_warp + excl.b;
}

// Deterministic block sum (fixed order), result valid in every thread. `smem` holds NT/32
// floats and may be reused after the call returns (a trailing barrier protects it).
template <int NT>
__device__ __forceinline__ float block_sum(float v, float* smem) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  if ((threadIdx.x & 31) == 0) smem[threadIdx.x >> 5] = v;
  __syncthreads();
  float total = 0.f;
#pragma unroll
  for (int w = 0; w < NT / 32; ++w) total += smem[w];
  __syncthreads();
  return total;
}

// ---- one chunk of the recurrence, shared by the plain and the plan-driven kernels ----------
// A thread's ITEMS steps start at step t of a sequence of L steps; steps at or past L are
// inert (identity map, no output). Loaders hide where B and C come from (a contiguous row, or
// gathered through a scan plan); load_BC(n, Bv, Cv) fills the thread's items of state n.

constexpr float kLog2e = 1.4426950408889634f;
constexpr int kMaxN = kMaxCudaScanState;  // per-thread carry arrays

template <int ITEMS>
__device__ __forceinline__ void apply_delta_transform(float (&dt)[ITEMS], float bias, bool sp) {
#pragma unroll
  for (int i = 0; i < ITEMS; ++i) dt[i] = sp ? softplus(dt[i] + bias) : dt[i] + bias;
}

// The step maps of one state: a = exp(Δ·A_n), b = Δ·B·u; identity past L.
template <int ITEMS>
__device__ __forceinline__ Affine step_maps(const float (&dt)[ITEMS], const float (&u)[ITEMS],
                                            const float (&Bv)[ITEMS], float An, int64_t t,
                                            int64_t L, float (&a)[ITEMS], float (&bx)[ITEMS]) {
  Affine mine{1.f, 0.f};
  const float An_log2 = An * kLog2e;
#pragma unroll
  for (int i = 0; i < ITEMS; ++i) {
    a[i] = t + i < L ? exp2f(dt[i] * An_log2) : 1.f;
    bx[i] = dt[i] * Bv[i] * u[i];
    mine = compose(mine, {a[i], bx[i]});
  }
  return mine;
}

// Forward: y[i] += Σ_n C·h over the chunk; carries[n] holds the state entering the chunk and
// leaves holding the state after it (each thread keeps its own identical copy).
template <int NT, int ITEMS, typename LoadBC>
__device__ __forceinline__ void forward_chunk(const float (&dt)[ITEMS], const float (&u)[ITEMS],
                                              int64_t t, int64_t L, const float* A_row, int N,
                                              float* carries, ScanSmem<NT>& smem, int& parity,
                                              LoadBC load_BC, float (&y)[ITEMS]) {
  for (int n = 0; n < N; ++n) {
    float Bv[ITEMS], Cv[ITEMS], a[ITEMS], bx[ITEMS];
    load_BC(n, Bv, Cv);
    const Affine mine = step_maps(dt, u, Bv, A_row[n], t, L, a, bx);
    float h = block_scan<NT, false>(mine, carries[n], smem, parity);
    parity ^= 1;
#pragma unroll
    for (int i = 0; i < ITEMS; ++i) {
      h = a[i] * h + bx[i];
      y[i] += Cv[i] * h;
    }
  }
}

// Only the carried states (the first pass of the backward): carries[n] advance over the chunk.
template <int NT, int ITEMS, typename LoadBC>
__device__ __forceinline__ void advance_chunk(const float (&dt)[ITEMS], const float (&u)[ITEMS],
                                              int64_t t, int64_t L, const float* A_row, int N,
                                              float* carries, ScanSmem<NT>& smem, int& parity,
                                              LoadBC load_BC) {
  for (int n = 0; n < N; ++n) {
    float Bv[ITEMS], Cv[ITEMS], a[ITEMS], bx[ITEMS];
    load_BC(n, Bv, Cv);
    block_scan<NT, false>(step_maps(dt, u, Bv, A_row[n], t, L, a, bx), carries[n], smem, parity);
    parity ^= 1;
  }
}

// Backward over one chunk, for upstream gradients g. entry_state(n): the forward state
// entering the chunk; z_carries[n]: the adjoint z = a·dL/dh entering from the right (updated).
// Adds into du[i] and ddt[i] (dL/dΔ), into dA_s[n][warp] (this warp's share of dA_n), and
// hands each step's dB, dC to add_dBC(n, i, dB, dC) (steps past L excluded).
template <int NT, int ITEMS, typename LoadBC, typename EntryState, typename AddBC>
__device__ __forceinline__ void backward_chunk(const float (&dt)[ITEMS], const float (&u)[ITEMS],
                                               const float (&g)[ITEMS], int64_t t, int64_t L,
                                               const float* A_row, int N, EntryState entry_state,
                                               float* z_carries, ScanSmem<NT>& smem, int& parity,
                                               LoadBC load_BC, AddBC add_dBC, float (&du)[ITEMS],
                                               float (&ddt)[ITEMS], float (*dA_s)[NT / 32]) {
  for (int n = 0; n < N; ++n) {
    const float An = A_row[n];
    float Bv[ITEMS], Cv[ITEMS], a[ITEMS], bx[ITEMS], hp[ITEMS];
    load_BC(n, Bv, Cv);
    const Affine mine = step_maps(dt, u, Bv, An, t, L, a, bx);
    float entry = entry_state(n);
    float h = block_scan<NT, false>(mine, entry, smem, parity);
    parity ^= 1;
    Affine rmine{1.f, 0.f};
#pragma unroll
    for (int i = 0; i < ITEMS; ++i) {
      hp[i] = h;  // state before step i
      h = a[i] * h + bx[i];
    }
    // The adjoint runs backwards: z_t = a_t·(C_t·g_t + z_{t+1}), dL/dh_t = C_t·g_t + z_{t+1}.
#pragma unroll
    for (int i = ITEMS - 1; i >= 0; --i) rmine = compose(rmine, {a[i], a[i] * Cv[i] * g[i]});
    float z = block_scan<NT, true>(rmine, z_carries[n], smem, parity);
    parity ^= 1;
    float dA = 0.f;
#pragma unroll
    for (int i = ITEMS - 1; i >= 0; --i) {
      const float x = Cv[i] * g[i] + z;  // dL/dh_t
      const float xa_hp = x * a[i] * hp[i];
      du[i] += x * dt[i] * Bv[i];
      ddt[i] += x * Bv[i] * u[i] + xa_hp * An;
      dA += xa_hp * dt[i];
      z = a[i] * x;
      if (t + i < L) add_dBC(n, i, x * dt[i] * u[i], g[i] * (a[i] * hp[i] + bx[i]));
    }
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) dA += __shfl_xor_sync(0xffffffffu, dA, off);
    if ((threadIdx.x & 31) == 0) dA_s[n][threadIdx.x >> 5] += dA;
  }
}

// dL/d(delta + bias) from dL/dΔ: times softplus' = sigmoid(x) = 1 - exp(-softplus(x)).
template <int ITEMS>
__device__ __forceinline__ void delta_transform_grad(const float (&dt)[ITEMS], bool sp,
                                                     float (&ddt)[ITEMS]) {
  if (!sp) return;
#pragma unroll
  for (int i = 0; i < ITEMS; ++i) ddt[i] *= -expm1f(-dt[i]);
}


// ---- sequence segments (kernels/scan_split.h) -------------------------------------------
// A segment summary is N + 1 floats: the state after the segment from a zero start, then
// Σ Δ over its steps (the segment maps h to exp(A_n·ΣΔ)·h + summary[n]).

// The state entering segment `seg` of a row whose summaries (segments 0..seg-1) start at
// `summary`; every thread computes it (a few dozen loads at most).
__device__ __forceinline__ void segment_entry_state(const float* __restrict__ summary,
                                                    int64_t seg, const float* A_row, int N,
                                                    float* carries) {
  for (int n = 0; n < N; ++n) carries[n] = 0.f;
  for (int64_t j = 0; j < seg; ++j) {
    const float* s = summary + j * (N + 1);
    for (int n = 0; n < N; ++n) carries[n] = exp2f(A_row[n] * kLog2e * s[N]) * carries[n] + s[n];
  }
}

// Blocks of `kernel` the whole GPU holds at once.
template <typename Kernel>
inline int64_t resident_blocks(Kernel kernel, int threads, size_t smem) {
  int device = 0, sms = 0, per_sm = 0;
  cudaGetDevice(&device);
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
  cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads, smem);
  return int64_t{sms} * std::max(per_sm, 1);
}

// Segments of whole chunks for `blocks` (batch × channel) blocks over `chunks` chunks: by
// default enough for two waves of the GPU where the blocks fill at most 1/starved_below of
// it, at most 64 (the entry-state loop is per thread). Never leaves the last segment empty.
inline int64_t split_segments(int64_t blocks, int64_t chunks, int64_t resident,
                              int64_t starved_below) {
  const int forced = vss::scan_split();
  int64_t want = forced > 0 ? forced
                 : forced == 0 && starved_below * blocks <= resident
                     ? (2 * resident + blocks - 1) / blocks
                     : 1;
  want = std::clamp<int64_t>(want, 1, std::min<int64_t>(chunks, 64));
  const int64_t per_segment = (chunks + want - 1) / want;
  return (chunks + per_segment - 1) / per_segment;
}

// Blocks of 128 threads for sequences of at most `short_max` steps (more blocks in flight),
// 256 for longer ones. Each op passes its own bound: 2048 for the plain op, one 128-thread
// chunk (128 · 8 steps) for the plan op.
template <typename F>
void with_block_size(int64_t L, int64_t short_max, F&& f) {
  if (L <= short_max) f(std::integral_constant<int, 128>{});
  else f(std::integral_constant<int, 256>{});
}

}  // namespace vss::cuda
