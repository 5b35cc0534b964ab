#pragma once
// Mixed-precision training (YAML `train.precision: fp32 | bf16 | fp16`):
// - an autocast scope around forward + loss (bf16 on CUDA or CPU, fp16 on CUDA only); the
//   model's own autocast policy keeps the stem/downsampling convs float32 at inference (parity);
// - for fp16, a dynamic loss scaler with torch.amp.GradScaler's semantics: the loss is
//   multiplied by `scale`, gradients are unscaled before clipping, a step whose gradients
//   hold inf/NaN is skipped and halves the scale, and `growth_interval` good steps in a row
//   double it. Its state is checkpointed so a resumed run continues bit-for-bit.
#include <ATen/core/Tensor.h>
#include <ATen/TensorOperators.h>  // Tensor * double in scale_loss
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vss {

struct Precision {
  std::string name = "fp32";                  // fp32 | bf16 | fp16
  std::optional<c10::ScalarType> autocast;    // empty for fp32
};
// Throws vss::Error (the caller prefixes the YAML key) for an unknown name or fp16 on CPU.
Precision parse_precision(const std::string& name, c10::Device device);

// Enables autocast for `device` with `dtype` while alive (nests like Python's torch.autocast).
class AutocastScope {
 public:
  AutocastScope(c10::Device device, std::optional<c10::ScalarType> dtype);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  c10::DeviceType type_;
  bool was_enabled_ = false;
  c10::ScalarType old_dtype_;
};

class GradScaler {
 public:
  explicit GradScaler(double init_scale = 65536.0, double growth_factor = 2.0, double backoff_factor = 0.5,
                      int64_t growth_interval = 2000);
  double scale() const { return scale_; }
  at::Tensor scale_loss(const at::Tensor& loss) const { return loss * scale_; }
  // Divides every gradient by the scale in place; true when any is inf/NaN (skip the step).
  bool unscale_and_check(const std::vector<at::Tensor>& parameters) const;
  // After each step attempt: backs off on overflow, grows after growth_interval clean steps.
  void update(bool found_inf);

  std::vector<std::pair<std::string, at::Tensor>> state(const std::string& prefix) const;
  void load(const std::vector<std::pair<std::string, at::Tensor>>& tensors, const std::string& prefix,
            const std::string& source);

 private:
  double scale_, growth_factor_, backoff_factor_;
  int64_t growth_interval_, good_steps_ = 0;
};

}  // namespace vss
