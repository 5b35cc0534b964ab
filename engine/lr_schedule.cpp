#include "engine/lr_schedule.h"

#include "core/config.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace vss {

double LrSchedule::decay_fraction(int64_t after_warmup) const {
  const int64_t span = std::max<int64_t>(1, total_steps - warmup_steps);
  return std::min(1.0, static_cast<double>(after_warmup) / static_cast<double>(span));
}

double LrSchedule::at(int64_t step) const {
  if (step < warmup_steps) {
    const double t = static_cast<double>(step) / static_cast<double>(warmup_steps);
    return base_lr * (warmup_start_factor + (1.0 - warmup_start_factor) * t);
  }
  const int64_t after = step - warmup_steps;
  switch (kind) {
    case Kind::Constant:
      return base_lr;
    case Kind::Step:
      return base_lr * std::pow(gamma, static_cast<double>(after / step_size));
    case Kind::Cosine:
      return min_lr + 0.5 * (base_lr - min_lr) * (1.0 + std::cos(std::numbers::pi * decay_fraction(after)));
    case Kind::Poly:
      return min_lr + (base_lr - min_lr) * std::pow(1.0 - decay_fraction(after), power);
  }
  return base_lr;
}

LrSchedule LrSchedule::from_config(const Config& node, double base_lr, int64_t total_steps) {
  node.check_keys({"type", "warmup_steps", "warmup_start_factor", "min_lr", "step_size", "gamma", "power"});
  LrSchedule s;
  s.base_lr = base_lr;
  s.total_steps = total_steps;
  const auto type = node.get<std::string>("type");
  if (type == "cosine") s.kind = Kind::Cosine;
  else if (type == "step") s.kind = Kind::Step;
  else if (type == "poly") s.kind = Kind::Poly;
  else if (type == "constant") s.kind = Kind::Constant;
  else node["type"].fail("unknown schedule '" + type + "' (known: cosine, step, poly, constant)");
  s.warmup_steps = node.get_or<int64_t>("warmup_steps", 0);
  s.warmup_start_factor = node.get_or<double>("warmup_start_factor", 0.0);
  s.min_lr = node.get_or<double>("min_lr", 0.0);
  s.step_size = node.get_or<int64_t>("step_size", 1);
  s.gamma = node.get_or<double>("gamma", 0.1);
  s.power = node.get_or<double>("power", 1.0);
  if (s.warmup_steps < 0) node["warmup_steps"].fail("must be >= 0");
  if (s.step_size < 1) node["step_size"].fail("must be >= 1");
  if (!(s.power > 0)) node["power"].fail("must be positive");
  return s;
}

}  // namespace vss
