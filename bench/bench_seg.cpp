// vss-bench seg: segmentation throughput (images/s) and peak memory of a segmentor config, as
// vss-segment runs it: uint8 images on the device -> normalised -> logits of the whole image
// or of overlapping windows averaged as mmseg's slide_inference -> argmax at the input size.
// Random weights (speed does not depend on them), eval mode, InferenceMode; bf16 is CUDA
// autocast; --unfused runs the backbone's scans unfused (flatten -> scan -> merge) to compare
// with the fused plan kernel. Time: median of --repeat calls after --warmup (CUDA events).
//   vss-bench seg --config configs/seg/upernet_vmamba_tiny_ade20k_512.yaml --res 512 --batch 16 --dtype bf16
//   vss-bench seg --config configs/seg/upernet_vmamba_tiny_ade20k_512.yaml --res 512x683 --batch 1 \
//       --mode slide --crop 512 --stride 341 --dtype bf16 [--unfused]
#include "bench/bench_command.h"
#include "bench/bench_setup.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "heads/seg/seg_prediction.h"
#include "heads/seg/segmentor.h"
#include "heads/slide_inference.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <optional>

namespace vss::bench {
namespace {

int run_seg_bench(const std::vector<std::string>& args) {
  ArgParser p("vss-bench seg",
              "Times a segmentor on random images (images/s, whole or sliding-window inference) and reports its peak "
              "memory.");
  auto& config = p.option("--config", "FILE", "", "segmentor YAML (configs/seg/*.yaml: a training config or a bare model)", true);
  auto& sets = p.multi("--set", "key=value", "override a config key");
  RunOptionParser run_options(p, "512", "8");
  auto& mode = p.option("--mode", "whole|slide", "whole", "inference mode");
  auto& crop = p.option("--crop", "N", "512", "slide window size");
  auto& stride = p.option("--stride", "N", "341", "slide window step");
  auto& unfused = p.flag("--unfused", "scan unfused (model.backbone.fused_scan: false), for comparison");
  auto& json = p.flag("--json", "print JSON instead of a table");
  if (int rc = p.parse(args); rc >= 0) return rc;
  const auto run = run_options.read("vss-bench seg");
  if (!run) return 2;
  seg::InferenceOptions inference;
  try {
    inference.mode = mode.str();
    if (inference.mode != "whole" && inference.mode != "slide") throw Error("--mode must be whole or slide");
    inference.crop_h = inference.crop_w = crop.as_int();
    inference.stride_h = inference.stride_w = stride.as_int();
    if (inference.crop_h < 1 || inference.stride_h < 1) throw Error("--crop and --stride must be >= 1");
  } catch (const Error& e) {
    std::fprintf(stderr, "vss-bench seg: %s\ntry --help\n", e.what());
    return 2;
  }
  const c10::Device dev = run->device;

  Config cfg = Config::load(config.str());
  for (const auto& s : sets.values) cfg.apply_override(s);
  const bool training_config = cfg.has("model");
  if (unfused) cfg.apply_override(training_config ? "model.backbone.fused_scan=false" : "backbone.fused_scan=false");
  torch::manual_seed(0);
  seg::Segmentor model = seg::make_segmentor(training_config ? cfg["model"] : cfg);
  model->to(dev);
  model->eval();
  int64_t params = 0;
  for (const auto& t : model->parameters()) params += t.numel();
  const int64_t windows = inference.mode == "whole"
                              ? 1
                              : static_cast<int64_t>(slide_windows(run->height, run->width, inference.crop_h,
                                                                   inference.stride_h).size());

  c10::InferenceMode inference_mode;
  const at::Tensor images = torch::randint(0, 256, {run->batch, 3, run->height, run->width},
                                           torch::TensorOptions().dtype(torch::kByte).device(dev));
  const SegPipeline no_resize;
  auto segment = [&] { seg::segment_logits(*model, images, no_resize, inference).argmax(1); };
  const Timing timing = time_run(*run, segment);
  const double ms = timing.ms, peak = timing.peak_mib;
  const double images_per_s = static_cast<double>(run->batch) / (ms / 1e3);

  if (json) {
    nlohmann::json j{{"config", config.str()}, {"overrides", sets.values}, {"params", params}, {"H", run->height},
                     {"W", run->width},        {"batch", run->batch},      {"mode", inference.mode},
                     {"crop", inference.crop_h}, {"stride", inference.stride_h}, {"windows", windows},
                     {"fused_scan", !unfused}, {"dtype", run->dtype},      {"device", dev.str()},
                     {"repeat", run->repeat},  {"warmup", run->warmup},    {"ms_per_batch", ms},
                     {"images_per_s", images_per_s}, {"peak_mib", peak_json(peak)}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%-40s %5lldx%-5lld b%-3lld %-5s (%lld win) %-7s %-5s %-7s %9.3f ms %9.2f img/s  peak %13s  (%.2fM params)\n",
                config.str().c_str(), static_cast<long long>(run->height), static_cast<long long>(run->width),
                static_cast<long long>(run->batch), inference.mode.c_str(), static_cast<long long>(windows),
                unfused ? "unfused" : "fused", run->dtype.c_str(), dev.str().c_str(), ms, images_per_s, peak_text(peak).c_str(),
                static_cast<double>(params) / 1e6);
  }
  return 0;
}

const BenchCommand kSeg("seg", "segmentation throughput (images/s, whole or slide, fused or unfused scan) and peak memory",
                        run_seg_bench);

}  // namespace
}  // namespace vss::bench
