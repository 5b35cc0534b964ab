// CUDA kernel of vss::selective_scan_plan_channels_last (inference): the fused plan-driven scan
// on channel-last tensors. Semantics: kernels/selective_scan.h; reference: the CPU op, which
// permutes to the channel-first op.
//
// Why channel-last: the channel-first kernels (selective_scan_plan_cuda.cu) give a (b, d) row
// to a block that walks the plan, so a direction across the image's rows (a column scan)
// reads every step from another cache line; on maps too large for their shared-memory rows
// (VMamba at 1024² and up: 16,384+ tokens in the first two stages) each 4-byte read then costs
// a 32-byte sector. Here a warp owns 32 consecutive channels: every step of any direction reads
// one contiguous run of 32 values of u and of Δ, and B, C (shared by the channels) broadcast.
//
// Work item (a warp): batch b, direction k, a segment of the plan's steps and a tile of 32
// channels; a lane walks its channel's recurrence through the segment on its own (no
// shuffles in the step loop but the token-id broadcast), with the loads of kGroup steps in
// flight before it computes them. B·K·D/32 warps alone leave the GPU idle on large maps at
// small batch, so the steps are cut into segments: a first launch sums every segment but each
// direction's last from a zero state (end state and ΣΔ: the segment maps h to
// exp(A·ΣΔ)·h + end), a small kernel composes those into each segment's entry state, then
// one launch per direction scans its segments from their entry states and adds into the float
// accumulator y. Launches run in stream order, so every token receives its directions'
// contributions in direction order: deterministic when a direction visits a token at most once
// (every registered strategy's plan; repeated visits are summed in an unspecified order).
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/selective_scan_common.cuh"
#include "kernels/scan_split.h"
#include "kernels/selective_scan_checks.h"

#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include <algorithm>
#include <optional>

namespace vss::cuda {
namespace {

constexpr int kWarps = 4;        // independent work items a block
constexpr int kGroup = 16;       // steps whose loads a lane issues before computing them
constexpr int64_t kMinSegment = 64;  // steps: shorter segments spend more on entry states

struct ClArgs {
  const void* u;            // [B, HW, D]
  const void* delta;        // [B, HW, K·D]
  const float* A;           // [K·D, N]
  const void* B;            // [B, HW, K, N]
  const void* C;
  const float* D;           // may be null
  const float* delta_bias;  // may be null
  const int32_t* index;     // [K, L]
  int64_t batch, dim, groups, N, L, HW;
  int64_t tiles;     // ceil(D / 32)
  int64_t seg_len;   // steps a segment (a multiple of 32)
  int64_t segments;  // ceil(L / seg_len)
  bool softplus;
};

// kSummary: the first pass, over every segment but each direction's last (warps ordered
// tile, segment, k, b), writing states[b, k, seg, :, d] = (end state [N], ΣΔ).
// Otherwise direction k's segments (warps ordered tile, segment, b) from the entry states
// states[b, k, seg, :N, d], adding D·u + C·h into acc [B, HW, D].
template <typename T, bool kSingle, bool kSummary>
__global__ void __launch_bounds__(32 * kWarps)
    plan_cl_kernel(ClArgs p, int64_t k, float* __restrict__ states, float* __restrict__ acc) {
  const int lane = threadIdx.x & 31;
  int64_t item = int64_t{blockIdx.x} * kWarps + (threadIdx.x >> 5);
  const int64_t tile = item % p.tiles;
  item /= p.tiles;
  const int64_t seg_count = kSummary ? p.segments - 1 : p.segments;
  const int64_t seg = item % seg_count;
  item /= seg_count;
  if constexpr (kSummary) {
    k = item % p.groups;
    item /= p.groups;
  }
  const int64_t b = item;
  if (b >= p.batch) return;  // whole warps leave: the shuffles below stay full-warp

  const int N = kSingle ? 1 : static_cast<int>(p.N);
  // Lanes past D compute channel D-1's values and store nothing.
  const bool active = tile * 32 + lane < p.dim;
  const int64_t d = std::min<int64_t>(tile * 32 + lane, p.dim - 1);
  const int64_t c = k * p.dim + d, KD = p.groups * p.dim, KN = p.groups * p.N;
  const float Dc = p.D ? p.D[c] : 0.f, bias = p.delta_bias ? p.delta_bias[c] : 0.f;
  float A_log2[kMaxN], h[kMaxN];
  float* slot = states ? states + ((b * p.groups + k) * p.segments + seg) * (p.N + 1) * p.dim + d
                       : nullptr;
#pragma unroll
  for (int n = 0; n < kMaxN; ++n) {
    if (n >= N) break;
    A_log2[n] = p.A[c * p.N + n] * kLog2e;
    h[n] = kSummary || !slot ? 0.f : slot[n * p.dim];
  }
  const T* u = static_cast<const T*>(p.u) + b * p.HW * p.dim + d;
  const T* dl = static_cast<const T*>(p.delta) + b * p.HW * KD + c;
  const T* Bk = static_cast<const T*>(p.B) + b * p.HW * KN + k * p.N;
  const T* Ck = static_cast<const T*>(p.C) + b * p.HW * KN + k * p.N;
  float* y = kSummary ? nullptr : acc + b * p.HW * p.dim + d;
  const int32_t* steps_k = p.index + k * p.L;
  const int64_t t_begin = seg * p.seg_len, t_end = std::min(p.L, t_begin + p.seg_len);
  float dt_sum = 0.f;

  for (int64_t t0 = t_begin; t0 < t_end; t0 += 32) {
    // Lane j holds the token of step t0 + j (-1: padding, or past the segment).
    int mine = -1;
    if (t0 + lane < t_end) {
      const int v = steps_k[t0 + lane];
      mine = v >= 0 && v < p.HW ? v : -1;
    }
    const int steps = static_cast<int>(std::min<int64_t>(32, t_end - t0));
#pragma unroll 1
    for (int g = 0; g < steps; g += kGroup) {
      int tok[kGroup];
      float uv[kGroup], dv[kGroup], bv[kGroup], cv[kGroup];
#pragma unroll
      for (int i = 0; i < kGroup; ++i) {
        tok[i] = __shfl_sync(0xffffffffu, mine, g + i);
        uv[i] = dv[i] = bv[i] = cv[i] = 0.f;  // a padding step: u = 0, raw Δ = 0, B = C = 0
        if (tok[i] >= 0) {
          uv[i] = to_float(u[tok[i] * p.dim]);
          dv[i] = to_float(dl[tok[i] * KD]);
          if constexpr (kSingle) {
            bv[i] = to_float(Bk[tok[i] * KN]);
            if constexpr (!kSummary) cv[i] = to_float(Ck[tok[i] * KN]);
          }
        }
      }
      // Δ first for the whole group (independent: the exp/log chains overlap), the serial
      // recurrence after. A step past the segment gets Δ = 0, an identity step (a = 1, b = 0)
      // that adds nothing (its token is -1); a padding step inside it still decays.
      float dts[kGroup];
#pragma unroll
      for (int i = 0; i < kGroup; ++i) {
        const float raw = dv[i] + bias;
        dts[i] = g + i < steps ? (p.softplus ? softplus(raw) : raw) : 0.f;
      }
#pragma unroll
      for (int i = 0; i < kGroup; ++i) {
        const float dt = dts[i];
        const float dtu = dt * uv[i];
        float out = Dc * uv[i];
#pragma unroll
        for (int n = 0; n < kMaxN; ++n) {
          if (n >= N) break;
          float Bn = bv[i], Cn = cv[i];
          if constexpr (!kSingle) {
            Bn = tok[i] >= 0 ? to_float(Bk[tok[i] * KN + n]) : 0.f;
            if constexpr (!kSummary) Cn = tok[i] >= 0 ? to_float(Ck[tok[i] * KN + n]) : 0.f;
          }
          h[n] = exp2f(dt * A_log2[n]) * h[n] + dtu * Bn;
          if constexpr (!kSummary) out += Cn * h[n];
        }
        if constexpr (kSummary) {
          dt_sum += dt;
        } else if (active && tok[i] >= 0) {
          atomicAdd(y + tok[i] * p.dim, out);
        }
      }
    }
  }
  if constexpr (kSummary) {
    if (active) {
#pragma unroll
      for (int n = 0; n < kMaxN; ++n) {  // unrolled: h stays in registers
        if (n >= N) break;
        slot[n * p.dim] = h[n];
      }
      slot[N * p.dim] = dt_sum;
    }
  }
}

// Turns the segment summaries states[b, k, seg, :, d] (segments 0..S-2) into entry states
// (segments 0..S-1, in place): a thread per (b, k, d) composes them in order. The chain is
// serial, so each thread first loads kAhead segments' summaries (independent loads in flight
// together), then composes them: one memory latency per kAhead segments, not per segment
// (1024² b4: ~350 segments a channel, 0.97 ms with one load at a time).
template <bool kSingle>
__global__ void __launch_bounds__(64) plan_cl_entry_states(ClArgs p, float* __restrict__ states) {
  constexpr int kAhead = kSingle ? 16 : 2;  // registers: kAhead * (N + 1) floats
  const int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  if (i >= p.batch * p.groups * p.dim) return;
  const int64_t row = i / p.dim, d = i % p.dim, k = row % p.groups;
  const int N = kSingle ? 1 : static_cast<int>(p.N);
  const int64_t stride = (p.N + 1) * p.dim;  // between consecutive segments' slots
  float A_log2[kMaxN], h[kMaxN];
#pragma unroll
  for (int n = 0; n < kMaxN; ++n) {
    if (n >= N) break;
    A_log2[n] = p.A[(k * p.dim + d) * p.N + n] * kLog2e;
    h[n] = 0.f;
  }
  float* base = states + row * p.segments * stride + d;
  for (int64_t j0 = 0; j0 < p.segments; j0 += kAhead) {
    float end[kAhead][kMaxN], decay[kAhead];
#pragma unroll
    for (int a = 0; a < kAhead; ++a) {
      const bool summary = j0 + a + 1 < p.segments;  // the last segment has none
      const float* slot = base + (j0 + a) * stride;
      decay[a] = summary ? slot[N * p.dim] : 0.f;
#pragma unroll
      for (int n = 0; n < kMaxN; ++n) {
        if (n >= N) break;
        end[a][n] = summary ? slot[n * p.dim] : 0.f;
      }
    }
#pragma unroll
    for (int a = 0; a < kAhead; ++a) {
      if (j0 + a >= p.segments) break;
      float* slot = base + (j0 + a) * stride;
#pragma unroll
      for (int n = 0; n < kMaxN; ++n) {
        if (n >= N) break;
        slot[n * p.dim] = h[n];
        h[n] = exp2f(A_log2[n] * decay[a]) * h[n] + end[a][n];
      }
    }
  }
}

template <typename Kernel>
int64_t resident_warps(Kernel kernel) {
  return resident_blocks(kernel, 32 * kWarps, 0) * kWarps;
}

// Steps a segment: the whole plan where one launch's B·tiles warps already fill the GPU twice
// over, else short enough that they do (at least kMinSegment steps); vss::scan_split() > 1
// asks for that many segments (tests of the split path), 1 for none.
int64_t segment_length(int64_t L, int64_t warps_per_segment, int64_t resident) {
  const int forced = scan_split();
  int64_t want = forced > 0 ? forced : (2 * resident + warps_per_segment - 1) / warps_per_segment;
  if (forced == 0) want = std::min(want, (L + kMinSegment - 1) / kMinSegment);
  want = std::clamp<int64_t>(want, 1, (L + 31) / 32);
  const int64_t len = (L + want - 1) / want;
  return (len + 31) / 32 * 32;
}

at::Tensor selective_scan_plan_channels_last_cuda(
    const at::Tensor& u_in, const at::Tensor& delta_in, const at::Tensor& A_in,
    const at::Tensor& B_in, const at::Tensor& C_in, const std::optional<at::Tensor>& D_in,
    const std::optional<at::Tensor>& bias_in, const at::Tensor& index_in,
    const std::optional<at::Tensor>& weight_in, bool delta_softplus,
    std::optional<at::ScalarType> out_dtype) {
  constexpr const char* op = "vss::selective_scan_plan_channels_last";
  const ScanSizes s = check_selective_scan_plan_channels_last_args(
      op, u_in, delta_in, A_in, B_in, C_in, D_in, bias_in, index_in, weight_in);
  check_plan_cuda_args(op, s, u_in);
  check_scan_out_dtype(op, out_dtype);
  const c10::cuda::CUDAGuard guard(u_in.device());
  const ScanTensors t(u_in, delta_in, A_in, B_in, C_in, D_in, bias_in, index_in, weight_in);
  const at::Tensor &u = t.u, &weight = t.weight;
  ClArgs p{u.const_data_ptr(), t.delta.const_data_ptr(), cptr<float>(t.A), t.B.const_data_ptr(),
           t.C.const_data_ptr(), cptr<float>(t.D), cptr<float>(t.bias), cptr<int32_t>(t.index),
           s.batch, s.dim, s.groups, s.state, s.length, s.tokens,
           (s.dim + 31) / 32, 0, 0, delta_softplus};
  const auto f32 = u.options().dtype(at::kFloat);
  at::Tensor acc = at::zeros({s.batch, s.tokens, s.dim}, f32);
  auto stream = c10::cuda::getCurrentCUDAStream();
  dispatch_in_out(u.scalar_type(), at::kFloat, [&](auto in_t, auto) {
    using T = typename decltype(in_t)::type;
    const bool single = s.state == 1;
    auto scan = single ? plan_cl_kernel<T, true, false> : plan_cl_kernel<T, false, false>;
    p.seg_len = segment_length(s.length, s.batch * p.tiles, resident_warps(scan));
    p.segments = (s.length + p.seg_len - 1) / p.seg_len;
    at::Tensor states;
    if (p.segments > 1) {
      states = at::empty({s.batch, s.groups, p.segments, s.state + 1, s.dim}, f32);
      const int64_t warps = s.batch * s.groups * (p.segments - 1) * p.tiles;
      auto summary = single ? plan_cl_kernel<T, true, true> : plan_cl_kernel<T, false, true>;
      summary<<<static_cast<unsigned>((warps + kWarps - 1) / kWarps), 32 * kWarps, 0, stream>>>(
          p, 0, mptr<float>(states), nullptr);
      C10_CUDA_KERNEL_LAUNCH_CHECK();
      const int64_t rows = s.batch * s.groups * s.dim;
      auto entry = single ? plan_cl_entry_states<true> : plan_cl_entry_states<false>;
      entry<<<static_cast<unsigned>((rows + 63) / 64), 64, 0, stream>>>(p, mptr<float>(states));
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    }
    const int64_t warps = s.batch * p.segments * p.tiles;
    for (int64_t k = 0; k < s.groups; ++k) {
      scan<<<static_cast<unsigned>((warps + kWarps - 1) / kWarps), 32 * kWarps, 0, stream>>>(
          p, k, states.defined() ? mptr<float>(states) : nullptr, mptr<float>(acc));
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    }
  });
  const at::Tensor y = weight.defined() ? acc * weight.view({1, s.tokens, 1}) : acc;
  return y.to(out_dtype.value_or(u.scalar_type()));
}

}  // namespace
}  // namespace vss::cuda

TORCH_LIBRARY_IMPL(vss, CUDA, m) {
  m.impl("selective_scan_plan_channels_last", &vss::cuda::selective_scan_plan_channels_last_cuda);
}
