// vss-bench model: inference throughput of a backbone config (images/s) and its peak memory.
// The model is built from YAML (random weights: speed does not depend on them), put in eval
// mode under InferenceMode; bf16 runs under CUDA autocast (as timm's --amp), fp32 without.
// Time: median of --repeat forward passes after --warmup ones (CUDA events on a GPU).
// Peak memory: the CUDA caching allocator's peak allocated bytes over the timed passes.
#include "backbones/backbone_registry.h"
#include "backbones/vssm.h"
#include "bench/bench_command.h"
#include "bench/gpu_timing.h"
#include "core/cli.h"
#include "core/config.h"
#include "core/error.h"

#include <ATen/autocast_mode.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>
#if VSS_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <cstdio>

namespace vss::bench {
namespace {

struct Memory {
  void reset(const c10::Device& device) {
#if VSS_WITH_CUDA
    if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index() < 0 ? 0 : device.index());
#endif
  }
  // Peak allocated MiB since reset(), -1 where not measured (CPU).
  double peak_mib(const c10::Device& device) const {
#if VSS_WITH_CUDA
    if (device.is_cuda()) {
      const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index() < 0 ? 0 : device.index());
      const auto aggregate = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
      return static_cast<double>(stats.allocated_bytes[aggregate].peak) / (1024.0 * 1024.0);
    }
#endif
    return -1;
  }
};

// Sets CUDA autocast to bf16 for its lifetime.
struct AutocastBf16 {
  explicit AutocastBf16(bool on) : on_(on) {
    if (!on_) return;
    at::autocast::set_autocast_enabled(at::kCUDA, true);
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
  }
  ~AutocastBf16() {
    if (!on_) return;
    at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(at::kCUDA, false);
  }
  bool on_;
};

int run_model_bench(const std::vector<std::string>& args) {
  ArgParser p("vss-bench model",
              "Times a backbone's forward pass (images/s) and reports its peak memory.");
  auto& config = p.option("--config", "FILE", "", "backbone YAML (e.g. configs/backbones/vmamba_tiny.yaml)", true);
  auto& sets = p.multi("--set", "key=value", "override a config key (repeatable)");
  auto& res = p.option("--res", "N|HxW", "224", "input resolution");
  auto& batch = p.option("--batch", "N", "128", "images per forward pass");
  auto& dtype = p.option("--dtype", "fp32|bf16", "fp32", "bf16 = CUDA autocast to bfloat16");
  auto& device = p.option("--device", "cpu|cuda[:i]", "cuda", "where to run");
  auto& repeat = p.option("--repeat", "N", "20", "timed passes (the median is reported)");
  auto& warmup = p.option("--warmup", "N", "5", "untimed passes first");
  auto& json = p.flag("--json", "print JSON instead of a table");
  if (int rc = p.parse(args); rc >= 0) return rc;

  int64_t H = 0, W = 0, B = 0;
  int iters = 0, warm = 0;
  c10::Device dev(c10::kCPU);
  try {  // bad option values are usage errors (exit 2)
    const std::string r = res.str();
    const auto x = r.find('x');
    const auto hw = parse_int_list(x == std::string::npos ? r + "," + r : r.substr(0, x) + "," + r.substr(x + 1), "--res");
    if (hw.size() != 2 || hw[0] < 1 || hw[1] < 1) throw Error("--res: expected N or HxW, got '" + r + "'");
    H = hw[0];
    W = hw[1];
    B = batch.as_int();
    iters = static_cast<int>(repeat.as_int());
    warm = static_cast<int>(warmup.as_int());
    if (B < 1 || iters < 1 || warm < 0) throw Error("--batch and --repeat must be >= 1, --warmup >= 0");
    if (dtype.str() != "fp32" && dtype.str() != "bf16")
      throw Error("--dtype: expected fp32 or bf16, got '" + dtype.str() + "'");
    dev = c10::Device(device.str());
  } catch (const Error& e) {
    std::fprintf(stderr, "vss-bench model: %s\ntry --help\n", e.what());
    return 2;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "vss-bench model: --device: %s\ntry --help\n", e.what_without_backtrace());
    return 2;
  }
  const bool bf16 = dtype.str() == "bf16";
  if (dev.is_cuda() && !torch::cuda::is_available())
    throw Error("--device " + device.str() + ": no CUDA device is available");
  if (bf16 && !dev.is_cuda()) throw Error("--dtype bf16 is CUDA autocast: use --device cuda");

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
  Memory memory;
  double ms = 0;
  {
    AutocastBf16 autocast(bf16);
    for (int i = 0; i < warm; ++i) forward();
    if (dev.is_cuda()) torch::cuda::synchronize();
    memory.reset(dev);
    ms = median_ms(forward, dev, 0, iters);
  }
  const double peak = memory.peak_mib(dev);
  const double ips = static_cast<double>(B) / (ms / 1e3);

  if (json) {
    nlohmann::json j{{"config", config.str()}, {"overrides", sets.values}, {"params", params},
                     {"H", H}, {"W", W}, {"batch", B}, {"dtype", dtype.str()}, {"device", dev.str()},
                     {"repeat", iters}, {"warmup", warm}, {"ms_per_batch", ms}, {"images_per_s", ips},
                     {"peak_mib", peak}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%-40s %5lldx%-5lld b%-4lld %-5s %-7s %9.3f ms %10.1f img/s  peak %9.1f MiB  (%.2fM params)\n",
                config.str().c_str(), static_cast<long long>(H), static_cast<long long>(W),
                static_cast<long long>(B), dtype.str().c_str(), dev.str().c_str(), ms, ips, peak,
                static_cast<double>(params) / 1e6);
  }
  return 0;
}

const BenchCommand kModel("model", "backbone forward throughput (images/s) and peak memory", run_model_bench);

}  // namespace
}  // namespace vss::bench
