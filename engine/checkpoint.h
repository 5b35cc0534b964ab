#pragma once
// A training checkpoint in a run directory: "<name>.safetensors" (model, EMA, optimizer and
// RNG tensors) plus "<name>.json" (step, best metric, optimizer type, resolved config).
// Both are written through a temporary file and renamed; the JSON goes second and the
// step is in both, so a crash between the two is detected on load instead of mixing states.
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace vss {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

struct CheckpointInfo {
  int64_t step = 0;              // optimizer steps done
  bool has_best = false;
  double best_metric = 0;
  std::string metric;            // name of the validation metric
  std::string optimizer;         // "adamw" / "sgd"
  std::string config_yaml;       // the resolved config the run was started with
  std::vector<std::string> classes;  // a classifier's class names (none: not named)
};

struct Checkpoint {
  NamedTensors tensors;
  CheckpointInfo info;
};

void write_checkpoint(const std::filesystem::path& run_dir, const std::string& name,
                      const NamedTensors& tensors, const CheckpointInfo& info);
// Error naming the file if either part is missing or malformed, or their steps differ.
Checkpoint read_checkpoint(const std::filesystem::path& run_dir, const std::string& name);

// The model weights a checkpoint holds, as a bare state dict for a weights file: the EMA's
// ("ema.*") when the run kept one, unless `raw`, else the trained ones ("model.*"); the
// prefix is stripped. `prefix` says which was taken.
struct CheckpointWeights {
  NamedTensors state;
  std::string prefix;
  bool ema() const { return prefix == "ema."; }
};
CheckpointWeights checkpoint_weights(const Checkpoint& checkpoint, bool raw = false);

// The default generators' states: "rng.cpu", and "rng.cuda.<i>" for each visible GPU.
NamedTensors rng_state();
void restore_rng_state(const NamedTensors& tensors, const std::string& source);

}  // namespace vss
