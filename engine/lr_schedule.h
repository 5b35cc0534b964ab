#pragma once
// Learning rate per optimizer step: linear warm-up, then cosine decay to min_lr, a step
// decay (times gamma every step_size steps), or mmseg's poly decay
// (min_lr + (base - min_lr)·(1 - t)^power over the steps after the warm-up). YAML:
//   schedule: {type: cosine|step|poly|constant, warmup_steps: 100, warmup_start_factor: 0.0,
//              min_lr: 1e-6, step_size: 1000, gamma: 0.1, power: 1.0}
#include <cstdint>

namespace vss {

class Config;

struct LrSchedule {
  enum class Kind { Constant, Cosine, Step, Poly };
  Kind kind = Kind::Constant;
  double base_lr = 0;
  int64_t total_steps = 1;
  int64_t warmup_steps = 0;
  double warmup_start_factor = 0;  // lr at step 0 is base_lr * this
  double min_lr = 0;               // cosine / poly floor
  int64_t step_size = 1;           // step decay period
  double gamma = 0.1;              // step decay factor
  double power = 1.0;              // poly exponent

  // The lr for 0-based optimizer step `step` (the step about to be taken).
  double at(int64_t step) const;

  // Fraction of the decay phase done after `after_warmup` steps of it, in [0, 1].
  double decay_fraction(int64_t after_warmup) const;

  static LrSchedule from_config(const Config& node, double base_lr, int64_t total_steps);
};

}  // namespace vss
