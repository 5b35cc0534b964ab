// CPU kernels of vss::selective_scan and vss::selective_scan_backward: the reference the CUDA
// kernels are held to. Plain loops over contiguous rows, state math in acc_t (float32, or
// float64 for float64 inputs).
//
// Inputs are upcast to acc_t once up front (no copy for float32/float64 contiguous inputs; one
// for float16/bfloat16), results are computed in acc_t and cast to the requested dtype at the
// end. That keeps the loops free of dtype conversions at the cost of a temporary copy for
// half-precision inputs. Δ = softplus(delta + delta_bias) and its derivative are whole-tensor
// ATen ops (torch's own softplus, vectorized): per element they cost more than the scan step
// itself when N is small.
//
// Forward: parallel over (batch, channel) for N = 1, over (batch, group) for N > 1 (B, C shared by
// a group are transposed once). Backward: parallel over (batch, group), because
// dB and dC sum over the D channels of a group; dA and dD sum over the batch through per-batch
// partials (ddelta_bias is a whole-tensor sum of ddelta). No two tasks write the same element,
// so results do not depend on the thread count.
#include "kernels/scan_exp.h"
#include "kernels/selective_scan_checks.h"

#include <ATen/Parallel.h>
#include <torch/library.h>
#include <torch/torch.h>

#include <cmath>
#include <vector>

namespace vss {
namespace {

// The backward pass keeps the state only at every kChunk-th step and recomputes each chunk
// before walking it backwards: O(L/kChunk + kChunk) memory per state component, not O(L).
constexpr int64_t kChunk = 64;

// Contiguous acc_t views of one call's inputs, with Δ in place of delta and delta_bias.
template <typename acc_t>
struct ScanInputs {
  ScanSizes s;
  const acc_t* u;
  const acc_t* dt;  // Δ [batch, K·D, L]
  const acc_t* A;
  const acc_t* B;
  const acc_t* C;
  const acc_t* D;  // nullptr when absent

  // Rows of channel c in batch b, and of state n of that channel's group.
  int64_t row(int64_t b, int64_t c) const { return (b * s.channels + c) * s.length; }
  int64_t group_row(int64_t b, int64_t c, int64_t n) const {
    return ((b * s.groups + c / s.dim) * s.state + n) * s.length;
  }
};

// Δ_t·u_t of one channel: the input term of every state component.
template <typename acc_t>
void channel_drive(const ScanInputs<acc_t>& in, int64_t b, int64_t c, acc_t* dtu) {
  const acc_t* dt = in.dt + in.row(b, c);
  const acc_t* u = in.u + in.row(b, c);
  for (int64_t t = 0; t < in.s.length; ++t) dtu[t] = dt[t] * u[t];
}

// One state component over `len` steps: h_t = decay_t·h_{t-1} + Δ_t·u_t·b_t from h, with the
// decays exp(Δ_t·a) computed ahead (scan_decays, vectorized). Stores each state h_t where
// `states` is non-null; returns the last state.
template <typename acc_t>
acc_t advance_state(acc_t h, const acc_t* decay, const acc_t* dtu, const acc_t* b, int64_t len, acc_t* states) {
  for (int64_t t = 0; t < len; ++t) {
    h = decay[t] * h + dtu[t] * b[t];
    if (states) states[t] = h;
  }
  return h;
}

// N = 1 (VMamba): each channel's single state runs along t, its decays computed ahead in one
// vectorized loop.
template <typename acc_t>
void forward_time_major(const ScanInputs<acc_t>& in, acc_t* out, acc_t* last_state) {
  const ScanSizes& s = in.s;
  const int64_t grain = std::max<int64_t>(1, at::internal::GRAIN_SIZE / (s.length * s.state));
  at::parallel_for(0, s.batch * s.channels, grain, [&](int64_t begin, int64_t end) {
    std::vector<acc_t> dtu(s.length), decay(s.length), states(s.length);
    for (int64_t bc = begin; bc < end; ++bc) {
      const int64_t b = bc / s.channels, c = bc % s.channels;
      const acc_t* dt = in.dt + in.row(b, c);
      channel_drive(in, b, c, dtu.data());
      acc_t* y = out + in.row(b, c);
      const acc_t* u = in.u + in.row(b, c);
      const acc_t Dc = in.D ? in.D[c] : acc_t(0);
      for (int64_t t = 0; t < s.length; ++t) y[t] = Dc * u[t];
      for (int64_t n = 0; n < s.state; ++n) {
        const acc_t* Bn = in.B + in.group_row(b, c, n);
        const acc_t* Cn = in.C + in.group_row(b, c, n);
        scan_decays(dt, in.A[c * s.state + n], s.length, decay.data());
        const acc_t h = advance_state(acc_t(0), decay.data(), dtu.data(), Bn, s.length, states.data());
        for (int64_t t = 0; t < s.length; ++t) y[t] += Cn[t] * states[t];
        if (last_state) last_state[bc * s.state + n] = h;
      }
    }
  });
}

// N > 1 (Mamba): all N states of a channel advance together step by step, the loop over n
// vectorized, with B and C of the group transposed to [L, N] once for its D channels. Short
// sequences (a tracker's 10-step histories) are then no longer all loop overhead. Same
// operations in the same order as the time-major loop: the results are identical.
// kN > 0 fixes N at compile time (the common 4, 8, 16): the state lives in a local array and
// the loops over n unroll with no aliasing checks.
template <typename acc_t, int64_t kN>
void forward_state_major(const ScanInputs<acc_t>& in, acc_t* out, acc_t* last_state) {
  const ScanSizes& s = in.s;
  const int64_t L = s.length, N = kN > 0 ? kN : s.state;
  at::parallel_for(0, s.batch * s.groups, 1, [&](int64_t begin, int64_t end) {
    std::vector<acc_t> Bt(L * N), Ct(L * N), h_any(kN > 0 ? 0 : N);
    alignas(64) acc_t h_fixed[kN > 0 ? kN : 1];
    acc_t* const h = kN > 0 ? h_fixed : h_any.data();
    for (int64_t bk = begin; bk < end; ++bk) {
      const int64_t b = bk / s.groups, k = bk % s.groups;
      const acc_t* Bg = in.B + bk * N * L;
      const acc_t* Cg = in.C + bk * N * L;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t t = 0; t < L; ++t) {
          Bt[t * N + n] = Bg[n * L + t];
          Ct[t * N + n] = Cg[n * L + t];
        }
      for (int64_t c = k * s.dim; c < (k + 1) * s.dim; ++c) {
        const acc_t* dt = in.dt + in.row(b, c);
        const acc_t* u = in.u + in.row(b, c);
        const acc_t* a = in.A + c * N;
        acc_t* y = out + in.row(b, c);
        const acc_t Dc = in.D ? in.D[c] : acc_t(0);
        std::fill(h, h + N, acc_t(0));
        for (int64_t t = 0; t < L; ++t) {
          const acc_t d = dt[t], du = d * u[t];
          const acc_t* bt = Bt.data() + t * N;
          const acc_t* ct = Ct.data() + t * N;
          for (int64_t n = 0; n < N; ++n) h[n] = scan_exp(d * a[n]) * h[n] + du * bt[n];
          acc_t yt = Dc * u[t];
          for (int64_t n = 0; n < N; ++n) yt += ct[n] * h[n];
          y[t] = yt;
        }
        if (last_state) std::copy(h, h + N, last_state + (b * s.channels + c) * N);
      }
    }
  });
}

template <typename acc_t>
void forward_cpu(const ScanInputs<acc_t>& in, acc_t* out, acc_t* last_state) {
  switch (in.s.state) {
    case 1: return forward_time_major(in, out, last_state);
    case 4: return forward_state_major<acc_t, 4>(in, out, last_state);
    case 8: return forward_state_major<acc_t, 8>(in, out, last_state);
    case 16: return forward_state_major<acc_t, 16>(in, out, last_state);
    default: return forward_state_major<acc_t, 0>(in, out, last_state);
  }
}

// Gradients in acc_t. du, dΔ [batch, K·D, L] and dB, dC [batch, K, N, L] are written in
// full; dA [batch, K·D, N] and dD [batch, K·D] are per-batch partials.
template <typename acc_t>
struct ScanGrads {
  acc_t* du;
  acc_t* ddt;
  acc_t* dB;
  acc_t* dC;
  acc_t* dA;
  acc_t* dD;
};

template <typename acc_t>
void backward_cpu(const ScanInputs<acc_t>& in, const acc_t* dout, const ScanGrads<acc_t>& g) {
  const ScanSizes& s = in.s;
  const int64_t L = s.length, N = s.state;
  const int64_t chunks = (L + kChunk - 1) / kChunk;
  at::parallel_for(0, s.batch * s.groups, 1, [&](int64_t begin, int64_t end) {
    std::vector<acc_t> dtu(L);
    std::vector<acc_t> start_state(chunks * N);  // state before chunk j: [n * chunks + j]
    std::vector<acc_t> carry(N);                 // exp(Δ_{t+1}·a)·dL/dh_{t+1} across chunks
    std::vector<acc_t> decay(kChunk), states(kChunk);
    for (int64_t bk = begin; bk < end; ++bk) {
      const int64_t b = bk / s.groups, k = bk % s.groups;
      for (int64_t c = k * s.dim; c < (k + 1) * s.dim; ++c) {
        channel_drive(in, b, c, dtu.data());
        const acc_t* dt = in.dt + in.row(b, c);
        const acc_t* u = in.u + in.row(b, c);
        const acc_t* dy = dout + in.row(b, c);
        acc_t* du = g.du + in.row(b, c);
        acc_t* dd = g.ddt + in.row(b, c);
        std::fill(du, du + L, acc_t(0));
        std::fill(dd, dd + L, acc_t(0));

        for (int64_t n = 0; n < N; ++n) {
          const acc_t a = in.A[c * N + n];
          const acc_t* Bn = in.B + in.group_row(b, c, n);
          acc_t h = 0;
          for (int64_t j = 0; j < chunks; ++j) {
            const int64_t t0 = j * kChunk, len = std::min(kChunk, L - t0);
            start_state[n * chunks + j] = h;
            scan_decays(dt + t0, a, len, decay.data());
            h = advance_state(h, decay.data(), dtu.data() + t0, Bn + t0, len, static_cast<acc_t*>(nullptr));
          }
        }

        std::fill(carry.begin(), carry.end(), acc_t(0));
        for (int64_t j = chunks - 1; j >= 0; --j) {
          const int64_t t0 = j * kChunk, len = std::min(kChunk, L - t0);
          for (int64_t n = 0; n < N; ++n) {
            const acc_t a = in.A[c * N + n];
            const acc_t* Bn = in.B + in.group_row(b, c, n);
            const acc_t* Cn = in.C + in.group_row(b, c, n);
            acc_t* dBn = g.dB + in.group_row(b, c, n);
            acc_t* dCn = g.dC + in.group_row(b, c, n);
            const acc_t h0 = start_state[n * chunks + j];
            scan_decays(dt + t0, a, len, decay.data());
            advance_state(h0, decay.data(), dtu.data() + t0, Bn + t0, len, states.data());
            acc_t r = carry[n], da = 0;
            for (int64_t i = len - 1; i >= 0; --i) {
              const int64_t t = t0 + i;
              const acc_t h_prev = i > 0 ? states[i - 1] : h0;
              const acc_t dh = dy[t] * Cn[t] + r;  // dL/dh_t
              const acc_t dh_decay_h = dh * decay[i] * h_prev;
              dCn[t] += dy[t] * states[i];
              dBn[t] += dh * dtu[t];
              du[t] += dh * dt[t] * Bn[t];
              dd[t] += dh_decay_h * a + dh * Bn[t] * u[t];
              da += dh_decay_h * dt[t];
              r = dh * decay[i];
            }
            carry[n] = r;
            g.dA[(b * s.channels + c) * N + n] += da;
          }
        }

        const acc_t Dc = in.D ? in.D[c] : acc_t(0);
        acc_t dD = 0;
        for (int64_t t = 0; t < L; ++t) {
          du[t] += Dc * dy[t];
          dD += dy[t] * u[t];
        }
        g.dD[b * s.channels + c] = dD;
      }
    }
  });
}

at::Tensor as_acc(const at::Tensor& t, at::ScalarType acc) { return t.to(acc).contiguous(); }
std::optional<at::Tensor> as_acc(const std::optional<at::Tensor>& t, at::ScalarType acc) {
  if (!t || !t->defined()) return std::nullopt;
  return as_acc(*t, acc);
}

// The upcast inputs of one call and Δ, kept alive while the raw views are in use.
struct AccInputs {
  at::Tensor u, A, B, C;
  std::optional<at::Tensor> D;
  at::Tensor x;   // delta + delta_bias
  at::Tensor dt;  // Δ = softplus(x) or x

  AccInputs(const at::Tensor& u_, const at::Tensor& delta, const at::Tensor& A_,
            const at::Tensor& B_, const at::Tensor& C_, const std::optional<at::Tensor>& D_,
            const std::optional<at::Tensor>& bias, bool softplus, at::ScalarType acc)
      : u(as_acc(u_, acc)), A(as_acc(A_, acc)), B(as_acc(B_, acc)), C(as_acc(C_, acc)),
        D(as_acc(D_, acc)) {
    x = as_acc(delta, acc);
    if (bias && bias->defined()) x = x + bias->unsqueeze(-1);
    dt = softplus ? at::softplus(x) : x;  // threshold 20, as torch.nn.functional.softplus
  }

  template <typename acc_t>
  ScanInputs<acc_t> view(const ScanSizes& s) const {
    return {s,
            u.const_data_ptr<acc_t>(),
            dt.const_data_ptr<acc_t>(),
            A.const_data_ptr<acc_t>(),
            B.const_data_ptr<acc_t>(),
            C.const_data_ptr<acc_t>(),
            D ? D->const_data_ptr<acc_t>() : nullptr};
  }
};

std::tuple<at::Tensor, at::Tensor> selective_scan_cpu(
    const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A, const at::Tensor& B,
    const at::Tensor& C, const std::optional<at::Tensor>& D,
    const std::optional<at::Tensor>& delta_bias, bool delta_softplus, bool return_last_state,
    std::optional<at::ScalarType> out_dtype) {
  constexpr const char* op = "vss::selective_scan";
  const ScanSizes s = check_selective_scan_args(op, u, delta, A, B, C, D, delta_bias);
  check_scan_out_dtype(op, out_dtype);
  const at::ScalarType acc = scan_param_dtype(u.scalar_type());
  const AccInputs in(u, delta, A, B, C, D, delta_bias, delta_softplus, acc);
  const auto opts = u.options().dtype(acc);
  at::Tensor out = at::empty({s.batch, s.channels, s.length}, opts);
  at::Tensor last_state =
      return_last_state ? at::empty({s.batch, s.channels, s.state}, opts) : at::Tensor();
  AT_DISPATCH_FLOATING_TYPES(acc, "selective_scan_cpu", [&] {
    forward_cpu<scalar_t>(in.view<scalar_t>(s), out.data_ptr<scalar_t>(),
                          return_last_state ? last_state.data_ptr<scalar_t>() : nullptr);
  });
  return {out.to(out_dtype.value_or(u.scalar_type())), last_state};
}

// The CPU backward keeps its own chunk states (kChunk), so it keeps no checkpoints: T = 0.
std::tuple<at::Tensor, at::Tensor, at::Tensor> selective_scan_checkpointed_cpu(
    const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A, const at::Tensor& B,
    const at::Tensor& C, const std::optional<at::Tensor>& D,
    const std::optional<at::Tensor>& delta_bias, bool delta_softplus, bool return_last_state,
    std::optional<at::ScalarType> out_dtype) {
  auto [out, last] = selective_scan_cpu(u, delta, A, B, C, D, delta_bias, delta_softplus, return_last_state, out_dtype);
  at::Tensor none = at::empty({u.size(0), u.size(1), 0, A.size(1)}, u.options().dtype(at::kFloat));
  return {out, last, none};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor>
selective_scan_backward_cpu(const at::Tensor& dout, const at::Tensor& u, const at::Tensor& delta,
                            const at::Tensor& A, const at::Tensor& B, const at::Tensor& C,
                            const std::optional<at::Tensor>& D,
                            const std::optional<at::Tensor>& delta_bias, bool delta_softplus,
                            const std::optional<at::Tensor>& checkpoints) {
  constexpr const char* op = "vss::selective_scan_backward";
  const ScanSizes s = check_selective_scan_args(op, u, delta, A, B, C, D, delta_bias);
  check_scan_dout(op, dout, u.sizes(), u);
  check_scan_checkpoints(op, checkpoints, s, u);  // checked, then not needed
  const at::ScalarType acc = scan_param_dtype(u.scalar_type());
  const AccInputs in(u, delta, A, B, C, D, delta_bias, delta_softplus, acc);
  const at::Tensor dy = as_acc(dout, acc);
  const auto opts = u.options().dtype(acc);
  at::Tensor du = at::empty_like(in.u), ddt = at::empty_like(in.u);
  at::Tensor dB = at::zeros_like(in.B), dC = at::zeros_like(in.B);
  at::Tensor dA = at::zeros({s.batch, s.channels, s.state}, opts);
  at::Tensor dD = at::empty({s.batch, s.channels}, opts);
  AT_DISPATCH_FLOATING_TYPES(acc, "selective_scan_backward_cpu", [&] {
    const ScanGrads<scalar_t> g{du.data_ptr<scalar_t>(), ddt.data_ptr<scalar_t>(),
                                dB.data_ptr<scalar_t>(), dC.data_ptr<scalar_t>(),
                                dA.data_ptr<scalar_t>(), dD.data_ptr<scalar_t>()};
    backward_cpu<scalar_t>(in.view<scalar_t>(s), dy.const_data_ptr<scalar_t>(), g);
  });
  // Through Δ = softplus(x) (torch's own derivative, same threshold) to delta and delta_bias.
  const at::Tensor ddelta = delta_softplus ? at::softplus_backward(ddt, in.x, 1, 20) : ddt;
  const bool has_bias = delta_bias && delta_bias->defined();
  const at::ScalarType in_dtype = u.scalar_type();
  return {du.to(in_dtype),
          ddelta.to(in_dtype),
          dA.sum(0),
          dB.to(in_dtype),
          dC.to(in_dtype),
          in.D ? dD.sum(0) : at::Tensor(),
          has_bias ? ddelta.sum(at::IntArrayRef{0, 2}) : at::Tensor()};
}

}  // namespace

TORCH_LIBRARY_IMPL(vss, CPU, m) {
  m.impl("selective_scan", &selective_scan_cpu);
  m.impl("selective_scan_checkpointed", &selective_scan_checkpointed_cpu);
  m.impl("selective_scan_backward", &selective_scan_backward_cpu);
}

}  // namespace vss
