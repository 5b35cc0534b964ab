// torch.ops.load_library(libvss_kernels.so) from Python, then torch.ops.vss.selective_scan
// against a plain-Python loop written in the same script (forward, last_state, gradients).
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

namespace vss::test {
namespace {

constexpr const char* kScript = R"PY(
import sys, torch
torch.ops.load_library(sys.argv[1])

def loop_scan(u, delta, A, B, C, D, bias, softplus):
    batch, KD, L = u.shape
    K, N = B.shape[1], A.shape[1]
    out = torch.zeros(batch, KD, L, dtype=torch.float64)
    last = torch.zeros(batch, KD, N, dtype=torch.float64)
    for b in range(batch):
        for c in range(KD):
            k = c // (KD // K)
            h = [torch.zeros((), dtype=torch.float64) for _ in range(N)]
            for t in range(L):
                x = delta[b, c, t] + (bias[c] if bias is not None else 0)
                dt = torch.nn.functional.softplus(x) if softplus else x
                y = D[c] * u[b, c, t] if D is not None else 0
                for n in range(N):
                    h[n] = torch.exp(dt * A[c, n]) * h[n] + dt * B[b, k, n, t] * u[b, c, t]
                    y = y + C[b, k, n, t] * h[n]
                out[b, c, t] = y
            last[b, c] = torch.stack(h)
    return out, last

torch.manual_seed(0)
batch, K, Dm, N, L = 2, 2, 2, 3, 12
failures = []
for softplus, with_D, with_bias in [(True, True, True), (False, False, True), (True, False, False)]:
    f64 = dict(dtype=torch.float64)
    u = torch.randn(batch, K * Dm, L, **f64)
    delta = torch.randn(batch, K * Dm, L, **f64) * (1 if softplus else 0.5)
    A = -torch.rand(K * Dm, N, **f64) - 0.1
    B = torch.randn(batch, K, N, L, **f64)
    C = torch.randn(batch, K, N, L, **f64)
    D = torch.randn(K * Dm, **f64) if with_D else None
    bias = torch.randn(K * Dm, **f64) * 0.5 if with_bias else None
    leaves = [t.float().requires_grad_() if t is not None else None for t in (u, delta, A, B, C, D, bias)]
    out, last = torch.ops.vss.selective_scan(*leaves, softplus, True, None)
    out_only, no_last = torch.ops.vss.selective_scan(*leaves, softplus, False, None)
    if no_last is not None: failures.append("last_state is not None without return_last_state")
    refs = [t.clone().requires_grad_() if t is not None else None for t in (u, delta, A, B, C, D, bias)]
    ref, ref_last = loop_scan(*refs, softplus)
    dout = torch.randn_like(ref)
    used = [i for i, t in enumerate(leaves) if t is not None]
    got = torch.autograd.grad(out, [leaves[i] for i in used], dout.float())
    want = torch.autograd.grad(ref, [refs[i] for i in used], dout)
    rel = lambda a, b: ((a.double() - b).abs() / b.abs().clamp(min=1)).max().item()
    names = ["u", "delta", "A", "B", "C", "D", "delta_bias"]
    checks = [("out", rel(out, ref.detach())), ("last_state", rel(last, ref_last.detach()))]
    checks += [("d" + names[i], rel(g, w)) for i, g, w in zip(used, got, want)]
    for name, err in checks:
        status = "PASS" if err <= 1e-4 else "FAIL"
        print(f"softplus={softplus} D={with_D} bias={with_bias} {name}: {err:.2e} {status}")
        if err > 1e-4: failures.append(name)
    if out.dtype != torch.float32 or last.dtype != torch.float32: failures.append("dtype")
sys.exit(1 if failures else 0)
)PY";

TEST(selective_scan, python_load_library_matches_python_loop) {
  if (!python_has({"torch"})) GTEST_SKIP() << "the test Python ($VSS_PYTHON) has no torch";
  std::string output;
  const int rc = run_python(kScript, {VSS_KERNELS_LIBRARY}, &output);
  std::printf("%s", output.c_str());
  EXPECT_EQ(rc, 0) << output;
}

}  // namespace
}  // namespace vss::test
