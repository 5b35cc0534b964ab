#pragma once
// What every model benchmark (model, seg, restore, change) shares: the standard options
// (--res, --batch, --dtype, --device, --repeat, --warmup, --scan-split), their checks as usage errors, and
// the CUDA caching allocator's peak memory over the timed passes.
#include "core/cli.h"
#include "engine/device_options.h"

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace vss::bench {

struct RunOptions {
  int64_t height = 0, width = 0, batch = 0;
  int repeat = 0, warmup = 0;
  bool bf16 = false;           // CUDA autocast to bfloat16 (as timm's --amp)
  std::string dtype;           // "fp32" | "bf16", as given
  c10::Device device{c10::kCPU};
};

// Adds the standard options to `p` (defaults: res, batch as given) and reads them back.
class RunOptionParser {
 public:
  RunOptionParser(ArgParser& p, const std::string& default_res, const std::string& default_batch);
  // After p.parse(): the values, or the exit code 2 (usage error printed as "<prog>: ...").
  std::optional<RunOptions> read(const std::string& prog) const;

 private:
  ArgParser::Option *res_, *batch_;
  DeviceOptions device_;
  ArgParser::Option *repeat_, *warmup_, *split_;
};

// --scan-split N: how the CUDA scans split long sequences (kernels/scan_split.h: 0 automatic,
// 1 never, n segments), so one build can time both paths.
ArgParser::Option& scan_split_option(ArgParser& p);
// Applies the option; a value below 0 throws vss::Error naming it.
void apply_scan_split(const ArgParser::Option& option);

// Runs `fn` --warmup times, then times --repeat runs (median ms, CUDA events on a GPU) under
// the options' autocast, with the peak memory over the timed runs (-1 on the CPU).
struct Timing {
  double ms = 0, peak_mib = -1;
};
Timing time_run(const RunOptions& run, const std::function<void()>& fn);

// A peak from Timing for the tables ("1234.5 MiB", or "n/a" where it is not measured: the CPU)
// and for JSON (MiB, or null).
std::string peak_text(double mib);
nlohmann::json peak_json(double mib);

// Peak allocated MiB on a CUDA device since reset(); -1 on the CPU (not measured).
class PeakMemory {
 public:
  explicit PeakMemory(c10::Device device) : device_(device) {}
  void reset() const;
  double mib() const;

 private:
  c10::Device device_;
};

}  // namespace vss::bench
