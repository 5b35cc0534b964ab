// vss-bench restore: restoration network speed as vss-restore runs it (heads.md §1): a random
// [batch, C, H, W] input in [0, 1] (H x W = --res, input pixels) -> the network (whole, or
// --tile tiles with --tile-overlap through heads/restore/tiled_inference) -> the output
// clamped. Reports ms per pass, output megapixels/s and the CUDA peak memory; --unfused runs
// the same network with the unfused scan (flatten -> scan -> merge, the oracle) for
// comparison. Random weights (speed does not depend on them), eval mode, InferenceMode; bf16
// is CUDA autocast (the scan's state stays float32). Median of --repeat after --warmup.
//   vss-bench restore --config configs/restore/mambair_light_x4.yaml --res 256 --batch 1 --dtype bf16
//   vss-bench restore --config configs/restore/mambair_light_x4.yaml --res 270x480 --dtype bf16   # 1920x1080 out
//   vss-bench restore --config configs/restore/mambair_denoise_color_s25.yaml --res 1024 --dtype bf16 --unfused
#include "bench/bench_command.h"
#include "bench/bench_setup.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"
#include "heads/restore/restoration_net.h"
#include "heads/restore/tiled_inference.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <optional>

namespace vss::bench {
namespace {

int run_restore_bench(const std::vector<std::string>& args) {
  ArgParser p("vss-bench restore",
              "Times a MambaIR / MaIR restoration network (ms per pass, output megapixels/s) and reports its peak "
              "memory; --unfused for the unfused scan path.");
  auto& config = p.option("--config", "FILE", "", "restoration YAML (configs/restore/*.yaml or a training config)", true);
  auto& sets = p.multi("--set", "key=value", "override a config key");
  RunOptionParser run_options(p, "256", "1");
  auto& unfused = p.flag("--unfused", "model.fused_scan=false: flatten -> scan -> merge (the restoration default)");
  auto& fused = p.flag("--fused", "model.fused_scan=true: the fused plan scan, for comparison");
  auto& tile = p.option("--tile", "N", "0", "run N x N input tiles as vss-restore -t N (0: the whole input)");
  auto& overlap = p.option("--tile-overlap", "N", "16", "with --tile: pixels shared by neighbouring tiles");
  auto& json = p.flag("--json", "print JSON instead of a table");
  if (int rc = p.parse(args); rc >= 0) return rc;
  const auto run = run_options.read("vss-bench restore");
  if (!run) return 2;
  restore::TileOptions tiles;
  try {
    tiles.tile = tile.as_int();
    tiles.overlap = overlap.as_int();
    if (tiles.tile < 0 || tiles.overlap < 0 || (tiles.tile > 0 && tiles.tile <= tiles.overlap))
      throw Error("--tile must be 0 or larger than --tile-overlap (>= 0)");
  } catch (const Error& e) {
    std::fprintf(stderr, "vss-bench restore: %s\ntry --help\n", e.what());
    return 2;
  }
  const c10::Device dev = run->device;

  Config cfg = Config::load(config.str());
  for (const auto& s : sets.values) cfg.apply_override(s);
  Config model_node = cfg.has("model") ? cfg["model"] : cfg;
  if (unfused && fused) {
    std::fprintf(stderr, "vss-bench restore: --fused and --unfused exclude each other\ntry --help\n");
    return 2;
  }
  if (unfused) model_node.apply_override("fused_scan=false");
  if (fused) model_node.apply_override("fused_scan=true");
  torch::manual_seed(0);
  auto net = restore::make_restoration_net(model_node);
  net->to(dev);
  net->eval();
  int64_t params = 0;
  for (const auto& t : net->parameters()) params += t.numel();
  const int64_t scale = net->scale(), channels = net->options().in_chans;

  c10::InferenceMode inference_mode;
  const at::Tensor x = torch::rand({run->batch, channels, run->height, run->width}, torch::TensorOptions().device(dev));
  int64_t tile_count = 1;
  auto restore_once = [&] {
    restore::tiled_forward([&](const at::Tensor& t) { return net->forward(t); }, x, scale, tiles,
                           [&](int64_t, int64_t total) { tile_count = total; })
        .clamp_(0, 1);
  };
  const Timing timing = time_run(*run, restore_once);
  const double ms = timing.ms, peak = timing.peak_mib;
  const int64_t out_h = run->height * scale, out_w = run->width * scale;
  const double out_mpx = static_cast<double>(run->batch * out_h * out_w) / 1e6;
  const double mpx_per_s = out_mpx / (ms / 1e3);
  const std::string scan = net->options().ssm.fused_scan ? "fused" : "unfused";

  if (json) {
    nlohmann::json j{{"config", config.str()}, {"overrides", sets.values}, {"params", params},
                     {"scale", scale},          {"H", run->height},         {"W", run->width},
                     {"out_H", out_h},          {"out_W", out_w},           {"batch", run->batch},
                     {"tile", tiles.tile},      {"tile_overlap", tiles.overlap}, {"tiles", tile_count},
                     {"scan", scan},            {"dtype", run->dtype},      {"device", dev.str()},
                     {"repeat", run->repeat},   {"warmup", run->warmup},    {"ms", ms},
                     {"out_mpx_per_s", mpx_per_s}, {"peak_mib", peak_json(peak)}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%-40s x%lld %5lldx%-5lld -> %5lldx%-5lld b%-3lld tiles %-3lld %-7s %-5s %-7s %10.3f ms %9.3f Mpx/s  "
                "peak %13s  (%.3fM params)\n",
                config.str().c_str(), static_cast<long long>(scale), static_cast<long long>(run->height),
                static_cast<long long>(run->width), static_cast<long long>(out_h), static_cast<long long>(out_w),
                static_cast<long long>(run->batch), static_cast<long long>(tile_count), scan.c_str(),
                run->dtype.c_str(), dev.str().c_str(), ms, mpx_per_s, peak_text(peak).c_str(), static_cast<double>(params) / 1e6);
  }
  return 0;
}

const BenchCommand kRestore("restore", "restoration network ms per pass, output Mpx/s and peak memory (fused or unfused scan)",
                            run_restore_bench);

}  // namespace
}  // namespace vss::bench
