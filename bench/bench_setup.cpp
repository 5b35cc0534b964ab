#include "bench/bench_setup.h"

#include "bench/gpu_timing.h"
#include "core/error.h"
#include "engine/mixed_precision.h"
#include "kernels/scan_split.h"

#include <c10/util/Exception.h>
#include <torch/cuda.h>
#if VSS_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <cstdio>

namespace vss::bench {

RunOptionParser::RunOptionParser(ArgParser& p, const std::string& default_res, const std::string& default_batch)
    : res_(&p.option("--res", "N|HxW", default_res, "input resolution")),
      batch_(&p.option("--batch", "N", default_batch, "images per forward pass")),
      device_(p, {.device = "cuda", .dtype_help = "bf16 = CUDA autocast to bfloat16", .bf16_needs_cuda = true}),
      repeat_(&p.option("--repeat", "N", "20", "timed passes (the median is reported)")),
      warmup_(&p.option("--warmup", "N", "5", "untimed passes first")),
      split_(&scan_split_option(p)) {}

ArgParser::Option& scan_split_option(ArgParser& p) {
  return p.option("--scan-split", "N", "0",
                  "CUDA scans: 0 split long sequences where channels leave the GPU idle, 1 never, n into n segments");
}

void apply_scan_split(const ArgParser::Option& option) {
  const long long n = option.as_int();
  if (n < 0 || n > 1024) throw Error("--scan-split: expected 0..1024, got " + option.str());
  set_scan_split(static_cast<int>(n));
}

std::optional<RunOptions> RunOptionParser::read(const std::string& prog) const {
  RunOptions o;
  try {
    const std::string r = res_->str();
    const auto x = r.find('x');
    const auto hw = parse_int_list(x == std::string::npos ? r + "," + r : r.substr(0, x) + "," + r.substr(x + 1), "--res");
    if (hw.size() != 2 || hw[0] < 1 || hw[1] < 1) throw Error("--res: expected N or HxW, got '" + r + "'");
    o.height = hw[0];
    o.width = hw[1];
    o.batch = batch_->as_int();
    o.repeat = static_cast<int>(repeat_->as_int());
    o.warmup = static_cast<int>(warmup_->as_int());
    if (o.batch < 1 || o.repeat < 1 || o.warmup < 0) throw Error("--batch and --repeat must be >= 1, --warmup >= 0");
    apply_scan_split(*split_);
  } catch (const Error& e) {
    std::fprintf(stderr, "%s: %s\ntry --help\n", prog.c_str(), e.what());
    return std::nullopt;
  }
  const DeviceChoice run_on = device_.read();
  o.device = run_on.device;
  o.dtype = run_on.precision.name;
  o.bf16 = run_on.precision.autocast.has_value();
  return o;
}

Timing time_run(const RunOptions& run, const std::function<void()>& fn) {
  PeakMemory memory(run.device);
  Timing t;
  AutocastScope autocast(run.device, run.bf16 ? std::optional<c10::ScalarType>(at::kBFloat16) : std::nullopt);
  for (int i = 0; i < run.warmup; ++i) fn();
  if (run.device.is_cuda()) torch::cuda::synchronize();
  memory.reset();
  t.ms = median_ms(fn, run.device, 0, run.repeat);
  t.peak_mib = memory.mib();
  return t;
}

std::string peak_text(double mib) {
  if (mib < 0) return "n/a";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", mib);
  return text;
}

nlohmann::json peak_json(double mib) { return mib < 0 ? nlohmann::json(nullptr) : nlohmann::json(mib); }

void PeakMemory::reset() const {
#if VSS_WITH_CUDA
  if (device_.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device_.index() < 0 ? 0 : device_.index());
#endif
}

double PeakMemory::mib() const {
#if VSS_WITH_CUDA
  if (device_.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device_.index() < 0 ? 0 : device_.index());
    const auto aggregate = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
    return static_cast<double>(stats.allocated_bytes[aggregate].peak) / (1024.0 * 1024.0);
  }
#endif
  return -1;
}

}  // namespace vss::bench
