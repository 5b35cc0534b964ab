// CPU kernels of vss::selective_scan_plan and its backward: the readable reference of the
// fused ("virtual flatten") semantics in kernels/selective_scan.h.
//
// For batch b and channel d, direction k scans channel c = k·D + d over the steps of
// index[k]: step t reads token p = index[k][t] of the image-layout tensors (u[b, d, p],
// delta[b, c, p], B/C[b, k, :, p]); a padding step (p = -1) reads u = 0, raw delta = 0,
// B = C = 0 and its output is dropped. The outputs of every direction are added at their
// tokens, then the sum is multiplied by merge_weight[p] when one is given. No flattened
// [B, K, D, L] copy is made: the loops read through the index directly.
//
// State math in acc_t (float32, or float64 for float64 inputs). The forward is parallel over
// (batch, d), the backward over the batch (dB, dC and du sum over channels and directions);
// no two tasks write the same element, so results do not depend on the thread count.
#include "kernels/selective_scan_checks.h"

#include <ATen/Parallel.h>
#include <torch/library.h>
#include <torch/torch.h>

#include <cmath>
#include <vector>

namespace vss {
namespace {

template <typename acc_t>
acc_t softplus(acc_t x) {
  return x <= acc_t(20) ? std::log1p(std::exp(x)) : x;
}
template <typename acc_t>
acc_t sigmoid(acc_t x) {
  return acc_t(1) / (acc_t(1) + std::exp(-x));
}

// Contiguous acc_t copies of one call's tensors (no copy when already so) and raw views.
template <typename acc_t>
struct PlanInputs {
  ScanSizes s;
  at::Tensor u_t, delta_t, A_t, B_t, C_t, D_t, bias_t, index_t, weight_t;
  const acc_t *u, *delta, *A, *B, *C, *D, *bias, *weight;  // D, bias, weight may be null
  const int32_t* index;
  bool softplus;

  PlanInputs(const ScanSizes& sizes, const at::Tensor& u_, const at::Tensor& delta_,
             const at::Tensor& A_, const at::Tensor& B_, const at::Tensor& C_,
             const std::optional<at::Tensor>& D_, const std::optional<at::Tensor>& bias_,
             const at::Tensor& index_, const std::optional<at::Tensor>& weight_, bool sp)
      : s(sizes), softplus(sp) {
    const auto acc = c10::CppTypeToScalarType<acc_t>::value;
    auto prep = [&](const at::Tensor& t) { return t.to(acc).contiguous(); };
    auto prep_opt = [&](const std::optional<at::Tensor>& t) {
      return t && t->defined() ? prep(*t) : at::Tensor();
    };
    u_t = prep(u_), delta_t = prep(delta_), A_t = prep(A_), B_t = prep(B_), C_t = prep(C_);
    D_t = prep_opt(D_), bias_t = prep_opt(bias_), weight_t = prep_opt(weight_);
    index_t = index_.contiguous();
    u = u_t.const_data_ptr<acc_t>(), delta = delta_t.const_data_ptr<acc_t>();
    A = A_t.const_data_ptr<acc_t>(), B = B_t.const_data_ptr<acc_t>(), C = C_t.const_data_ptr<acc_t>();
    D = D_t.defined() ? D_t.const_data_ptr<acc_t>() : nullptr;
    bias = bias_t.defined() ? bias_t.const_data_ptr<acc_t>() : nullptr;
    weight = weight_t.defined() ? weight_t.const_data_ptr<acc_t>() : nullptr;
    index = index_t.const_data_ptr<int32_t>();
  }

  int64_t token(int64_t k, int64_t t) const { return index[k * s.length + t]; }
  const acc_t* u_row(int64_t b, int64_t d) const { return u + (b * s.dim + d) * s.tokens; }
  int64_t channel_row(int64_t b, int64_t c) const { return (b * s.channels + c) * s.tokens; }
  int64_t state_row(int64_t b, int64_t k, int64_t n) const {
    return ((b * s.groups + k) * s.state + n) * s.tokens;
  }
};

// One direction's per-step values for channel c: the gathered u, Δ, pre-activation x.
template <typename acc_t>
struct Steps {
  std::vector<acc_t> u, dt, x;
  std::vector<int64_t> tok;
  void gather(const PlanInputs<acc_t>& in, int64_t b, int64_t d, int64_t k) {
    const int64_t L = in.s.length, c = k * in.s.dim + d;
    u.resize(L), dt.resize(L), x.resize(L), tok.resize(L);
    const acc_t* u_row = in.u_row(b, d);
    const acc_t* delta_row = in.delta + in.channel_row(b, c);
    const acc_t bias = in.bias ? in.bias[c] : acc_t(0);
    for (int64_t t = 0; t < L; ++t) {
      const int64_t p = in.token(k, t);
      tok[t] = p;
      u[t] = p >= 0 ? u_row[p] : acc_t(0);
      x[t] = (p >= 0 ? delta_row[p] : acc_t(0)) + bias;
      dt[t] = in.softplus ? softplus(x[t]) : x[t];
    }
  }
};

template <typename acc_t>
acc_t gathered(const acc_t* row, int64_t p) {
  return p >= 0 ? row[p] : acc_t(0);
}

template <typename acc_t>
void check_index_values(const PlanInputs<acc_t>& in) {
  const int64_t count = in.s.groups * in.s.length;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t p = in.index[i];
    TORCH_CHECK(p >= -1 && p < in.s.tokens, "vss::selective_scan_plan: index[", i / in.s.length,
                "][", i % in.s.length, "] = ", p, " is outside -1..", in.s.tokens - 1,
                " (a plan for another H*W?)");
  }
}

template <typename acc_t>
void plan_forward(const PlanInputs<acc_t>& in, acc_t* y) {
  const ScanSizes& s = in.s;
  at::parallel_for(0, s.batch * s.dim, 1, [&](int64_t begin, int64_t end) {
    Steps<acc_t> st;
    std::vector<acc_t> h(s.state);
    for (int64_t bd = begin; bd < end; ++bd) {
      const int64_t b = bd / s.dim, d = bd % s.dim;
      acc_t* y_row = y + bd * s.tokens;
      std::fill(y_row, y_row + s.tokens, acc_t(0));
      for (int64_t k = 0; k < s.groups; ++k) {
        const int64_t c = k * s.dim + d;
        st.gather(in, b, d, k);
        std::fill(h.begin(), h.end(), acc_t(0));
        const acc_t Dc = in.D ? in.D[c] : acc_t(0);
        for (int64_t t = 0; t < s.length; ++t) {
          const int64_t p = st.tok[t];
          acc_t out = Dc * st.u[t];
          for (int64_t n = 0; n < s.state; ++n) {
            const int64_t r = in.state_row(b, k, n);
            h[n] = std::exp(st.dt[t] * in.A[c * s.state + n]) * h[n] +
                   st.dt[t] * gathered(in.B + r, p) * st.u[t];
            out += gathered(in.C + r, p) * h[n];
          }
          if (p >= 0) y_row[p] += out;
        }
      }
      if (in.weight)
        for (int64_t p = 0; p < s.tokens; ++p) y_row[p] *= in.weight[p];
    }
  });
}

// Gradients in acc_t, in the inputs' layouts: du [batch, D, HW], ddelta [batch, K·D, HW],
// dB, dC [batch, K, N, HW]; dA [batch, K·D, N], dD and ddelta_bias [batch, K·D] per batch.
template <typename acc_t>
struct PlanGrads {
  acc_t *du, *ddelta, *dB, *dC, *dA, *dD, *dbias;
};

// Parallel over the batch: every (d, k) of a batch element adds into that element's du and
// dB/dC rows, so one task owns everything it writes.
template <typename acc_t>
void plan_backward(const PlanInputs<acc_t>& in, const acc_t* dout, const PlanGrads<acc_t>& g) {
  const ScanSizes& s = in.s;
  const int64_t L = s.length, N = s.state, K = s.groups;
  at::parallel_for(0, s.batch, 1, [&](int64_t begin, int64_t end) {
    Steps<acc_t> st;
    std::vector<acc_t> states(L * N), dy(L);  // h_t for every step: fine for a reference
    std::vector<acc_t> dh(N);
    for (int64_t b = begin; b < end; ++b) {
      for (int64_t d = 0; d < s.dim; ++d) {
        const acc_t* dout_row = dout + (b * s.dim + d) * s.tokens;
        acc_t* du_row = g.du + (b * s.dim + d) * s.tokens;
        for (int64_t k = 0; k < K; ++k) {
          const int64_t c = k * s.dim + d;
          st.gather(in, b, d, k);
          const acc_t Dc = in.D ? in.D[c] : acc_t(0);
          const acc_t* A = in.A + c * N;
          // Upstream gradient of each step: dout at its token times the merge weight.
          for (int64_t t = 0; t < L; ++t) {
            const int64_t p = st.tok[t];
            dy[t] = p >= 0 ? dout_row[p] * (in.weight ? in.weight[p] : acc_t(1)) : acc_t(0);
          }
          for (int64_t n = 0; n < N; ++n) {
            const acc_t* Bn = in.B + in.state_row(b, k, n);
            acc_t h = 0;
            for (int64_t t = 0; t < L; ++t) {
              h = std::exp(st.dt[t] * A[n]) * h + st.dt[t] * gathered(Bn, st.tok[t]) * st.u[t];
              states[t * N + n] = h;
            }
          }
          acc_t* ddelta_row = g.ddelta + in.channel_row(b, c);
          acc_t* dA = g.dA + (b * s.channels + c) * N;
          acc_t dD = 0, dbias = 0;
          std::fill(dh.begin(), dh.end(), acc_t(0));  // dL/dh_{t+1}·exp(Δ_{t+1}·A)
          for (int64_t t = L - 1; t >= 0; --t) {
            const int64_t p = st.tok[t];
            acc_t ddt = 0, du = Dc * dy[t];
            dD += dy[t] * st.u[t];
            for (int64_t n = 0; n < N; ++n) {
              const int64_t r = in.state_row(b, k, n);
              const acc_t Bv = gathered(in.B + r, p), Cv = gathered(in.C + r, p);
              const acc_t decay = std::exp(st.dt[t] * A[n]);
              const acc_t h_prev = t > 0 ? states[(t - 1) * N + n] : acc_t(0);
              const acc_t x = dy[t] * Cv + dh[n];  // dL/dh_t
              if (p >= 0) {
                g.dC[r + p] += dy[t] * states[t * N + n];
                g.dB[r + p] += x * st.dt[t] * st.u[t];
              }
              du += x * st.dt[t] * Bv;
              ddt += x * (decay * h_prev * A[n] + Bv * st.u[t]);
              dA[n] += x * decay * h_prev * st.dt[t];
              dh[n] = x * decay;
            }
            const acc_t dx = in.softplus ? ddt * sigmoid(st.x[t]) : ddt;
            dbias += dx;  // padding steps feed delta_bias too: their Δ is softplus(0 + bias)
            if (p >= 0) {
              du_row[p] += du;
              ddelta_row[p] += dx;
            }
          }
          g.dD[b * s.channels + c] = dD;
          g.dbias[b * s.channels + c] = dbias;
        }
      }
    }
  });
}

at::ScalarType acc_dtype(const at::Tensor& u) { return scan_param_dtype(u.scalar_type()); }

at::Tensor selective_scan_plan_cpu(const at::Tensor& u, const at::Tensor& delta,
                                   const at::Tensor& A, const at::Tensor& B, const at::Tensor& C,
                                   const std::optional<at::Tensor>& D,
                                   const std::optional<at::Tensor>& delta_bias,
                                   const at::Tensor& index,
                                   const std::optional<at::Tensor>& merge_weight,
                                   bool delta_softplus, std::optional<at::ScalarType> out_dtype) {
  constexpr const char* op = "vss::selective_scan_plan";
  const ScanSizes s = check_selective_scan_plan_args(op, u, delta, A, B, C, D, delta_bias, index,
                                                     merge_weight);
  check_scan_out_dtype(op, out_dtype);
  at::Tensor y = at::empty({s.batch, s.dim, s.tokens}, u.options().dtype(acc_dtype(u)));
  AT_DISPATCH_FLOATING_TYPES(acc_dtype(u), "selective_scan_plan_cpu", [&] {
    const PlanInputs<scalar_t> in(s, u, delta, A, B, C, D, delta_bias, index, merge_weight,
                                  delta_softplus);
    check_index_values(in);
    plan_forward(in, y.data_ptr<scalar_t>());
  });
  return y.to(out_dtype.value_or(u.scalar_type()));
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor>
selective_scan_plan_backward_cpu(const at::Tensor& dout, const at::Tensor& u,
                                 const at::Tensor& delta, const at::Tensor& A, const at::Tensor& B,
                                 const at::Tensor& C, const std::optional<at::Tensor>& D,
                                 const std::optional<at::Tensor>& delta_bias,
                                 const at::Tensor& index,
                                 const std::optional<at::Tensor>& merge_weight,
                                 bool delta_softplus) {
  constexpr const char* op = "vss::selective_scan_plan_backward";
  const ScanSizes s = check_selective_scan_plan_args(op, u, delta, A, B, C, D, delta_bias, index,
                                                     merge_weight);
  check_scan_dout(op, dout, u.sizes(), u);
  const auto acc = acc_dtype(u);
  const auto opts = u.options().dtype(acc);
  at::Tensor du = at::zeros({s.batch, s.dim, s.tokens}, opts);
  at::Tensor ddelta = at::zeros({s.batch, s.channels, s.tokens}, opts);
  at::Tensor dB = at::zeros({s.batch, s.groups, s.state, s.tokens}, opts), dC = at::zeros_like(dB);
  at::Tensor dA = at::zeros({s.batch, s.channels, s.state}, opts);
  at::Tensor dD = at::empty({s.batch, s.channels}, opts), dbias = at::empty_like(dD);
  AT_DISPATCH_FLOATING_TYPES(acc, "selective_scan_plan_backward_cpu", [&] {
    const PlanInputs<scalar_t> in(s, u, delta, A, B, C, D, delta_bias, index, merge_weight,
                                  delta_softplus);
    check_index_values(in);
    const at::Tensor dy = dout.to(acc).contiguous();
    const PlanGrads<scalar_t> g{du.data_ptr<scalar_t>(), ddelta.data_ptr<scalar_t>(),
                                dB.data_ptr<scalar_t>(), dC.data_ptr<scalar_t>(),
                                dA.data_ptr<scalar_t>(), dD.data_ptr<scalar_t>(),
                                dbias.data_ptr<scalar_t>()};
    plan_backward(in, dy.const_data_ptr<scalar_t>(), g);
  });
  const at::ScalarType in_dtype = u.scalar_type();
  const bool has_D = D && D->defined(), has_bias = delta_bias && delta_bias->defined();
  return {du.to(in_dtype),
          ddelta.to(in_dtype),
          dA.sum(0),
          dB.to(in_dtype),
          dC.to(in_dtype),
          has_D ? dD.sum(0) : at::Tensor(),
          has_bias ? dbias.sum(0) : at::Tensor()};
}

}  // namespace

TORCH_LIBRARY_IMPL(vss, CPU, m) {
  m.impl("selective_scan_plan", &selective_scan_plan_cpu);
  m.impl("selective_scan_plan_backward", &selective_scan_plan_backward_cpu);
}

}  // namespace vss
