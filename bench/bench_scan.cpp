// vss-bench scan: the plain selective-scan op (vss::selective_scan) on flattened inputs
// [B, K·D, L] with K from the scan strategy and L = H·W, forward and (with --backward)
// forward+backward. Time: median of --repeat runs after warm-up (CUDA events on a GPU).
// Effective bytes: what the op must read and write once at the given dtypes; forward reads
// u, delta, B, C (dtype) and A, D, delta_bias (float32) and writes out (dtype); the backward
// op reads dout and the same inputs and writes du, ddelta, dB, dC (dtype) and dA, dD,
// ddelta_bias (float32). forward+backward counts both.
#include "bench/bench_command.h"
#include "bench/bench_setup.h"
#include "bench/gpu_timing.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "engine/device_options.h"
#include "kernels/selective_scan.h"
#include "scans/scan_strategy.h"

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <string>
#include <vector>

namespace vss::bench {
namespace {

struct ScanShape {
  int64_t batch, dim, H, W, N, K;
  int64_t L() const { return H * W; }
  int64_t channels() const { return K * dim; }
};

torch::ScalarType parse_dtype(const std::string& name) {
  if (name == "fp32") return torch::kFloat32;
  if (name == "bf16") return torch::kBFloat16;
  if (name == "fp16") return torch::kFloat16;
  throw Error("--dtype: expected fp32, bf16 or fp16, got '" + name + "'");
}

// Bytes the forward and the backward op each read + write once.
struct Traffic {
  double forward, backward;
};

Traffic traffic(const ScanShape& s, int64_t elem) {
  const double e = static_cast<double>(elem), f32 = 4.0;
  const double seq = static_cast<double>(s.batch * s.channels() * s.L()) * e;    // u, delta, out
  const double bc = static_cast<double>(s.batch * s.K * s.N * s.L()) * e;        // B or C
  const double params = static_cast<double>(s.channels() * (s.N + 2)) * f32;     // A, D, bias
  const double inputs = 2 * seq + 2 * bc + params;
  return {inputs + seq,                      // + out
          seq + inputs + 2 * seq + 2 * bc + params};  // dout + inputs + du, ddelta, dB, dC, dA, dD, dbias
}

struct Result {
  std::string pass;
  double ms, bytes;
};

int run_scan_bench(const std::vector<std::string>& args) {
  ArgParser p("vss-bench scan",
              "Times the selective-scan op on flattened [B, K*D, L] inputs (L = H*W, K from the "
              "scan strategy), forward and optionally forward+backward.");
  auto& strategy = p.option("--strategy", "NAME", "cross", "scan strategy giving K (its directions)");
  auto& shape = p.option("--shape", "B,D,H,W,N", "2,192,56,56,1", "batch, channels per direction, map size, state size");
  auto& dtype = p.option("--dtype", "fp32|bf16|fp16", "fp32", "dtype of u, delta, B, C and out (A, D, bias are float32)");
  auto& device = p.option("--device", "cpu|cuda[:i]", "cpu", "where to run");
  auto& backward = p.flag("--backward", "also time forward+backward");
  auto& repeat = p.option("--repeat", "N", "20", "timed runs (the median is reported)");
  auto& warmup = p.option("--warmup", "N", "3", "untimed runs first");
  auto& json = p.flag("--json", "print JSON instead of a table");
  auto& split = scan_split_option(p);
  if (int rc = p.parse(args); rc >= 0) return rc;

  ScanShape s{};
  torch::ScalarType dt{};
  c10::Device dev(c10::kCPU);
  int iters = 0, warm = 0;
  try {  // bad option values are usage errors (exit 2), like unknown options
    const std::vector<long long> dims = parse_int_list(shape.str(), "--shape");
    if (dims.size() != 5)
      throw Error("--shape: expected B,D,H,W,N (5 integers), got '" + shape.str() + "'");
    for (long long d : dims)
      if (d < 1) throw Error("--shape: every size must be >= 1, got '" + shape.str() + "'");
    const auto scan = make_scan_strategy(Config::parse("type: " + strategy.str(), "--strategy"));
    s = {dims[0], dims[1], dims[2], dims[3], dims[4], scan->num_directions()};
    dt = parse_dtype(dtype.str());
    dev = parse_device(device.str());
    iters = static_cast<int>(repeat.as_int());
    warm = static_cast<int>(warmup.as_int());
    if (iters < 1 || warm < 0) throw Error("--repeat must be >= 1 and --warmup >= 0");
    apply_scan_split(split);
  } catch (const Error& e) {
    std::fprintf(stderr, "vss-bench scan: %s\ntry --help\n", e.what());
    return 2;
  }
  require_device(dev, device.str());

  // Mamba-like magnitudes: A = -exp(·) < 0, delta around 0 before the softplus.
  torch::manual_seed(0);
  const auto in_opts = torch::TensorOptions().dtype(dt).device(dev);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(dev);
  torch::Tensor u = torch::randn({s.batch, s.channels(), s.L()}, in_opts);
  torch::Tensor delta = torch::randn({s.batch, s.channels(), s.L()}, in_opts) * 0.5 - 2;
  torch::Tensor A = -torch::exp(torch::randn({s.channels(), s.N}, f32));
  torch::Tensor B = torch::randn({s.batch, s.K, s.N, s.L()}, in_opts);
  torch::Tensor C = torch::randn({s.batch, s.K, s.N, s.L()}, in_opts);
  torch::Tensor D = torch::ones({s.channels()}, f32);
  torch::Tensor bias = torch::rand({s.channels()}, f32) * 0.1;
  const torch::Tensor dout = torch::randn({s.batch, s.channels(), s.L()}, in_opts);

  const Traffic bytes = traffic(s, torch::elementSize(dt));
  std::vector<Result> results;
  {
    torch::NoGradGuard no_grad;
    const double ms = median_ms([&] { vss::selective_scan(u, delta, A, B, C, D, bias, true); },
                                dev, warm, iters);
    results.push_back({"forward", ms, bytes.forward});
  }
  if (backward) {
    std::vector<torch::Tensor> leaves;
    for (const torch::Tensor& t : {u, delta, A, B, C, D, bias})
      leaves.push_back(t.detach().requires_grad_(true));
    const double ms = median_ms(
        [&] {
          auto [out, last] = vss::selective_scan(leaves[0], leaves[1], leaves[2], leaves[3],
                                                 leaves[4], leaves[5], leaves[6], true);
          torch::autograd::grad({out}, leaves, {dout});
        },
        dev, warm, iters);
    results.push_back({"forward+backward", ms, bytes.forward + bytes.backward});
  }

  const std::string shape_text = std::to_string(s.batch) + "x" + std::to_string(s.channels()) +
                                 "x" + std::to_string(s.L()) + " N=" + std::to_string(s.N);
  const int threads = dev.is_cpu() ? at::get_num_threads() : 0;
  if (json) {
    nlohmann::json j;
    j["strategy"] = strategy.str();
    j["K"] = s.K;
    j["shape"] = {{"B", s.batch}, {"D", s.dim}, {"H", s.H}, {"W", s.W}, {"N", s.N}, {"L", s.L()}};
    j["dtype"] = dtype.str();
    j["device"] = dev.str();
    if (dev.is_cpu()) j["threads"] = threads;
    j["repeat"] = iters;
    for (const Result& r : results)
      j["results"].push_back({{"pass", r.pass}, {"ms", r.ms}, {"bytes", r.bytes},
                              {"GBps", r.bytes / (r.ms * 1e6)}});
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("selective_scan  strategy=%s K=%lld  [B, K*D, L] = %s  dtype=%s  device=%s",
              strategy.str().c_str(), static_cast<long long>(s.K), shape_text.c_str(),
              dtype.str().c_str(), dev.str().c_str());
  if (dev.is_cpu()) std::printf("  threads=%d", threads);
  std::printf("  (median of %d)\n", iters);
  std::printf("%-18s %10s %12s %10s\n", "pass", "ms", "MB", "GB/s");
  for (const Result& r : results)
    std::printf("%-18s %10.3f %12.2f %10.2f\n", r.pass.c_str(), r.ms, r.bytes / 1e6,
                r.bytes / (r.ms * 1e6));
  return 0;
}

const BenchCommand kScanCommand("scan", "selective-scan op on flattened inputs, fwd [+ bwd]",
                                run_scan_bench);

}  // namespace
}  // namespace vss::bench
