// vss-demo: the whole stack on one generated image. For every registered scan strategy it
// builds the plan, runs a tiny VMamba-shaped network with that strategy through the fused
// scan and through the unfused oracle (flatten -> selective scan -> merge), and prints the
// plan and forward timings and how far the two paths differ.
#include "backbones/backbone_registry.h"
#include "backbones/vssm.h"
#include "backbones/weights.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "engine/device_options.h"
#include "scans/scan_strategy.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace {

// A deterministic test card: smooth colour ramps, a checkerboard and a bright disc, so that
// every scan order sees structure in both directions.
at::Tensor make_test_image(int64_t size) {
  auto ys = torch::linspace(0, 1, size).view({size, 1}).expand({size, size});
  auto xs = torch::linspace(0, 1, size).view({1, size}).expand({size, size});
  auto checker = ((ys * 8).floor() + (xs * 8).floor()).remainder(2);
  auto disc = ((ys - 0.6).pow(2) + (xs - 0.4).pow(2) < 0.05).to(torch::kFloat32);
  auto img = torch::stack({xs, 0.5 * checker + 0.5 * disc, 1 - ys}, 0);
  const auto mean = torch::tensor({0.485, 0.456, 0.406}).view({3, 1, 1});
  const auto std = torch::tensor({0.229, 0.224, 0.225}).view({3, 1, 1});
  return ((img - mean) / std).unsqueeze(0).to(torch::kFloat32);
}

template <class F>
double median_ms(int repeats, const at::Device& device, F&& fn) {
  fn();  // warm-up: plan caches, allocator, kernel selection
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    if (device.is_cuda()) torch::cuda::synchronize();
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    if (device.is_cuda()) torch::cuda::synchronize();
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

std::shared_ptr<vss::VSSM> build(const vss::Config& base, const std::string& strategy, bool fused) {
  auto cfg = base;
  cfg.apply_override("scan.type=" + strategy);
  cfg.apply_override(std::string("fused_scan=") + (fused ? "true" : "false"));
  auto model = std::dynamic_pointer_cast<vss::VSSM>(vss::make_backbone(cfg));
  if (!model) base.fail("vss-demo needs a `type: vssm` classifier config");
  model->eval();
  return model;
}

int run(const std::vector<std::string>& args) {
  vss::ArgParser p("vss-demo", "Runs a tiny VSS network on a generated image with every scan strategy.");
  auto& config = p.option("--config", "FILE", "configs/backbones/vss_tiny_test.yaml", "network config (type: vssm)");
  auto& size = p.option("--size", "PIXELS", "224", "image side");
  auto& device_name = p.option("--device", "cpu|cuda[:i]", "cpu", "where to run");
  auto& repeats = p.option("--repeat", "N", "5", "timed repetitions (median)");
  if (int rc = p.parse(args); rc >= 0) return rc;

  const at::Device device = vss::parse_device(device_name.str());
  vss::require_device(device, device_name.str());
  const auto base = vss::Config::load(config.str());
  const auto image = make_test_image(size.as_int()).to(device);
  torch::manual_seed(0);
  torch::NoGradGuard no_grad;

  std::printf("vss-demo: %lldx%lld image, config %s, device %s\n\n", (long long)size.as_int(),
              (long long)size.as_int(), config.str().c_str(), device.str().c_str());
  std::printf("%-14s %3s %12s %14s %16s %12s %6s\n", "strategy", "K", "plan (ms)", "fused fwd (ms)",
              "unfused fwd (ms)", "max |diff|", "class");
  for (const auto& name : vss::scan_strategy_names()) {
    auto fused = build(base, name, true);
    auto unfused = build(base, name, false);
    vss::load_state(*unfused, vss::model_state(*fused), "vss-demo");  // same weights
    fused->to(device);
    unfused->to(device);

    // The first stage's map: the plan the scans there use.
    const auto trace = fused->trace(image);
    const int64_t h = trace.patch_embed.size(1), w = trace.patch_embed.size(2);
    auto strategy = vss::make_scan_strategy(vss::Config::parse("type: " + name));
    const auto t0 = std::chrono::steady_clock::now();
    strategy->make_plan(h, w);
    const double plan_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

    at::Tensor a, b;
    const int n = static_cast<int>(repeats.as_int());
    const double fused_ms = median_ms(n, device, [&] { a = fused->forward(image); });
    const double unfused_ms = median_ms(n, device, [&] { b = unfused->forward(image); });
    const double diff = (a - b).abs().max().item<double>();
    std::printf("%-14s %3lld %12.3f %14.2f %16.2f %12.2e %6lld\n", name.c_str(),
                (long long)strategy->num_directions(), plan_ms, fused_ms, unfused_ms, diff,
                (long long)a.argmax(1).item<int64_t>());
  }
  std::printf("\nfused = plan-driven scan (no K copies in memory); unfused = flatten -> scan -> merge.\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return vss::run_app("vss-demo", argc, argv, run); }
