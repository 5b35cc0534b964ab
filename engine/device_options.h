#pragma once
// --device and --dtype as every app and vss-bench take them, read back in one way: a bad value
// is a vss::UsageError naming the option, and a CUDA device where none is visible is the one
// vss::Error "--device <value>: no CUDA device is available" (require_device, also used by the
// training run, whose --device reaches it through TrainingOptions).
#include "core/cli.h"
#include "engine/mixed_precision.h"

#include <c10/core/Device.h>

#include <string>

namespace vss {

struct DeviceChoice {
  c10::Device device{c10::kCPU};
  Precision precision;  // precision.name: "fp32" | "bf16", the dtype actually used
};

struct DeviceDefaults {
  std::string device = "cpu";
  std::string device_help = "where to run";
  // "" picks by device: bf16 on CUDA, fp32 on the CPU (the detector's default).
  std::string dtype = "fp32";
  std::string dtype_help = "bf16: autocast to bfloat16";
  bool bf16_needs_cuda = false;  // refuse CPU autocast (a usage error)
};

class DeviceOptions {
 public:
  DeviceOptions(ArgParser& p, const DeviceDefaults& defaults = {});
  // After p.parse(): usage errors first, then require_device.
  DeviceChoice read() const;
  const ArgParser::Option& dtype() const { return *dtype_; }

 private:
  ArgParser::Option *device_, *dtype_;
  DeviceDefaults defaults_;
};

// Parses a --device value (vss::UsageError when c10 cannot).
c10::Device parse_device(const std::string& text);
// Throws the vss::Error above when `device` is CUDA and no CUDA device is visible.
void require_device(c10::Device device, const std::string& given);

}  // namespace vss
