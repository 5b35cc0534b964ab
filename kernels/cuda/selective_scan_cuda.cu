// CUDA selective scan (vss::selective_scan / selective_scan_backward), VMamba layout:
// u, delta [B, K·D, L]; A [K·D, N]; B, C [B, K, N, L]; D, delta_bias [K·D].
//
// One block per (batch, channel) walks the sequence in chunks of NT·ITEMS steps; inside a
// chunk each thread composes its ITEMS steps into one affine map and a block scan gives
// every thread its entering state (cuda/selective_scan_common.cuh). With N = 1 (VMamba) and
// rows enough to fill the GPU, the forward runs a warp per row instead (no block barriers),
// and the backward a warp per 1-8 channels of a group.
// Where (batch, channel) blocks alone would leave the GPU idle, the forward also splits L
// into segments (a summary pass, then every segment from its composed entry state:
// scan_split.h). The forward is free of atomics (bit-identical reruns). The backward walks the
// chunks in reverse, recomputing the forward states of each chunk from the chunk-entry states that a first pass stores
// ([B·K·D, chunks, N] floats, not [L, N]). dB and dC sum over the D channels of a group:
// with N = 1 each block / warp stores its channels' sum and a second kernel adds those in a
// fixed order (bit-identical reruns); with N > 1 (a [B, D, N, L] buffer of partial sums would
// not fit) by float atomics, so reruns differ at rounding level. dA, dD and ddelta_bias are
// summed in a fixed order.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/selective_scan_common.cuh"
#include "kernels/selective_scan_checks.h"

#include <ATen/ATen.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include <optional>
#include <tuple>

namespace vss::cuda {
namespace {

// Items per thread: 8 (one or two 16-byte vectors of each input). 16 half-precision items
// needed ~160 registers a thread and ran 4x slower (notes: v2).
template <typename T>
constexpr int items_for() {
  return 8;
}

// Registers cap: at least kMinThreadsPerSM resident threads in the forward (memory latency
// needs them), 512 in the backward (about twice the live values: 128 registers).
constexpr int kMinThreadsPerSM = 768;

// Channels one block runs (sharing the B/C rows of their group): up to kMaxChannels when
// N == 1, so B and C are loaded once per chunk for all of them and the backward sums dB, dC
// over them in registers before one atomic add (atomics / kMaxChannels).
constexpr int kMaxChannels = 8;

struct ScanArgs {
  const void* u;
  const void* delta;
  const float* A;
  const void* B;
  const void* C;
  const float* D;           // may be null
  const float* delta_bias;  // may be null
  int64_t channels;         // K·D
  int64_t group_size;       // D: channels sharing one B/C group
  int64_t rows;             // batch·K·D
  int64_t groups;           // K
  int64_t N, L;
  int block_channels;       // channels per block (divides group_size; 1 unless N == 1)
  bool softplus;
  // Forward only: blockIdx.z runs steps [z·seg_len, (z+1)·seg_len) (a multiple of the
  // chunk), entering with the state composed from `summary` ([rows, segments - 1, N + 1],
  // scan_split.h); one segment (seg_len >= L, no summary) unless the sequence is split.
  int64_t seg_len;
  const float* summary;
};

// Per-block view of one (batch, channel) row.
template <typename T, int ITEMS>
struct Row {
  const T *u, *dt;
  const float* A;  // A[c, :]
  float Dc, bias;
  int64_t index;   // b·channels + c
  __device__ Row(const ScanArgs& p, int64_t b, int64_t c) {
    index = b * p.channels + c;
    u = static_cast<const T*>(p.u) + index * p.L;
    dt = static_cast<const T*>(p.delta) + index * p.L;
    A = p.A + c * p.N;
    Dc = p.D ? p.D[c] : 0.f;
    bias = p.delta_bias ? p.delta_bias[c] : 0.f;
  }
  __device__ void load_u_dt(const ScanArgs& p, int64_t t, float (&uv)[ITEMS],
                            float (&dtv)[ITEMS]) const {
    load_items<ITEMS>(u, t, p.L, uv);
    load_items<ITEMS>(dt, t, p.L, dtv);
    apply_delta_transform(dtv, bias, p.softplus);
  }
};

// The B and C rows of the block's group, with the N == 1 rows cached per chunk.
template <typename T, int ITEMS, bool kSingle>
struct GroupRows {
  const T *B, *C;  // row of state 0; state n is n·L further
  int64_t offset;  // of B[b, k, 0, 0]
  float Bc[ITEMS], Cc[ITEMS];
  __device__ GroupRows(const ScanArgs& p, int64_t b, int64_t c0) {
    offset = (b * p.groups + c0 / p.group_size) * p.N * p.L;
    B = static_cast<const T*>(p.B) + offset;
    C = static_cast<const T*>(p.C) + offset;
  }
  __device__ void cache(const ScanArgs& p, int64_t t) {
    if (!kSingle) return;
    load_items<ITEMS>(B, t, p.L, Bc);
    load_items<ITEMS>(C, t, p.L, Cc);
  }
  // The thread's items of B and C for state n, from step t.
  __device__ auto loader(const ScanArgs& p, int64_t t) const {
    return [this, &p, t](int n, float (&Bv)[ITEMS], float (&Cv)[ITEMS]) {
      if (kSingle) {
#pragma unroll
        for (int i = 0; i < ITEMS; ++i) Bv[i] = Bc[i], Cv[i] = Cc[i];
      } else {
        load_items<ITEMS>(B + n * p.L, t, p.L, Bv);
        load_items<ITEMS>(C + n * p.L, t, p.L, Cv);
      }
    };
  }
};

// kSingle: N == 1 known at compile time (VMamba), which frees the per-state loop's registers.
// kSummary: the first pass of a split sequence (scan_split.h): blockIdx.z runs over all
// segments but the last, each from a zero state, and writes summary[row, z, :] (end state,
// Σ Δ) for the block's channels instead of outputs.
template <typename T, typename O, int NT, bool kSingle, bool kSummary = false>
__global__ void __launch_bounds__(NT, kMinThreadsPerSM / NT)
    scan_fwd_kernel(ScanArgs p, O* __restrict__ out, float* __restrict__ last_state) {
  constexpr int ITEMS = items_for<T>();
  const int N = kSingle ? 1 : static_cast<int>(p.N);
  constexpr int kChunk = NT * ITEMS;
  __shared__ ScanSmem<NT> smem;
  const int64_t b = blockIdx.y, c0 = int64_t{blockIdx.x} * p.block_channels;
  const int64_t seg = blockIdx.z, t_end = std::min(p.L, (seg + 1) * p.seg_len);
  const int64_t summaries = kSummary ? gridDim.z : gridDim.z - 1;  // per row
  GroupRows<T, ITEMS, kSingle> g(p, b, c0);
  // Every thread computes the same carried states, so each keeps its own copy (no barrier);
  // channel j's state n is carries[j·N + n].
  float carries[kMaxN], dt_sum[kMaxChannels];
  for (int j = 0; j < p.block_channels; ++j) {
    const int64_t row = b * p.channels + c0 + j;
    dt_sum[j] = 0.f;
    if (kSummary || seg == 0) {
      for (int n = 0; n < N; ++n) carries[j * N + n] = 0.f;
    } else {
      segment_entry_state(p.summary + row * summaries * (N + 1), seg, p.A + (c0 + j) * N, N,
                          carries + j * N);
    }
  }
  int parity = 0;
  for (int64_t t0 = seg * p.seg_len; t0 < t_end; t0 += kChunk) {
    const int64_t t = t0 + threadIdx.x * ITEMS;
    g.cache(p, t);
    for (int j = 0; j < p.block_channels; ++j) {
      const Row<T, ITEMS> r(p, b, c0 + j);
      float u[ITEMS], dt[ITEMS];
      r.load_u_dt(p, t, u, dt);
      if constexpr (kSummary) {
        advance_chunk<NT>(dt, u, t, p.L, r.A, N, carries + j * N, smem, parity, g.loader(p, t));
#pragma unroll
        for (int i = 0; i < ITEMS; ++i)
          if (t + i < p.L) dt_sum[j] += dt[i];
      } else {
        float y[ITEMS];
#pragma unroll
        for (int i = 0; i < ITEMS; ++i) y[i] = r.Dc * u[i];
        forward_chunk<NT>(dt, u, t, p.L, r.A, N, carries + j * N, smem, parity,
                          g.loader(p, t), y);
        store_items<ITEMS>(out + r.index * p.L, t, p.L, y);
      }
    }
  }
  if constexpr (kSummary) {
    __shared__ float red_s[NT / 32];
    for (int j = 0; j < p.block_channels; ++j) {
      const float total = block_sum<NT>(dt_sum[j], red_s);
      float* dst = last_state + ((b * p.channels + c0 + j) * summaries + seg) * (N + 1);
      if (threadIdx.x == 0) {
        for (int n = 0; n < N; ++n) dst[n] = carries[j * N + n];
        dst[N] = total;
      }
    }
  } else if (last_state && seg + 1 == gridDim.z && threadIdx.x == 0) {
    for (int i = 0; i < p.block_channels * N; ++i)
      last_state[(b * p.channels + c0) * N + i] = carries[i];
  }
}

// Lanes a row of L steps takes in the N == 1 warp kernels (ITEMS steps a lane): the fewest of
// 8, 16, 32 whose tile covers L, else 32. Short rows (VMamba's last stages: L = 49) then share
// a warp instead of leaving most of its lanes idle. The forward's checkpoints and the
// backward's tiles use the same count: one function decides it.
template <int ITEMS>
constexpr int warp_lanes_for(int64_t L) {
  return L <= 8 * ITEMS ? 8 : L <= 16 * ITEMS ? 16 : 32;
}

// Steps in one tile of the N == 1 warp kernels.
template <typename T>
constexpr int64_t warp_tile_steps(int lanes) {
  return lanes * static_cast<int64_t>(16 / sizeof(T));
}

template <typename T, typename F>
void with_warp_lanes(int64_t L, F&& f) {
  switch (warp_lanes_for<16 / sizeof(T)>(L)) {
    case 8: return f(std::integral_constant<int, 8>{});
    case 16: return f(std::integral_constant<int, 16>{});
    default: return f(std::integral_constant<int, 32>{});
  }
}

// One row as a warp kernel walks it: the offsets of its u / Δ / out row (row·L, row = b·channels
// + c) and of its B/C group row ((b·K + c / D)·L, which is (row / D)·L), and channel c's A, D
// and Δ bias, read when the row is set up (a step ahead of its use: on the carried state's
// path they would add a load latency to every tile). `live` is false for the padding rows of
// a warp's last group; their loads read nothing and their results are dropped.
// 32-bit indices (rows < 2^31, checked on the host): the kernel holds two of these (the
// current row and the next one, whose loads are in flight) within its register budget.
struct WarpRow {
  uint32_t row, group;
  float A, Dc, bias;
  bool live;
  __device__ WarpRow(const ScanArgs& p, int64_t r, int64_t rows) {
    live = r < rows;
    row = live ? static_cast<uint32_t>(r) : 0u;
    group = row / static_cast<uint32_t>(p.group_size);
    const uint32_t c = row % static_cast<uint32_t>(p.channels);
    A = p.A[c];
    Dc = p.D ? p.D[c] : 0.f;
    bias = p.delta_bias ? p.delta_bias[c] : 0.f;
  }
  __device__ int64_t base(int64_t L) const { return int64_t{row} * L; }
  __device__ int64_t group_base(int64_t L) const { return int64_t{group} * L; }
};

// N == 1 forward, a warp per row group and no block barriers. A row takes kLanes lanes
// (warp_lanes_for), so a warp walks 32 / kLanes rows side by side, in tiles of kLanes x ITEMS
// steps (one 16-byte vector of each input a lane): a segmented warp scan composes each row's
// tile and the row's last lane carries its state into the next tile. A warp walks row groups
// gridDim.x·kWarps apart, tile after tile, the next step's four 16-byte loads issued before
// the current one is scanned (bf16 at 56x56, B128: 0.995 -> 0.610 ms): the carried state
// serialises a row, so without that every tile waits for its own loads, and a short row (one
// tile) would pay a whole load latency per warp. Where `checkpoints` is given it gets the
// state entering every tile ([rows, tiles]), which spares the backward its first pass.
// Rows of fewer lanes get 128 registers (512 threads an SM): under the 768-thread bound they
// spilled about 100 bytes a thread.
template <typename T, typename O, int kWarps, int kLanes>
__global__ void __launch_bounds__(kWarps * 32, (kLanes == 32 ? kMinThreadsPerSM : 512) / (kWarps * 32))
    scan_fwd_warp_kernel(ScanArgs p, O* __restrict__ out, float* __restrict__ last_state,
                         float* __restrict__ checkpoints) {
  constexpr int ITEMS = 16 / sizeof(T);
  constexpr int kTile = kLanes * ITEMS, kSide = 32 / kLanes;
  const int lane = threadIdx.x & 31, sub = lane % kLanes;
  const int64_t rows = p.rows, tiles = (p.L + kTile - 1) / kTile;
  const int64_t groups = (rows + kSide - 1) / kSide, stride = int64_t{gridDim.x} * kWarps;
  int64_t group = int64_t{blockIdx.x} * kWarps + (threadIdx.x >> 5);
  if (group >= groups) return;  // a whole warp: the shuffles below stay full-warp
  const T* U = static_cast<const T*>(p.u);
  const T* Dt = static_cast<const T*>(p.delta);
  const T* Bs = static_cast<const T*>(p.B);
  const T* Cs = static_cast<const T*>(p.C);
  // Lanes whose ITEMS steps are one aligned vector inside a live row take them from `raw`,
  // loaded a step ahead; the rest (a ragged last tile, unaligned rows) load at use.
  uint4 raw[4] = {};  // u, Δ, B, C
  bool raw_ok = false;
  auto fetch = [&](const WarpRow& r, int64_t t) {
    const T *u = U + r.base(p.L) + t, *dt = Dt + r.base(p.L) + t;
    const T *b = Bs + r.group_base(p.L) + t, *c = Cs + r.group_base(p.L) + t;
    const auto addr = reinterpret_cast<uintptr_t>(u) | reinterpret_cast<uintptr_t>(dt) |
                      reinterpret_cast<uintptr_t>(b) | reinterpret_cast<uintptr_t>(c);
    raw_ok = r.live && t + ITEMS <= p.L && (addr & 15) == 0;
    if (!raw_ok) return;
    raw[0] = *reinterpret_cast<const uint4*>(u);
    raw[1] = *reinterpret_cast<const uint4*>(dt);
    raw[2] = *reinterpret_cast<const uint4*>(b);
    raw[3] = *reinterpret_cast<const uint4*>(c);
  };
  WarpRow cur(p, group * kSide + lane / kLanes, rows), next = cur;
  int64_t tile = 0;
  fetch(cur, sub * ITEMS);
  float carry = 0.f;
  for (;;) {
    const int64_t t = tile * kTile + sub * ITEMS, len = cur.live ? p.L : 0;
    float u[ITEMS], dt[ITEMS], Bv[ITEMS], Cv[ITEMS], a[ITEMS], bx[ITEMS], y[ITEMS];
    if (raw_ok) {
      unpack_vector<T>(raw[0], u);
      unpack_vector<T>(raw[1], dt);
      unpack_vector<T>(raw[2], Bv);
      unpack_vector<T>(raw[3], Cv);
    } else {
      load_items<ITEMS>(U + cur.base(p.L), t, len, u);
      load_items<ITEMS>(Dt + cur.base(p.L), t, len, dt);
      load_items<ITEMS>(Bs + cur.group_base(p.L), t, len, Bv);
      load_items<ITEMS>(Cs + cur.group_base(p.L), t, len, Cv);
    }
    // The next step: this row group's next tile, or the first tile of the warp's next group.
    const bool row_ends = tile + 1 == tiles;
    const int64_t next_group = row_ends ? group + stride : group, next_tile = row_ends ? 0 : tile + 1;
    if (next_group < groups) {
      if (row_ends) next = WarpRow(p, next_group * kSide + lane / kLanes, rows);
      fetch(next, next_tile * kTile + sub * ITEMS);
    }
    apply_delta_transform(dt, cur.bias, p.softplus);
    if (checkpoints && sub == 0 && cur.live) checkpoints[int64_t{cur.row} * tiles + tile] = carry;
    Affine excl;
    warp_scan<false, kLanes>(step_maps(dt, u, Bv, cur.A, t, p.L, a, bx), excl);
    float h = excl.a * carry + excl.b;
#pragma unroll
    for (int i = 0; i < ITEMS; ++i) {
      h = a[i] * h + bx[i];
      y[i] = cur.Dc * u[i] + Cv[i] * h;
    }
    carry = __shfl_sync(0xffffffffu, h, kLanes - 1, kLanes);  // steps past L are identity maps
    store_items<ITEMS>(out + cur.base(p.L), t, len, y);
    if (row_ends) {
      if (last_state && sub == 0 && cur.live) last_state[cur.row] = carry;
      carry = 0.f;
    }
    if (next_group >= groups) break;
    group = next_group;
    tile = next_tile;
    cur = next;
  }
}

struct BwdArgs {
  float* dA_part;      // [B, K·D, N]: per batch row, summed over batches on the host
  float* dB;           // [B, K, N, L] float32, accumulated with atomics (N > 1)
  float* dC;           // [B, K, N, L] float32, accumulated with atomics (N > 1)
  float* dD_part;      // [B, K·D]
  float* dbias_part;   // [B, K·D]
  float* chunk_state;  // [B·K·D, chunks, N]: state entering each chunk (chunk 0 unused)
  // N == 1 warp kernel: the forward's checkpoints ([B·K·D, tiles], the state entering each
  // tile) when it kept them; chunk_state is then unused.
  const float* checkpoints;
  // N == 1: dB, dC of each block / warp of a group ("slot": its channels c0 .. c0 + nc - 1)
  // [B, K, slots, L], plain stores that sum_slots_kernel reduces in slot order afterwards, so
  // reruns give bit-identical gradients (float atomics add in arrival order).
  float* dB_part;
  float* dC_part;
};

// Slot row of the N == 1 partial sums for channels c0 .. c0 + block_channels - 1 of batch b.
__device__ __forceinline__ int64_t slot_row(const ScanArgs& p, int64_t b, int64_t c0) {
  const int64_t slots = p.group_size / p.block_channels;
  return ((b * p.groups + c0 / p.group_size) * slots + (c0 % p.group_size) / p.block_channels) * p.L;
}

// out[r, t] = Σ_s part[r, s, t] over s = 0 .. slots-1 in order: the dB / dC of N == 1.
__global__ void sum_slots_kernel(const float* __restrict__ part, float* __restrict__ out, int64_t rows,
                                 int64_t slots, int64_t L) {
  const int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  if (i >= rows * L) return;
  const float* src = part + (i / L) * slots * L + i % L;
  float s = 0.f;
  for (int64_t k = 0; k < slots; ++k) s += src[k * L];
  out[i] = s;
}

template <typename T, typename G, int NT, bool kSingle>
__global__ void __launch_bounds__(NT, 512 / NT)
    scan_bwd_kernel(ScanArgs p, const G* __restrict__ dout, T* __restrict__ du,
                    T* __restrict__ ddelta, BwdArgs o) {
  constexpr int ITEMS = items_for<T>();
  const int N = kSingle ? 1 : static_cast<int>(p.N);
  constexpr int kChunk = NT * ITEMS;
  constexpr int kWarps = NT / 32;
  __shared__ ScanSmem<NT> smem;
  __shared__ float dA_s[kMaxN][kWarps];  // channel j's state n at [j·N + n]
  __shared__ float red_s[kWarps];
  const int64_t b = blockIdx.y, c0 = int64_t{blockIdx.x} * p.block_channels;
  const int64_t first_row = b * p.channels + c0;
  const int rows = p.block_channels * N;  // (channel, state) pairs of the block
  GroupRows<T, ITEMS, kSingle> gr(p, b, c0);
  const int64_t chunks = (p.L + kChunk - 1) / kChunk;
  // Channel j's chunk-entry states: state_row + j·chunks·N.
  float* state_row = o.chunk_state + first_row * chunks * N;
  int parity = 0;

  // Pass 1: the state entering each chunk (only chunks 1.. need one).
  float carries[kMaxN];
  for (int i = 0; i < rows; ++i) carries[i] = 0.f;
  for (int64_t ch = 0; ch + 1 < chunks; ++ch) {
    const int64_t t = ch * kChunk + threadIdx.x * ITEMS;
    gr.cache(p, t);
    for (int j = 0; j < p.block_channels; ++j) {
      const Row<T, ITEMS> r(p, b, c0 + j);
      float u[ITEMS], dt[ITEMS];
      r.load_u_dt(p, t, u, dt);
      advance_chunk<NT>(dt, u, t, p.L, r.A, N, carries + j * N, smem, parity,
                        gr.loader(p, t));
      if (threadIdx.x == 0)
        for (int n = 0; n < N; ++n)
          state_row[(j * chunks + ch + 1) * N + n] = carries[j * N + n];
    }
  }

  // Pass 2: chunks in reverse, the adjoint carried from the right.
  for (int i = 0; i < rows; ++i) carries[i] = 0.f;
  for (int i = threadIdx.x; i < kMaxN * kWarps; i += NT) dA_s[i / kWarps][i % kWarps] = 0.f;
  __syncthreads();  // publishes state_row (written by thread 0) and the zeroed dA_s
  float dD_acc[kMaxChannels], dbias_acc[kMaxChannels];
  for (int j = 0; j < p.block_channels; ++j) dD_acc[j] = dbias_acc[j] = 0.f;
  for (int64_t ch = chunks - 1; ch >= 0; --ch) {
    const int64_t t = ch * kChunk + threadIdx.x * ITEMS;
    gr.cache(p, t);
    // dB, dC of this chunk summed over the block's channels (N == 1), else added directly.
    float dB_sum[ITEMS], dC_sum[ITEMS];
#pragma unroll
    for (int i = 0; i < ITEMS; ++i) dB_sum[i] = dC_sum[i] = 0.f;
    for (int j = 0; j < p.block_channels; ++j) {
      const Row<T, ITEMS> r(p, b, c0 + j);
      float u[ITEMS], dt[ITEMS], g[ITEMS], du_acc[ITEMS], ddt[ITEMS];
      r.load_u_dt(p, t, u, dt);
      load_items<ITEMS>(dout + r.index * p.L, t, p.L, g);
#pragma unroll
      for (int i = 0; i < ITEMS; ++i) {
        du_acc[i] = r.Dc * g[i];
        ddt[i] = 0.f;
        dD_acc[j] += g[i] * u[i];
      }
      auto entry_state = [&](int n) {
        return ch == 0 ? 0.f : state_row[(j * chunks + ch) * N + n];
      };
      auto add_dBC = [&](int n, int i, float dBv, float dCv) {
        if (kSingle) {
          dB_sum[i] += dBv, dC_sum[i] += dCv;
        } else {
          atomicAdd(o.dB + gr.offset + n * p.L + t + i, dBv);
          atomicAdd(o.dC + gr.offset + n * p.L + t + i, dCv);
        }
      };
      backward_chunk<NT>(dt, u, g, t, p.L, r.A, N, entry_state, carries + j * N, smem,
                         parity, gr.loader(p, t), add_dBC, du_acc, ddt, dA_s + j * N);
      delta_transform_grad(dt, p.softplus, ddt);
#pragma unroll
      for (int i = 0; i < ITEMS; ++i)
        if (t + i < p.L) dbias_acc[j] += ddt[i];
      store_items<ITEMS>(du + r.index * p.L, t, p.L, du_acc);
      store_items<ITEMS>(ddelta + r.index * p.L, t, p.L, ddt);
    }
    if (kSingle) {
      store_items<ITEMS>(o.dB_part + slot_row(p, b, c0), t, p.L, dB_sum);
      store_items<ITEMS>(o.dC_part + slot_row(p, b, c0), t, p.L, dC_sum);
    }
  }
  for (int j = 0; j < p.block_channels; ++j) {
    const float dD_sum = block_sum<NT>(dD_acc[j], red_s);
    const float dbias_sum = block_sum<NT>(dbias_acc[j], red_s);
    if (threadIdx.x == 0) {
      o.dD_part[first_row + j] = dD_sum;
      o.dbias_part[first_row + j] = dbias_sum;
    }
  }
  if (threadIdx.x < rows) {  // dA_s is complete: block_sum's barriers came after the last add
    float s = 0.f;
    for (int w = 0; w < kWarps; ++w) s += dA_s[threadIdx.x][w];
    o.dA_part[first_row * N + threadIdx.x] = s;
  }
}

// N == 1 backward with one warp per p.block_channels channels of a group and no block
// barriers (the block kernel above spends two block scans, each with a barrier, per channel
// and chunk, and at L = 3136 leaves a quarter of its 512 threads idle). A channel's row takes
// kLanes lanes as in the forward (warp_lanes_for), so the warp runs 32 / kLanes of its channels
// side by side, in tiles of kLanes x ITEMS steps. The state entering every tile comes from the
// forward's checkpoints, or else from a first pass (re-reading u, Δ, B); then tiles in reverse
// recompute their forward states from it (a segmented warp scan) and run the adjoint (a
// reverse one). The channels share the tile's B and C rows and sum their dB, dC in registers
// and then across the warp's sides, before one store per step; dA, dD and ddelta_bias gather
// per lane in shared memory and are reduced in a fixed order at the end. Values carried from
// tile to tile (forward state, adjoint) are the same in every lane of a channel: kept in
// shared memory, written by the channel's first lane. As in the forward, the next (tile,
// channels)' 16-byte loads of u, Δ (and dout) are issued before the current ones compute.
// Rows of fewer lanes get up to 168 registers (384 threads an SM): under 128 they spilled.
template <typename T, typename G, int kWarps, int kLanes>
__global__ void __launch_bounds__(kWarps * 32, (kLanes == 32 ? 512 : 384) / (kWarps * 32))
    scan_bwd_warp_kernel(ScanArgs p, const G* __restrict__ dout, T* __restrict__ du,
                         T* __restrict__ ddelta, BwdArgs o) {
  constexpr int ITEMS = 16 / sizeof(T);
  constexpr int kTile = kLanes * ITEMS, kSide = 32 / kLanes;
  constexpr unsigned kFull = 0xffffffffu;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, sub = lane % kLanes, side = lane / kLanes;
  const int nc = p.block_channels;
  const int64_t b = blockIdx.y, c0 = (int64_t{blockIdx.x} * kWarps + warp) * nc;
  if (c0 >= p.channels) return;  // a whole warp: the shuffles below stay full-warp
  const int64_t first_row = b * p.channels + c0, tiles = (p.L + kTile - 1) / kTile;
  const int64_t group_row = (b * p.groups + c0 / p.group_size) * p.L;
  const T* B_row = static_cast<const T*>(p.B) + group_row;
  const T* C_row = static_cast<const T*>(p.C) + group_row;
  const float* entry_in = o.checkpoints ? o.checkpoints + first_row * tiles : nullptr;
  float* entry = o.chunk_state + first_row * tiles;  // channel j's tile t: entry[j·tiles + t]
  if (entry_in) entry = const_cast<float*>(entry_in);  // read only: the first pass is skipped
  __shared__ float carry_s[kWarps][kMaxChannels];       // forward state, then the adjoint
  __shared__ float part_s[kWarps][3][kMaxChannels][32];  // per lane: dA, dD, ddelta_bias
  float* carry = carry_s[warp];
  float (*part)[kMaxChannels][32] = part_s[warp];
  for (int j = 0; j < nc; ++j) {
    for (int q = 0; q < 3; ++q) part[q][j][lane] = 0.f;
    if (lane == 0) carry[j] = 0.f;
  }
  __syncwarp();

  // This lane's channel in the side-by-side step j0: j0 + side (dead past nc: its loads read
  // nothing, its results are dropped, its reads of shared values go to channel 0).
  struct Lane {
    int j;
    bool live;
    uint32_t index;  // row b·channels + c (rows < 2^31, checked on the host)
    float A, Dc, bias;
  };
  auto lane_of = [&](int j0) {
    Lane l;
    l.live = j0 + side < nc;
    l.j = l.live ? j0 + side : 0;
    l.index = static_cast<uint32_t>(first_row + l.j);
    const int64_t c = c0 + l.j;
    l.A = p.A[c];
    l.Dc = p.D ? p.D[c] : 0.f;
    l.bias = p.delta_bias ? p.delta_bias[c] : 0.f;
    return l;
  };
  // Lanes whose ITEMS steps are one aligned 16-byte vector of each row take them from `raw`,
  // loaded one step ahead; the rest (ragged last tile, unaligned rows) load at use.
  constexpr bool kRawDout = sizeof(G) == sizeof(T);  // dout in one vector too
  uint4 raw[3] = {};                                 // u, Δ, dout
  bool raw_ok = false;
  auto fetch = [&](int64_t tile, int j0, bool with_dout) {
    raw_ok = false;
    if (tile < 0 || tile >= tiles || j0 + side >= nc) return;
    const int64_t index = first_row + j0 + side, t = tile * kTile + sub * ITEMS;
    const T* u = static_cast<const T*>(p.u) + index * p.L + t;
    const T* dt = static_cast<const T*>(p.delta) + index * p.L + t;
    const G* g = dout + index * p.L + t;
    const bool dout_raw = with_dout && kRawDout;
    const auto addr = reinterpret_cast<uintptr_t>(u) | reinterpret_cast<uintptr_t>(dt) |
                      (dout_raw ? reinterpret_cast<uintptr_t>(g) : 0);
    if (t + ITEMS > p.L || (addr & 15) != 0) return;
    raw_ok = true;
    raw[0] = *reinterpret_cast<const uint4*>(u);
    raw[1] = *reinterpret_cast<const uint4*>(dt);
    if (dout_raw) raw[2] = *reinterpret_cast<const uint4*>(g);
  };
  // u and Δ (transformed) of the lane's row from step t: from `raw` when it holds them.
  auto take_u_dt = [&](const Lane& l, int64_t t, float (&u)[ITEMS], float (&dt)[ITEMS]) {
    if (raw_ok) {
      unpack_vector<T>(raw[0], u);
      unpack_vector<T>(raw[1], dt);
    } else {
      const int64_t len = l.live ? p.L : 0;
      load_items<ITEMS>(static_cast<const T*>(p.u) + int64_t{l.index} * p.L, t, len, u);
      load_items<ITEMS>(static_cast<const T*>(p.delta) + int64_t{l.index} * p.L, t, len, dt);
    }
    apply_delta_transform(dt, l.bias, p.softplus);
  };

  // Pass 1 (no checkpoints): the state entering tiles 1.. of each channel.
  if (!entry_in && tiles > 1) {
    fetch(0, 0, false);
    for (int64_t tile = 0; tile + 1 < tiles; ++tile) {
      const int64_t t = tile * kTile + sub * ITEMS;
      float Bv[ITEMS];
      load_items<ITEMS>(B_row, t, p.L, Bv);
      for (int j0 = 0; j0 < nc; j0 += kSide) {
        const Lane l = lane_of(j0);
        float u[ITEMS], dt[ITEMS], a[ITEMS], bx[ITEMS];
        take_u_dt(l, t, u, dt);
        if (j0 + kSide < nc) fetch(tile, j0 + kSide, false);
        else if (tile + 2 < tiles) fetch(tile + 1, 0, false);
        Affine excl;
        const Affine incl = warp_scan<false, kLanes>(step_maps(dt, u, Bv, l.A, t, p.L, a, bx), excl);
        const float h = __shfl_sync(kFull, incl.a, kLanes - 1, kLanes) * carry[l.j] +
                        __shfl_sync(kFull, incl.b, kLanes - 1, kLanes);
        __syncwarp();  // every lane has read carry[j]
        if (sub == 0 && l.live) carry[l.j] = entry[l.j * tiles + tile + 1] = h;
        __syncwarp();
      }
    }
  }

  // Pass 2: tiles in reverse; carry[j] now holds the adjoint z entering from the right.
  for (int j = 0; j < nc; ++j)
    if (lane == 0) carry[j] = 0.f;
  __syncwarp();
  fetch(tiles - 1, 0, true);
  for (int64_t tile = tiles - 1; tile >= 0; --tile) {
    const int64_t t = tile * kTile + sub * ITEMS;
    float Bv[ITEMS], Cv[ITEMS], dB_sum[ITEMS], dC_sum[ITEMS];
    load_items<ITEMS>(B_row, t, p.L, Bv);
    load_items<ITEMS>(C_row, t, p.L, Cv);
#pragma unroll
    for (int i = 0; i < ITEMS; ++i) dB_sum[i] = dC_sum[i] = 0.f;
    for (int j0 = 0; j0 < nc; j0 += kSide) {
      const Lane l = lane_of(j0);
      const int64_t len = l.live ? p.L : 0;
      float u[ITEMS], dt[ITEMS], g[ITEMS], a[ITEMS], h[ITEMS];
      if (kRawDout && raw_ok) unpack_vector<G>(raw[2], g);
      else load_items<ITEMS>(dout + int64_t{l.index} * p.L, t, len, g);
      take_u_dt(l, t, u, dt);
      if (j0 + kSide < nc) fetch(tile, j0 + kSide, true);
      else fetch(tile - 1, 0, true);
      // Forward states: h[i] after step i, h0 before the lane's first step.
      Affine excl;
      warp_scan<false, kLanes>(step_maps(dt, u, Bv, l.A, t, p.L, a, h), excl);
      const float h0 = excl.a * (tile == 0 ? 0.f : entry[l.j * tiles + tile]) + excl.b;
      float hs = h0;
#pragma unroll
      for (int i = 0; i < ITEMS; ++i) h[i] = hs = a[i] * hs + h[i];
      // The adjoint runs backwards: z_t = a_t·(C_t·g_t + z_{t+1}), dL/dh_t = C_t·g_t + z_{t+1}.
      Affine rmine{1.f, 0.f};
#pragma unroll
      for (int i = ITEMS - 1; i >= 0; --i) rmine = compose(rmine, {a[i], a[i] * Cv[i] * g[i]});
      Affine rexcl;
      const Affine rincl = warp_scan<true, kLanes>(rmine, rexcl);
      const float z_in = carry[l.j];
      float z = rexcl.a * z_in + rexcl.b;
      float dA = 0.f, dD = 0.f, dbias = 0.f;
#pragma unroll
      for (int i = ITEMS - 1; i >= 0; --i) {
        const float x = Cv[i] * g[i] + z;  // dL/dh_t
        const float xa_hp = x * a[i] * (i > 0 ? h[i - 1] : h0);
        const bool live = l.live && t + i < p.L;
        if (live) {
          dB_sum[i] += x * dt[i] * u[i];
          dC_sum[i] += g[i] * h[i];
          dD += g[i] * u[i];
        }
        dA += xa_hp * dt[i];
        float ddt = x * Bv[i] * u[i] + xa_hp * l.A;
        if (p.softplus) ddt *= -expm1f(-dt[i]);  // times softplus' (delta_transform_grad)
        if (live) dbias += ddt;
        u[i] = l.Dc * g[i] + x * dt[i] * Bv[i];  // u[i] is spent: du
        dt[i] = ddt;
        z = a[i] * x;
      }
      store_items<ITEMS>(du + int64_t{l.index} * p.L, t, len, u);
      store_items<ITEMS>(ddelta + int64_t{l.index} * p.L, t, len, dt);
      if (l.live) {
        part[0][l.j][lane] += dA;
        part[1][l.j][lane] += dD;
        part[2][l.j][lane] += dbias;
      }
      const float z_out = __shfl_sync(kFull, rincl.a, 0, kLanes) * z_in + __shfl_sync(kFull, rincl.b, 0, kLanes);
      __syncwarp();  // every lane has read carry[j]
      if (sub == 0 && l.live) carry[l.j] = z_out;
      __syncwarp();
    }
    // The warp's sides ran different channels over the same steps: their sums add up.
#pragma unroll
    for (int off = kLanes; off < 32; off <<= 1)
#pragma unroll
      for (int i = 0; i < ITEMS; ++i) {
        dB_sum[i] += __shfl_xor_sync(kFull, dB_sum[i], off);
        dC_sum[i] += __shfl_xor_sync(kFull, dC_sum[i], off);
      }
    if (side == 0) {
      store_items<ITEMS>(o.dB_part + slot_row(p, b, c0), t, p.L, dB_sum);
      store_items<ITEMS>(o.dC_part + slot_row(p, b, c0), t, p.L, dC_sum);
    }
  }
  __syncwarp();
  for (int j = 0; j < nc; ++j) {
    float v[3];
    for (int q = 0; q < 3; ++q) {
      v[q] = part[q][j][lane];
#pragma unroll
      for (int off = 16; off > 0; off >>= 1) v[q] += __shfl_xor_sync(kFull, v[q], off);
    }
    if (lane == 0) {
      o.dA_part[first_row + j] = v[0];
      o.dD_part[first_row + j] = v[1];
      o.dbias_part[first_row + j] = v[2];
    }
  }
}

// ---- host side -----------------------------------------------------------------------

// What the CUDA kernels add to the shared checks: N fits their per-thread state arrays, and
// no float64 (the CPU reference covers it).
ScanSizes check_cuda_args(const char* op, const ScanSizes& s, const at::Tensor& u) {
  TORCH_CHECK(s.state <= kMaxN, op, ": the CUDA kernel supports state size N <= ", kMaxN, ", got ",
              s.state);
  TORCH_CHECK(u.scalar_type() != at::kDouble, op,
              ": float64 inputs are CPU-only, got u of dtype float64 on ", u.device());
  TORCH_CHECK(s.batch * s.channels < (int64_t{1} << 31), op, ": the CUDA kernels take fewer than 2^31 rows (B·K·D), got ",
              s.batch * s.channels);
  return s;
}

int block_channels(int64_t N, int64_t group_size) {
  if (N != 1) return 1;
  int n = kMaxChannels;
  while (group_size % n != 0) n /= 2;
  return n;
}

ScanArgs make_args(const ScanTensors& t, bool softplus) {
  ScanArgs p;
  p.u = t.u.const_data_ptr();
  p.delta = t.delta.const_data_ptr();
  p.A = cptr<float>(t.A);
  p.B = t.B.const_data_ptr();
  p.C = t.C.const_data_ptr();
  p.D = cptr<float>(t.D);
  p.delta_bias = cptr<float>(t.bias);
  p.channels = t.u.size(1);
  p.rows = t.u.size(0) * p.channels;
  p.groups = t.B.size(1);
  p.group_size = p.channels / p.groups;
  p.N = t.A.size(1);
  p.L = t.u.size(2);
  p.block_channels = block_channels(p.N, p.group_size);
  p.softplus = softplus;
  p.seg_len = p.L;
  p.summary = nullptr;
  return p;
}



// The forward of both ops: (out, last_state, checkpoints). With `keep_checkpoints`,
// checkpoints is [B, K·D, T, N] float32, the state entering each tile of the N == 1 warp
// kernel (T tiles), or T = 0 where another kernel runs (the backward then recomputes them).
std::tuple<at::Tensor, at::Tensor, at::Tensor> scan_forward(
    const char* op, const at::Tensor& u_in, const at::Tensor& delta_in, const at::Tensor& A_in,
    const at::Tensor& B_in, const at::Tensor& C_in, const std::optional<at::Tensor>& D_in,
    const std::optional<at::Tensor>& bias_in, bool delta_softplus, bool return_last_state,
    std::optional<at::ScalarType> out_dtype, bool keep_checkpoints) {
  check_cuda_args(op, check_selective_scan_args(op, u_in, delta_in, A_in, B_in, C_in, D_in, bias_in),
                  u_in);
  check_scan_out_dtype(op, out_dtype);
  const c10::cuda::CUDAGuard guard(u_in.device());
  const ScanTensors t(u_in, delta_in, A_in, B_in, C_in, D_in, bias_in);
  const at::Tensor &u = t.u, &A = t.A;
  const auto want = out_dtype.value_or(u.scalar_type());
  const auto odt = kernel_out_dtype(u.scalar_type(), want);
  const auto f32 = u.options().dtype(at::kFloat);
  at::Tensor out = at::empty(u.sizes(), u.options().dtype(odt));
  at::Tensor last = return_last_state ? at::empty({u.size(0), u.size(1), A.size(1)}, f32) : at::Tensor();
  at::Tensor checkpoints;
  if (keep_checkpoints) checkpoints = at::empty({u.size(0), u.size(1), 0, A.size(1)}, f32);
  ScanArgs p = make_args(t, delta_softplus);
  const int64_t batch = u.size(0);
  auto stream = c10::cuda::getCurrentCUDAStream();
  dispatch_in_out(u.scalar_type(), odt, [&](auto in_t, auto out_t) {
    using T = typename decltype(in_t)::type;
    using O = typename decltype(out_t)::type;
    if (p.N == 1) {  // the warp kernel where rows fill the GPU's warp slots, or splitting is off
      constexpr int kWarps = 4;
      bool done = false;
      with_warp_lanes<T>(p.L, [&](auto lanes) {
        constexpr int kLanes = decltype(lanes)::value, kSide = 32 / kLanes;
        auto warp_kernel = scan_fwd_warp_kernel<T, O, kWarps, kLanes>;
        const int64_t resident_warps = kWarps * resident_blocks(warp_kernel, kWarps * 32, 0);
        if (vss::scan_split() != 1 && (vss::scan_split() != 0 || p.rows < resident_warps)) return;
        // A warp per row group, or fewer warps (each walking several groups, at least about
        // four tiles) where that still fills the GPU.
        const int64_t groups = (p.rows + kSide - 1) / kSide, tiles = (p.L + warp_tile_steps<T>(kLanes) - 1) / warp_tile_steps<T>(kLanes);
        const int64_t warps = std::min(groups, std::max(resident_warps, groups * tiles / 4));
        if (keep_checkpoints) checkpoints = at::empty({u.size(0), u.size(1), tiles, 1}, f32);
        const auto blocks = static_cast<unsigned>((warps + kWarps - 1) / kWarps);
        warp_kernel<<<blocks, kWarps * 32, 0, stream>>>(p, mptr<O>(out), mptr<float>(last),
                                                        mptr<float>(checkpoints));
        C10_CUDA_KERNEL_LAUNCH_CHECK();
        done = true;
      });
      if (done) return;
    }
    with_block_size(p.L, 2048, [&](auto nt) {
      constexpr int NT = decltype(nt)::value;
      constexpr int64_t kChunk = NT * items_for<T>();
      auto kernel = p.N == 1 ? scan_fwd_kernel<T, O, NT, true> : scan_fwd_kernel<T, O, NT, false>;
      // A starved GPU first gets a block per channel (no shared B/C rows), then segments.
      const int64_t chunks = (p.L + kChunk - 1) / kChunk, resident = resident_blocks(kernel, NT, 0);
      if (split_segments(batch * p.channels / p.block_channels, chunks, resident, 2) > 1)
        p.block_channels = 1;
      const int64_t segments = split_segments(batch * p.channels, chunks, resident, 2);
      const dim3 grid(static_cast<unsigned>(p.channels / p.block_channels),
                      static_cast<unsigned>(batch), static_cast<unsigned>(segments));
      at::Tensor summary;
      if (segments > 1) {
        p.seg_len = (chunks + segments - 1) / segments * kChunk;
        summary = at::empty({batch * p.channels, segments - 1, p.N + 1},
                            u.options().dtype(at::kFloat));
        auto first = p.N == 1 ? scan_fwd_kernel<T, O, NT, true, true>
                              : scan_fwd_kernel<T, O, NT, false, true>;
        const dim3 first_grid(grid.x, grid.y, grid.z - 1);
        first<<<first_grid, NT, 0, stream>>>(p, nullptr, mptr<float>(summary));
        C10_CUDA_KERNEL_LAUNCH_CHECK();
        p.summary = cptr<float>(summary);
      }
      kernel<<<grid, NT, 0, stream>>>(p, mptr<O>(out), mptr<float>(last));
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    });
  });
  return {out.to(want), last, checkpoints};
}

std::tuple<at::Tensor, at::Tensor> selective_scan_cuda(
    const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A, const at::Tensor& B,
    const at::Tensor& C, const std::optional<at::Tensor>& D, const std::optional<at::Tensor>& bias,
    bool delta_softplus, bool return_last_state, std::optional<at::ScalarType> out_dtype) {
  auto [out, last, unused] = scan_forward("vss::selective_scan", u, delta, A, B, C, D, bias, delta_softplus,
                                          return_last_state, out_dtype, /*keep_checkpoints=*/false);
  return {out, last};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> selective_scan_checkpointed_cuda(
    const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A, const at::Tensor& B,
    const at::Tensor& C, const std::optional<at::Tensor>& D, const std::optional<at::Tensor>& bias,
    bool delta_softplus, bool return_last_state, std::optional<at::ScalarType> out_dtype) {
  return scan_forward("vss::selective_scan_checkpointed", u, delta, A, B, C, D, bias, delta_softplus,
                      return_last_state, out_dtype, /*keep_checkpoints=*/true);
}

// The backward's block covers the whole sequence in one chunk where it can (up to 4096
// steps), so its first pass (chunk-entry states) re-reads nothing; 128 registers keep 512
// threads per SM at any of these sizes.
template <typename F>
void with_backward_block_size(int64_t L, F&& f) {
  if (L <= 128 * 8) f(std::integral_constant<int, 128>{});
  else if (L <= 256 * 8) f(std::integral_constant<int, 256>{});
  else f(std::integral_constant<int, 512>{});
}

ScanGrads
selective_scan_backward_cuda(const at::Tensor& dout_in, const at::Tensor& u_in,
                             const at::Tensor& delta_in, const at::Tensor& A_in,
                             const at::Tensor& B_in, const at::Tensor& C_in,
                             const std::optional<at::Tensor>& D_in,
                             const std::optional<at::Tensor>& bias_in, bool delta_softplus,
                             const std::optional<at::Tensor>& checkpoints_in) {
  constexpr const char* op = "vss::selective_scan_backward";
  const ScanSizes s =
      check_cuda_args(op, check_selective_scan_args(op, u_in, delta_in, A_in, B_in, C_in, D_in, bias_in), u_in);
  check_scan_dout(op, dout_in, u_in.sizes(), u_in);
  const at::Tensor checkpoints = check_scan_checkpoints(op, checkpoints_in, s, u_in);
  const c10::cuda::CUDAGuard guard(u_in.device());
  const ScanTensors t(u_in, delta_in, A_in, B_in, C_in, D_in, bias_in);
  const at::Tensor &u = t.u, &delta = t.delta, &A = t.A, &B = t.B, &C = t.C;
  const at::Tensor dout = kernel_dout(dout_in, u);
  const int64_t batch = u.size(0), KD = u.size(1), N = A.size(1), L = u.size(2);
  const auto f32 = u.options().dtype(at::kFloat);
  at::Tensor du = at::empty_like(u), ddelta = at::empty_like(delta);
  const ScanGradBuffers g(batch, KD, N, B, /*dB_dC_written=*/N == 1);  // N == 1: sum_slots_kernel writes them
  {
    const ScanArgs p = make_args(t, delta_softplus);
    auto stream = c10::cuda::getCurrentCUDAStream();
    const at::ScalarType gdt = dout.scalar_type();
    dispatch_in_out(u.scalar_type(), gdt, [&](auto in_t, auto g_t) {
      using T = typename decltype(in_t)::type;
      using G = typename decltype(g_t)::type;
      // `kept`: the forward's checkpoints, which the warp kernel reads instead of its first pass.
      auto launch = [&](auto kernel, dim3 grid, int threads, int64_t chunks, const at::Tensor& kept) {
        at::Tensor chunk_state = kept.defined() ? at::Tensor() : at::empty({batch * KD, chunks, N}, f32);
        // N == 1: per-slot dB, dC, every element written once (no zeroing), then summed.
        const int64_t slots = p.group_size / p.block_channels, rows = batch * p.groups;
        at::Tensor dB_part, dC_part;
        if (N == 1) {
          dB_part = at::empty({rows, slots, L}, f32);
          dC_part = at::empty({rows, slots, L}, f32);
        }
        BwdArgs o{mptr<float>(g.dA_part), mptr<float>(g.dB),         mptr<float>(g.dC),
                  mptr<float>(g.dD_part), mptr<float>(g.dbias_part), mptr<float>(chunk_state),
                  cptr<float>(kept),      mptr<float>(dB_part),      mptr<float>(dC_part)};
        kernel<<<grid, threads, 0, stream>>>(p, cptr<G>(dout), mptr<T>(du), mptr<T>(ddelta), o);
        C10_CUDA_KERNEL_LAUNCH_CHECK();
        if (N == 1) {
          const auto blocks = static_cast<unsigned>((rows * L + 255) / 256);
          for (auto [part, out] : {std::pair{&dB_part, &g.dB}, std::pair{&dC_part, &g.dC}}) {
            sum_slots_kernel<<<blocks, 256, 0, stream>>>(cptr<float>(*part), mptr<float>(*out), rows, slots, L);
            C10_CUDA_KERNEL_LAUNCH_CHECK();
          }
        }
      };
      if (p.N == 1) {  // the warp kernel under the forward's rule: warps fill the GPU, or no split
        constexpr int kWarps = 4;
        bool done = false;
        with_warp_lanes<T>(L, [&](auto lanes) {
          constexpr int kLanes = decltype(lanes)::value;
          auto warp_kernel = scan_bwd_warp_kernel<T, G, kWarps, kLanes>;
          const int64_t warps = batch * KD / p.block_channels;
          if (vss::scan_split() != 1 &&
              (vss::scan_split() != 0 || warps < kWarps * resident_blocks(warp_kernel, kWarps * 32, 0)))
            return;
          const int64_t tiles = (L + warp_tile_steps<T>(kLanes) - 1) / warp_tile_steps<T>(kLanes);
          // T = 0: the forward ran another kernel and kept none, so the first pass runs.
          const bool use_kept = checkpoints.defined() && checkpoints.size(2) > 0;
          TORCH_CHECK(!use_kept || checkpoints.size(2) == tiles, op, ": checkpoints hold ", checkpoints.size(2),
                      " tiles, but this kernel walks L = ", L, " in ", tiles,
                      ": pass what vss::selective_scan_checkpointed returned for these inputs");
          const dim3 grid(static_cast<unsigned>((KD / p.block_channels + kWarps - 1) / kWarps),
                          static_cast<unsigned>(batch));
          launch(warp_kernel, grid, kWarps * 32, tiles, use_kept ? checkpoints : at::Tensor());
          done = true;
        });
        if (done) return;
      }
      with_backward_block_size(L, [&](auto nt) {
        constexpr int NT = decltype(nt)::value;
        constexpr int kChunk = NT * items_for<T>();
        const dim3 grid(static_cast<unsigned>(KD / p.block_channels), static_cast<unsigned>(batch));
        launch(p.N == 1 ? scan_bwd_kernel<T, G, NT, true> : scan_bwd_kernel<T, G, NT, false>, grid,
               NT, (L + kChunk - 1) / kChunk, at::Tensor());
      });
    });
  }
  return g.finish(du, ddelta, B, C, t.D.defined(), t.bias.defined());
}

}  // namespace
}  // namespace vss::cuda

TORCH_LIBRARY_IMPL(vss, CUDA, m) {
  m.impl("selective_scan", &vss::cuda::selective_scan_cuda);
  m.impl("selective_scan_checkpointed", &vss::cuda::selective_scan_checkpointed_cuda);
  m.impl("selective_scan_backward", &vss::cuda::selective_scan_backward_cuda);
}
