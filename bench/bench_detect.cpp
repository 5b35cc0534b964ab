// vss-bench detect: detector throughput (frames/s) and peak memory of a CenterNet config, as
// vss-track --detector runs it per batch of frames: uint8 frames on the device -> normalised,
// padded to a multiple of 32 -> backbone, neck, heads -> max-pool peaks, top-K, boxes on the
// CPU. Random weights (speed does not depend on them), eval mode, InferenceMode; bf16 is CUDA
// autocast. Frame decoding and association are not in it (vss-track --json reports those).
// Time: median of --repeat calls after --warmup (CUDA events).
//   vss-bench detect --config configs/detect/centernet_vmamba_tiny.yaml --res 720x1280 --batch 8 --dtype bf16
#include "bench/bench_command.h"
#include "bench/bench_setup.h"
#include "core/cli.h"
#include "core/config.h"
#include "heads/detect/centernet.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>

namespace vss::bench {
namespace {

int run_detect_bench(const std::vector<std::string>& args) {
  ArgParser p("vss-bench detect", "Times a CenterNet detector on random frames (frames/s, decoding included) and "
                                  "reports its peak memory.");
  auto& config = p.option("--config", "FILE", "", "detector YAML (configs/detect/*.yaml: a training config or a bare model)", true);
  auto& sets = p.multi("--set", "key=value", "override a config key");
  RunOptionParser run_options(p, "720x1280", "8");
  auto& json = p.flag("--json", "print JSON instead of a table");
  if (int rc = p.parse(args); rc >= 0) return rc;
  const auto run = run_options.read("vss-bench detect");
  if (!run) return 2;
  const c10::Device dev = run->device;
  Config cfg = Config::load(config.str());
  for (const auto& s : sets.values) cfg.apply_override(s);
  torch::manual_seed(0);
  detect::CenterNet model = detect::make_centernet(cfg.has("model") ? cfg["model"] : cfg);
  model->to(dev);
  model->eval();
  int64_t params = 0;
  for (const auto& t : model->parameters()) params += t.numel();
  c10::InferenceMode inference_mode;
  const at::Tensor frames = torch::randint(0, 256, {run->batch, 3, run->height, run->width},
                                           torch::TensorOptions().dtype(torch::kByte).device(dev));
  size_t boxes = 0;
  const Timing timing = time_run(*run, [&] {
    boxes = 0;
    for (const auto& f : model->detect(frames)) boxes += f.size();
  });
  const double fps = static_cast<double>(run->batch) / (timing.ms / 1e3);
  if (json) {
    nlohmann::json j{{"config", config.str()}, {"overrides", sets.values}, {"params", params}, {"H", run->height},
                     {"W", run->width},        {"batch", run->batch},      {"dtype", run->dtype},
                     {"device", dev.str()},    {"repeat", run->repeat},    {"warmup", run->warmup},
                     {"ms_per_batch", timing.ms}, {"frames_per_s", fps},   {"boxes_last_batch", boxes},
                     {"peak_mib", peak_json(timing.peak_mib)}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%-44s %5lldx%-5lld b%-3lld %-5s %-7s %9.3f ms %9.2f frames/s  peak %13s  (%.2fM params)\n",
                config.str().c_str(), static_cast<long long>(run->height), static_cast<long long>(run->width),
                static_cast<long long>(run->batch), run->dtype.c_str(), dev.str().c_str(), timing.ms, fps,
                peak_text(timing.peak_mib).c_str(), static_cast<double>(params) / 1e6);
  }
  return 0;
}

const BenchCommand kDetect("detect", "detector throughput (frames/s, CenterNet decoding included) and peak memory",
                           run_detect_bench);

}  // namespace
}  // namespace vss::bench
