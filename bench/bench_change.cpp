// vss-bench change: change detection throughput (image pairs/s) and peak memory of a MambaBCD
// or MambaSCD config (the model's `type` picks), as vss-change runs it: uint8 dates on the
// device -> normalised -> logits (the whole image, or --tile windows, --tile-batch per pass,
// averaged as mmseg's slide inference) -> thresholded mask (semantic: change mask and the two
// land-cover maps). Random weights (speed does not depend on them), eval mode, InferenceMode;
// bf16 is CUDA autocast. Time: median of --repeat calls after --warmup (CUDA events on a GPU).
//   vss-bench change --config configs/change/mambabcd_tiny.yaml --res 256 --batch 16 --dtype bf16
//   vss-bench change --config configs/change/mambabcd_tiny.yaml --res 1024 --batch 1 --tile 256 --dtype bf16
//   vss-bench change --config configs/change/mambascd_tiny.yaml --res 512 --batch 8 --dtype bf16
#include "bench/bench_command.h"
#include "bench/bench_setup.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "heads/change/change_inference.h"
#include "heads/change/mamba_bcd.h"
#include "heads/change/mamba_scd.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>

namespace vss::bench {
namespace {

int run_change_bench(const std::vector<std::string>& args) {
  ArgParser p("vss-bench change",
              "Times MambaBCD / MambaSCD change detection on random image pairs (pairs/s, whole images or tiles) and reports its "
              "peak memory.");
  auto& config = p.option("--config", "FILE", "", "change YAML (configs/change/*.yaml: a training config or a bare model)", true);
  auto& sets = p.multi("--set", "key=value", "override a config key");
  RunOptionParser run_options(p, "256", "16");
  auto& tile = p.option("--tile", "N", "0", "N x N windows (0: the whole image in one pass)");
  auto& tile_stride = p.option("--tile-stride", "N", "0", "window step (0: N)");
  auto& tile_batch = p.option("--tile-batch", "N", "16", "windows per forward pass");
  auto& json = p.flag("--json", "print JSON instead of a table");
  if (int rc = p.parse(args); rc >= 0) return rc;
  const auto run = run_options.read("vss-bench change");
  if (!run) return 2;
  change::ChangeInferenceOptions inference;
  inference.tile = tile.as_int();
  inference.stride = tile_stride.as_int();
  inference.tile_batch = tile_batch.as_int();
  if (inference.tile < 0 || inference.stride < 0 || inference.tile_batch < 1) {
    std::fprintf(stderr, "vss-bench change: --tile and --tile-stride must be >= 0, --tile-batch >= 1\ntry --help\n");
    return 2;
  }
  const c10::Device dev = run->device;

  Config cfg = Config::load(config.str());
  for (const auto& s : sets.values) cfg.apply_override(s);
  torch::manual_seed(0);
  const Config& node = cfg.has("model") ? cfg["model"] : cfg;
  const bool semantic = node.has("type") && node.get<std::string>("type") == "mamba_scd";
  std::shared_ptr<torch::nn::Module> model;
  std::function<void(const at::Tensor&, const at::Tensor&)> detect_pairs;
  if (semantic) {
    change::MambaSCD scd = change::make_mamba_scd(node);
    model = scd.ptr();
    detect_pairs = [scd, inference](const at::Tensor& pre, const at::Tensor& post) mutable {
      change::semantic_change_maps(change::semantic_change_logits(*scd, pre, post, inference));
    };
  } else {
    change::MambaBCD bcd = change::make_mamba_bcd(node);
    model = bcd.ptr();
    detect_pairs = [bcd, inference](const at::Tensor& pre, const at::Tensor& post) mutable {
      change::change_mask(change::change_logits(*bcd, pre, post, inference));
    };
  }
  model->to(dev);
  model->eval();
  int64_t params = 0;
  for (const auto& t : model->parameters()) params += t.numel();

  c10::InferenceMode inference_mode;
  const auto bytes = torch::TensorOptions().dtype(torch::kByte).device(dev);
  const at::Tensor pre = torch::randint(0, 256, {run->batch, 3, run->height, run->width}, bytes);
  const at::Tensor post = torch::randint(0, 256, {run->batch, 3, run->height, run->width}, bytes);
  auto detect = [&] { detect_pairs(pre, post); };
  const Timing timing = time_run(*run, detect);
  const double ms = timing.ms, peak = timing.peak_mib;
  const double pairs_per_s = static_cast<double>(run->batch) / (ms / 1e3);

  if (json) {
    nlohmann::json j{{"config", config.str()}, {"semantic", semantic}, {"overrides", sets.values}, {"params", params},
                     {"H", run->height},       {"W", run->width},          {"batch", run->batch},
                     {"tile", inference.tile}, {"tile_stride", inference.stride > 0 ? inference.stride : inference.tile},
                     {"tile_batch", inference.tile_batch}, {"dtype", run->dtype}, {"device", dev.str()},
                     {"repeat", run->repeat},  {"warmup", run->warmup},    {"ms_per_batch", ms},
                     {"pairs_per_s", pairs_per_s}, {"peak_mib", peak_json(peak)}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%-40s %5lldx%-5lld b%-3lld tile %-4lld %-5s %-7s %9.3f ms %9.2f pairs/s  peak %13s  (%.2fM params)\n",
                config.str().c_str(), static_cast<long long>(run->height), static_cast<long long>(run->width),
                static_cast<long long>(run->batch), static_cast<long long>(inference.tile), run->dtype.c_str(),
                dev.str().c_str(), ms, pairs_per_s, peak_text(peak).c_str(), static_cast<double>(params) / 1e6);
  }
  return 0;
}

const BenchCommand kChange("change", "change detection throughput (image pairs/s, whole or tiled) and peak memory",
                           run_change_bench);

}  // namespace
}  // namespace vss::bench
