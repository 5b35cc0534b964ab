#include "engine/device_options.h"

#include "core/error.h"

#include <c10/util/Exception.h>
#include <torch/cuda.h>

namespace vss {

DeviceOptions::DeviceOptions(ArgParser& p, const DeviceDefaults& defaults)
    : device_(&p.option("--device", "cpu|cuda[:i]", defaults.device, defaults.device_help)),
      dtype_(&p.option("--dtype", "fp32|bf16", defaults.dtype, defaults.dtype_help)),
      defaults_(defaults) {}

c10::Device parse_device(const std::string& text) {
  try {
    return c10::Device(text);
  } catch (const c10::Error&) {
    throw UsageError("--device: expected cpu or cuda[:i], got '" + text + "'");
  }
}

void require_device(c10::Device device, const std::string& given) {
  if (device.is_cuda() && !torch::cuda::is_available()) throw Error("--device " + given + ": no CUDA device is available");
}

DeviceChoice DeviceOptions::read() const {
  DeviceChoice c;
  c.device = parse_device(device_->str());
  const std::string dtype = dtype_->str().empty() ? (c.device.is_cuda() ? "bf16" : "fp32") : dtype_->str();
  if (dtype != "fp32" && dtype != "bf16") throw UsageError("--dtype: expected fp32 or bf16, got '" + dtype + "'");
  if (defaults_.bf16_needs_cuda && dtype == "bf16" && !c.device.is_cuda())
    throw UsageError("--dtype bf16 needs --device cuda");
  require_device(c.device, device_->str());
  c.precision = parse_precision(dtype, c.device);
  return c;
}

}  // namespace vss
