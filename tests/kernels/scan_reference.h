#pragma once
// Independent references for the selective-scan tests: random inputs in the op's layout, a
// naive float64 triple loop for the forward, and the same recurrence written with torch ops
// (so torch's own autograd supplies reference gradients).
#include <torch/torch.h>

#include <cmath>
#include <optional>
#include <vector>

namespace vss::test {

struct ScanCase {
  int64_t batch = 2, K = 2, D = 3, N = 4, L = 17;
  bool with_D = true, with_bias = true, softplus = true;
};

struct ScanArgs {
  torch::Tensor u, delta, A, B, C;
  std::optional<torch::Tensor> D, bias;
  bool softplus = true;

  std::vector<torch::Tensor> tensors() const {  // the inputs gradients are taken for
    std::vector<torch::Tensor> v{u, delta, A, B, C};
    if (D) v.push_back(*D);
    if (bias) v.push_back(*bias);
    return v;
  }
  ScanArgs to(torch::ScalarType inputs, torch::ScalarType params) const {
    ScanArgs r = *this;
    r.u = u.to(inputs), r.delta = delta.to(inputs), r.B = B.to(inputs), r.C = C.to(inputs);
    r.A = A.to(params);
    if (D) r.D = D->to(params);
    if (bias) r.bias = bias->to(params);
    return r;
  }
  ScanArgs requiring_grad() const {
    ScanArgs r = *this;
    for (torch::Tensor* t : {&r.u, &r.delta, &r.A, &r.B, &r.C})
      *t = t->detach().clone().requires_grad_(true);
    if (D) r.D = D->detach().clone().requires_grad_(true);
    if (bias) r.bias = bias->detach().clone().requires_grad_(true);
    return r;
  }
};

// float64 inputs. Without softplus, delta is signed (Δ < 0 happens) but small so the
// states stay finite; A is negative as in Mamba (A = -exp(A_log)).
inline ScanArgs random_scan_args(const ScanCase& c, uint64_t seed) {
  torch::manual_seed(seed);
  const auto f64 = torch::dtype(torch::kFloat64);
  ScanArgs a;
  a.softplus = c.softplus;
  a.u = torch::randn({c.batch, c.K * c.D, c.L}, f64);
  a.delta = c.softplus ? torch::randn({c.batch, c.K * c.D, c.L}, f64)
                       : 0.5 * torch::randn({c.batch, c.K * c.D, c.L}, f64);
  a.A = -torch::rand({c.K * c.D, c.N}, f64) * 2 - 0.1;
  a.B = torch::randn({c.batch, c.K, c.N, c.L}, f64);
  a.C = torch::randn({c.batch, c.K, c.N, c.L}, f64);
  if (c.with_D) a.D = torch::randn({c.K * c.D}, f64);
  if (c.with_bias) a.bias = 0.5 * torch::randn({c.K * c.D}, f64);
  return a;
}

struct NaiveResult {
  torch::Tensor out, last_state;  // float64
};

// The recurrence exactly as written in DESIGN.md §2, one scalar at a time, in float64.
inline NaiveResult naive_scan(const ScanArgs& in) {
  auto u = in.u.to(torch::kFloat64), delta = in.delta.to(torch::kFloat64);
  auto A = in.A.to(torch::kFloat64), B = in.B.to(torch::kFloat64), C = in.C.to(torch::kFloat64);
  const int64_t batch = u.size(0), KD = u.size(1), L = u.size(2), K = B.size(1), N = A.size(1);
  const int64_t Dm = KD / K;
  auto out = torch::zeros({batch, KD, L}, torch::kFloat64);
  auto last = torch::zeros({batch, KD, N}, torch::kFloat64);
  auto ua = u.accessor<double, 3>(), da = delta.accessor<double, 3>();
  auto Aa = A.accessor<double, 2>();
  auto Ba = B.accessor<double, 4>(), Ca = C.accessor<double, 4>();
  auto oa = out.accessor<double, 3>(), la = last.accessor<double, 3>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t c = 0; c < KD; ++c) {
      const int64_t k = c / Dm;
      const double Dc = in.D ? in.D->to(torch::kFloat64)[c].item<double>() : 0.0;
      const double bias = in.bias ? in.bias->to(torch::kFloat64)[c].item<double>() : 0.0;
      std::vector<double> h(N, 0.0);
      for (int64_t t = 0; t < L; ++t) {
        double dt = da[b][c][t] + bias;
        if (in.softplus) dt = dt > 20 ? dt : std::log1p(std::exp(dt));
        double y = Dc * ua[b][c][t];
        for (int64_t n = 0; n < N; ++n) {
          h[n] = std::exp(dt * Aa[c][n]) * h[n] + dt * Ba[b][k][n][t] * ua[b][c][t];
          y += Ca[b][k][n][t] * h[n];
        }
        oa[b][c][t] = y;
      }
      for (int64_t n = 0; n < N; ++n) la[b][c][n] = h[n];
    }
  return {out, last};
}

// The same recurrence with differentiable torch ops (one step at a time over [batch, K·D, N]);
// its gradients come from torch's autograd, not from the kernel's hand-written backward.
inline torch::Tensor torch_loop_scan(const ScanArgs& in) {
  const int64_t KD = in.u.size(1), L = in.u.size(2), K = in.B.size(1), N = in.A.size(1);
  torch::Tensor x = in.delta;
  if (in.bias) x = x + in.bias->unsqueeze(-1);
  const torch::Tensor dt = in.softplus ? torch::softplus(x) : x;
  const torch::Tensor Bx = in.B.repeat_interleave(KD / K, 1);  // [batch, K·D, N, L]
  const torch::Tensor Cx = in.C.repeat_interleave(KD / K, 1);
  const torch::Tensor decay = torch::exp(dt.unsqueeze(2) * in.A.unsqueeze(-1));  // [b, KD, N, L]
  const torch::Tensor drive = (dt * in.u).unsqueeze(2) * Bx;
  // unbind, not select(t): select's backward would build a full-size gradient every step.
  const auto decays = decay.unbind(3), drives = drive.unbind(3), Cs = Cx.unbind(3);
  torch::Tensor h = torch::zeros({in.u.size(0), KD, N}, in.u.options());
  std::vector<torch::Tensor> ys;
  for (int64_t t = 0; t < L; ++t) {
    h = decays[t] * h + drives[t];
    ys.push_back((h * Cs[t]).sum(-1));
  }
  torch::Tensor y = torch::stack(ys, -1);
  if (in.D) y = y + in.D->unsqueeze(-1) * in.u;
  return y;
}

}  // namespace vss::test
