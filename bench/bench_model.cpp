// vss-bench model: inference throughput of a backbone config (images/s) and its peak memory.
// The model is built from YAML (random weights: speed does not depend on them), put in eval
// mode under InferenceMode; bf16 runs under CUDA autocast (as timm's --amp), fp32 without.
// Time: median of --repeat forward passes after --warmup ones (CUDA events on a GPU).
// Peak memory: the CUDA caching allocator's peak allocated bytes over the timed passes.
#include "backbones/backbone_registry.h"
#include "backbones/vssm.h"
#include "bench/bench_command.h"
#include "bench/bench_setup.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>

namespace vss::bench {
namespace {

int run_model_bench(const std::vector<std::string>& args) {
  ArgParser p("vss-bench model",
              "Times a backbone's forward pass (images/s) and reports its peak memory.");
  auto& config = p.option("--config", "FILE", "", "backbone YAML (e.g. configs/backbones/vmamba_tiny.yaml)", true);
  auto& sets = p.multi("--set", "key=value", "override a config key");
  RunOptionParser run_options(p, "224", "128");
  auto& json = p.flag("--json", "print JSON instead of a table");
  if (int rc = p.parse(args); rc >= 0) return rc;
  const auto run = run_options.read("vss-bench model");
  if (!run) return 2;
  const int64_t H = run->height, W = run->width, B = run->batch;
  const int iters = run->repeat, warm = run->warmup;
  const c10::Device dev = run->device;

  Config node = Config::load(config.str());
  for (const auto& s : sets.values) node.apply_override(s);
  torch::manual_seed(0);
  auto model = make_backbone(node);
  model->to(dev);
  model->eval();
  int64_t params = 0;
  for (const auto& t : model->parameters()) params += t.numel();
  auto* vssm = dynamic_cast<VSSM*>(model.get());
  const int64_t in_chans = vssm ? vssm->options().in_chans : 3;

  c10::InferenceMode inference;
  const at::Tensor images = torch::randn({B, in_chans, H, W}, torch::TensorOptions().device(dev));
  auto forward = [&] {
    if (vssm && !vssm->is_dense_backbone())
      vssm->forward(images);
    else
      model->forward_features(images);
  };
  const Timing timing = time_run(*run, forward);
  const double ms = timing.ms, peak = timing.peak_mib;
  const double ips = static_cast<double>(B) / (ms / 1e3);

  if (json) {
    nlohmann::json j{{"config", config.str()}, {"overrides", sets.values}, {"params", params},
                     {"H", H}, {"W", W}, {"batch", B}, {"dtype", run->dtype}, {"device", dev.str()},
                     {"repeat", iters}, {"warmup", warm}, {"ms_per_batch", ms}, {"images_per_s", ips},
                     {"peak_mib", peak_json(peak)}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%-40s %5lldx%-5lld b%-4lld %-5s %-7s %9.3f ms %10.1f img/s  peak %13s  (%.2fM params)\n",
                config.str().c_str(), static_cast<long long>(H), static_cast<long long>(W),
                static_cast<long long>(B), run->dtype.c_str(), dev.str().c_str(), ms, ips, peak_text(peak).c_str(),
                static_cast<double>(params) / 1e6);
  }
  return 0;
}

const BenchCommand kModel("model", "backbone forward throughput (images/s) and peak memory", run_model_bench);

}  // namespace
}  // namespace vss::bench
