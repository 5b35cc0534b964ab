#pragma once
// One (micro-)batch as a task's loader makes it: inputs and targets, CPU until the trainer
// moves them to the device.
#include <ATen/core/Tensor.h>

namespace vss {

struct Batch {
  at::Tensor inputs;
  at::Tensor targets;
};

}  // namespace vss
