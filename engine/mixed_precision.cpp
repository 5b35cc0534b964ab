#include "engine/mixed_precision.h"

#include "core/error.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>

#include <cmath>

namespace vss {

Precision parse_precision(const std::string& name, c10::Device device) {
  Precision p;
  p.name = name;
  if (name == "fp32") return p;
  if (name == "bf16") {
    p.autocast = at::kBFloat16;
  } else if (name == "fp16") {
    if (!device.is_cuda()) throw Error("'fp16' needs a CUDA device (use bf16 or fp32 on CPU)");
    p.autocast = at::kHalf;
  } else {
    throw Error("unknown precision '" + name + "' (fp32 | bf16 | fp16)");
  }
  return p;
}

AutocastScope::AutocastScope(c10::Device device, std::optional<c10::ScalarType> dtype) : type_(device.type()) {
  if (!dtype) return;
  active_ = true;
  was_enabled_ = at::autocast::is_autocast_enabled(type_);
  old_dtype_ = at::autocast::get_autocast_dtype(type_);
  at::autocast::set_autocast_enabled(type_, true);
  at::autocast::set_autocast_dtype(type_, *dtype);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // The weight-cast cache lives for the outermost scope only, as in Python.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(type_, was_enabled_);
  at::autocast::set_autocast_dtype(type_, old_dtype_);
}

GradScaler::GradScaler(double init_scale, double growth_factor, double backoff_factor, int64_t growth_interval)
    : scale_(init_scale), growth_factor_(growth_factor), backoff_factor_(backoff_factor),
      growth_interval_(growth_interval) {}

bool GradScaler::unscale_and_check(const std::vector<at::Tensor>& parameters) const {
  const double inv = 1.0 / scale_;
  bool found_inf = false;
  for (const auto& p : parameters) {
    at::Tensor g = p.grad();
    if (!g.defined()) continue;
    g.mul_(inv);
    if (!found_inf && !at::isfinite(g).all().item<bool>()) found_inf = true;
  }
  return found_inf;
}

void GradScaler::update(bool found_inf) {
  if (found_inf) {
    scale_ *= backoff_factor_;
    good_steps_ = 0;
  } else if (++good_steps_ == growth_interval_) {
    scale_ *= growth_factor_;
    good_steps_ = 0;
  }
}

std::vector<std::pair<std::string, at::Tensor>> GradScaler::state(const std::string& prefix) const {
  return {{prefix + "scale", at::tensor(scale_, at::kDouble)},
          {prefix + "good_steps", at::tensor(good_steps_, at::kLong)}};
}

void GradScaler::load(const std::vector<std::pair<std::string, at::Tensor>>& tensors, const std::string& prefix,
                      const std::string& source) {
  bool have_scale = false, have_steps = false;
  for (const auto& [name, t] : tensors) {
    if (name == prefix + "scale") {
      scale_ = t.item<double>();
      have_scale = true;
    } else if (name == prefix + "good_steps") {
      good_steps_ = t.item<int64_t>();
      have_steps = true;
    }
  }
  if (!have_scale || !have_steps)
    throw_file_error(source, "has no loss-scaler state '" + prefix + "scale' (was the run trained with fp16?)");
}

}  // namespace vss
