// vss-bench scan-fused: the selective scan on VMamba-sized maps, four ways — the plain op on
// already-flattened [B, K·D, L] inputs, the fused plan op (vss::selective_scan_plan: gathers
// and merges inside the kernel), its channel-last twin (forward only: inference) and the
// unfused flatten -> scan -> merge path — forward and forward+backward, in float32 and bfloat16. Each time is the median of --iters runs after
// warm-up (CUDA events); GB/s counts the bytes the op must read and write once at the given
// dtypes, and "copy%" compares that with a device-to-device copy measured in the same run.
#include "bench/bench_command.h"
#include "bench/bench_setup.h"
#include "bench/gpu_timing.h"
#include "core/cli.h"
#include "core/error.h"
#include "engine/device_options.h"
#include "kernels/selective_scan.h"
#include "scans/scan_2d.h"
#include "scans/strategy_registry.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace vss::bench {
namespace {

struct Case {
  int64_t batch, dim, H, W, N, K;
  bool image;  // a K=4 cross-scan image case (else: a 1-D sequence of length H·W, plain op only)
  std::string name() const {
    char buf[96];
    if (image)
      std::snprintf(buf, sizeof buf, "B%lld D%lld %lldx%lld N%lld K%lld", (long long)batch,
                    (long long)dim, (long long)H, (long long)W, (long long)N, (long long)K);
    else
      std::snprintf(buf, sizeof buf, "B%lld D%lld L%lld N%lld K%lld", (long long)batch,
                    (long long)dim, (long long)(H * W), (long long)N, (long long)K);
    return buf;
  }
};

std::vector<Case> all_cases() {
  return {{128, 192, 56, 56, 1, 4, true},  {128, 384, 28, 28, 1, 4, true},
          {128, 768, 14, 14, 1, 4, true},  {16, 192, 128, 128, 1, 4, true},
          {1, 192, 512, 512, 1, 4, true},  {8, 1536, 1, 2048, 16, 1, false}};
}

// Restoration (MambaIR-light x4: 72 channels at full input resolution, batch 1): 256² tiles
// and the 480x270 input of a 1920x1080 output.
std::vector<Case> restoration_cases() {
  return {{1, 72, 256, 256, 1, 4, true}, {1, 72, 270, 480, 1, 4, true}};
}

// VMamba-T's (ssm_ratio 1) stage maps at 224² b128 and 1024² b4 (and 2048² b1's first), where
// the channel-first and channel-last fused kernels trade places.
std::vector<Case> vmamba_t_cases() {
  return {{128, 96, 56, 56, 1, 4, true}, {128, 192, 28, 28, 1, 4, true},
          {4, 96, 256, 256, 1, 4, true}, {4, 192, 128, 128, 1, 4, true},
          {4, 384, 64, 64, 1, 4, true},  {1, 96, 512, 512, 1, 4, true}};
}

struct Row {
  std::string case_name, dtype, variant;
  double ms, bytes;
};

// Minimal bytes: every input read once, every output written once.
struct Bytes {
  double plain_fwd, plain_bwd, fused_fwd, fused_bwd;
};

Bytes min_bytes(const Case& c, int64_t elem) {
  const double L = static_cast<double>(c.H * c.W), s = static_cast<double>(elem);
  const double chan = c.batch * c.K * c.dim * L * s;  // one [B, K·D, L] tensor
  const double img = c.batch * c.dim * L * s;         // one [B, D, H·W] tensor
  const double bc = c.batch * c.K * c.N * L * s;      // one of B, C
  const double index = c.K * L * 4;
  Bytes b;
  b.plain_fwd = 3 * chan + 2 * bc;                    // u, delta, B, C -> out
  b.plain_bwd = 5 * chan + 4 * bc;                    // dout, u, delta, B, C -> du, ddelta, dB, dC
  b.fused_fwd = 2 * img + chan + 2 * bc + index;      // u, delta, B, C, index -> y
  b.fused_bwd = 3 * img + 2 * chan + 4 * bc + index;  // dout, u, delta, B, C -> du, ddelta, dB, dC
  return b;
}

struct Tensors {
  at::Tensor u_flat, u_img, delta, A, B, C, D, bias, dy_flat, dy_img;
};

Tensors make_tensors(const Case& c, at::ScalarType dtype, const c10::Device& dev) {
  const int64_t L = c.H * c.W, KD = c.K * c.dim;
  auto t = torch::TensorOptions().device(dev).dtype(dtype);
  auto f = torch::TensorOptions().device(dev).dtype(torch::kFloat);
  Tensors x;
  x.delta = (torch::randn({c.batch, KD, L}, t) * 0.5 - 1.5).to(dtype);
  x.A = -(torch::rand({KD, c.N}, f) * 3.5 + 0.5);
  x.B = torch::randn({c.batch, c.K, c.N, L}, t);
  x.C = torch::randn({c.batch, c.K, c.N, L}, t);
  x.D = torch::randn({KD}, f);
  x.bias = torch::randn({KD}, f) * 0.3;
  if (c.image) {
    x.u_img = torch::randn({c.batch, c.dim, L}, t);
    x.dy_img = torch::randn({c.batch, c.dim, L}, t);
  }
  return x;
}

using Grads = std::vector<at::Tensor>;

// Gradients of every differentiable input without accumulating into .grad (that would add a
// read-modify-write per run).
Grads grads_of(const at::Tensor& y, const at::Tensor& dy, const std::vector<at::Tensor>& inputs) {
  return torch::autograd::grad({y}, inputs, {dy});
}

std::vector<at::Tensor> leaves(const std::vector<at::Tensor>& ts) {
  std::vector<at::Tensor> out;
  for (const auto& t : ts) out.push_back(t.detach().requires_grad_(true));
  return out;
}

void run_case(const Case& c, at::ScalarType dtype, const c10::Device& dev, int iters,
              std::vector<Row>& rows) {
  const std::string dname = dtype == torch::kFloat ? "fp32" : "bf16";
  const Bytes bytes = min_bytes(c, dtype == torch::kFloat ? 4 : 2);
  Tensors x = make_tensors(c, dtype, dev);
  auto time = [&](const std::string& variant, double nbytes, const std::function<void()>& fn) {
    const double ms = median_ms(fn, dev, 3, iters);
    rows.push_back({c.name(), dname, variant, ms, nbytes});
    const Row& r = rows.back();
    std::printf("  %-28s %-5s %-16s %9.3f ms %8.1f GB/s\n", r.case_name.c_str(), dname.c_str(),
                variant.c_str(), ms, nbytes / (ms * 1e6));
    std::fflush(stdout);
  };

  {  // plain op on [B, K·D, L] (for image cases: the flattened size of the same work)
    const int64_t L = c.H * c.W;
    at::Tensor u = torch::randn({c.batch, c.K * c.dim, L}, x.delta.options());
    at::Tensor dy = torch::randn_like(u);
    time("plain fwd", bytes.plain_fwd, [&] {
      vss::selective_scan(u, x.delta, x.A, x.B, x.C, x.D, x.bias, true);
    });
    auto in = leaves({u, x.delta, x.A, x.B, x.C, x.D, x.bias});
    time("plain fwd+bwd", bytes.plain_fwd + bytes.plain_bwd, [&] {
      auto [y, last] = vss::selective_scan(in[0], in[1], in[2], in[3], in[4], in[5], in[6], true);
      grads_of(y, dy, in);
    });
  }
  if (!c.image) return;

  const auto strategy = vss::make_scan_strategy("cross", {});
  const vss::ScanPlan& plan = vss::cached_plan(*strategy, c.H, c.W, dev);
  time("fused fwd", bytes.fused_fwd, [&] {
    vss::selective_scan_plan(x.u_img, x.delta, x.A, x.B, x.C, x.D, x.bias, plan.index,
                             std::nullopt, true);
  });
  {
    const at::Tensor u = x.u_img.transpose(1, 2).contiguous(), delta = x.delta.transpose(1, 2).contiguous();
    const at::Tensor B = x.B.permute({0, 3, 1, 2}).contiguous(), C = x.C.permute({0, 3, 1, 2}).contiguous();
    time("fused-cl fwd", bytes.fused_fwd, [&] {
      vss::selective_scan_plan_channels_last(u, delta, x.A, B, C, x.D, x.bias, plan.index,
                                             std::nullopt, true);
    });
  }
  {
    auto in = leaves({x.u_img, x.delta, x.A, x.B, x.C, x.D, x.bias});
    time("fused fwd+bwd", bytes.fused_fwd + bytes.fused_bwd, [&] {
      at::Tensor y = vss::selective_scan_plan(in[0], in[1], in[2], in[3], in[4], in[5], in[6],
                                              plan.index, std::nullopt, true);
      grads_of(y, x.dy_img, in);
    });
  }
  // Unfused: flatten -> plain scan -> merge, in image layout [B, D, H, W].
  auto img = [&](const std::vector<at::Tensor>& in) {
    return vss::scan_2d_unfused(in[0].view({c.batch, c.dim, c.H, c.W}),
                                in[1].view({c.batch, c.K * c.dim, c.H, c.W}), in[2],
                                in[3].view({c.batch, c.K, c.N, c.H, c.W}),
                                in[4].view({c.batch, c.K, c.N, c.H, c.W}), in[5], in[6], plan, true);
  };
  const std::vector<at::Tensor> plain_in{x.u_img, x.delta, x.A, x.B, x.C, x.D, x.bias};
  time("unfused fwd", bytes.fused_fwd, [&] { img(plain_in); });
  {
    auto in = leaves(plain_in);
    const at::Tensor dy = x.dy_img.view({c.batch, c.dim, c.H, c.W});
    time("unfused fwd+bwd", bytes.fused_fwd + bytes.fused_bwd, [&] { grads_of(img(in), dy, in); });
  }
}

int run(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-bench scan-fused",
                   "Times the plain, fused (plan-driven) and unfused selective scan against the "
                   "device's copy bandwidth.");
  auto& device = p.option("--device", "cpu|cuda[:i]", "cuda", "where to run (cpu works, slowly)");
  auto& dtypes = p.option("--dtype", "LIST", "fp32,bf16", "fp32, bf16 or fp32,bf16");
  auto& iters = p.option("--iters", "N", "20", "timed runs per measurement (median)");
  auto& json = p.option("--json", "FILE", "", "also write the results as JSON");
  auto& quick = p.flag("--quick", "first image case and the Mamba LM case only");
  auto& restoration = p.flag("--restoration", "restoration-shaped cases instead (batch 1, 72 channels, 256² and 270x480)");
  auto& vmamba_t = p.flag("--vmamba-t", "VMamba-T's stage maps at 224² b128, 1024² b4 and 2048² b1 instead");
  auto& split = scan_split_option(p);
  if (int rc = p.parse(args); rc >= 0) return rc;
  try {
    apply_scan_split(split);
  } catch (const Error& e) {
    std::fprintf(stderr, "vss-bench scan-fused: %s\ntry --help\n", e.what());
    return 2;
  }
  const c10::Device dev = vss::parse_device(device.str());
  vss::require_device(dev, device.str());
  const int n_iters = static_cast<int>(iters.as_int());

  const double copy_gbs = copy_bandwidth_gbs(dev);
  std::printf("device-to-device copy: %.1f GB/s (bytes read + written)\n", copy_gbs);
  std::vector<Row> rows;
  std::vector<Case> cases = all_cases();
  if (quick) cases = {cases.front(), cases.back()};
  if (restoration) cases = restoration_cases();
  if (vmamba_t) cases = vmamba_t_cases();
  for (const Case& c : cases)
    for (const std::string& d : {std::string("fp32"), std::string("bf16")})
      if (dtypes.str().find(d) != std::string::npos)
        run_case(c, d == "fp32" ? torch::kFloat : torch::kBFloat16, dev, n_iters, rows);

  std::printf("\n| case | dtype | variant | ms | GB/s | copy%% |\n|---|---|---|---|---|---|\n");
  for (const Row& r : rows) {
    const double gbs = r.bytes / (r.ms * 1e6);
    std::printf("| %s | %s | %s | %.3f | %.0f | %.0f%% |\n", r.case_name.c_str(), r.dtype.c_str(),
                r.variant.c_str(), r.ms, gbs, 100 * gbs / copy_gbs);
  }
  // Ratios the goals are stated in.
  auto find = [&](const Row& like, const std::string& variant) -> const Row* {
    for (const Row& r : rows)
      if (r.case_name == like.case_name && r.dtype == like.dtype && r.variant == variant) return &r;
    return nullptr;
  };
  std::printf("\n| case | dtype | fused/plain fwd | fused-cl/plain fwd | fused/plain fwd+bwd | unfused/fused fwd | unfused/fused fwd+bwd |\n|---|---|---|---|---|---|---|\n");
  for (const Row& r : rows) {
    if (r.variant != "fused fwd") continue;
    const Row *pf = find(r, "plain fwd"), *pb = find(r, "plain fwd+bwd"),
              *fb = find(r, "fused fwd+bwd"), *uf = find(r, "unfused fwd"),
              *ub = find(r, "unfused fwd+bwd"), *cl = find(r, "fused-cl fwd");
    std::printf("| %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f |\n", r.case_name.c_str(),
                r.dtype.c_str(), r.ms / pf->ms, cl->ms / pf->ms, fb->ms / pb->ms, uf->ms / r.ms,
                ub->ms / fb->ms);
  }
  if (!json.str().empty()) {
    nlohmann::json j;
    j["copy_gbs"] = copy_gbs;
    j["device"] = dev.str();
    for (const Row& r : rows)
      j["rows"].push_back({{"case", r.case_name}, {"dtype", r.dtype}, {"variant", r.variant},
                           {"ms", r.ms}, {"bytes", r.bytes},
                           {"gbs", r.bytes / (r.ms * 1e6)}});
    std::ofstream(json.str()) << j.dump(1) << "\n";
  }
  return 0;
}

const BenchCommand kCommand("scan-fused",
                            "plain vs fused vs unfused selective scan, ms and GB/s vs copy", run);

}  // namespace
}  // namespace vss::bench
