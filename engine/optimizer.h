#pragma once
// Optimizers from YAML (`optimizer: {type: adamw|sgd, lr, weight_decay, ...}`) with two
// parameter groups: weights that decay, and the ones that must not (norms, biases and the
// SSM parameters A_logs / Ds / dt_projs_bias, whose decay would pull the dynamics to zero).
// AdamW runs as one multi-tensor launch per group (engine/fused_adamw.h); `fused: false`
// takes torch::optim::AdamW's per-parameter loop instead (same update, other rounding).
// Optional learning-rate multipliers (mmseg's paramwise_cfg custom_keys, BEiT's layer decay):
//   param_groups: [{match: 'decode_head.*', lr_mult: 10, decay_mult: 1}]
//       the first entry whose glob (fnmatch, '*' spans dots) matches a parameter's full name
//       scales its lr and weight decay; an entry that matches nothing is an error;
//   layer_decay: 0.9
//       VSSM depth: block j of stage i is layer 1 + (blocks before stage i) + j, the stem
//       layer 0, a stage's downsample the stage's last block, anything else (heads, final
//       norms) layer L + 1 for L blocks; lr scale = layer_decay^(L + 1 - layer).
// Also the optimizer's state as named tensors, for checkpoints.
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace torch::nn {
class Module;
}
namespace torch::optim {
class Optimizer;
}

namespace vss {

class Config;
using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// True for a parameter that takes no weight decay: any tensor of at most one dimension
// (norm weights, biases, Ds) or a name ending in bias / A_logs / Ds / dt_projs_bias.
bool excluded_from_weight_decay(const std::string& name, const at::Tensor& parameter);

struct BuiltOptimizer {
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::string type;               // "adamw" or "sgd"
  std::vector<double> lr_mults;   // per parameter group
};
// Without multipliers: group 0 decays, group 1 does not (either may be empty and is then
// left out). With them: one group per (multiplier, decay) in order of first parameter.
BuiltOptimizer make_optimizer(const Config& node, torch::nn::Module& model);

// Group i gets lr * lr_mults[i] (the schedule's lr, scaled per group).
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr, const std::vector<double>& lr_mults);

// "<prefix><param name>.<exp_avg|exp_avg_sq|step|momentum_buffer>" for each parameter that
// has state; `type` is the BuiltOptimizer's.
NamedTensors optimizer_state(const torch::optim::Optimizer& optimizer, const std::string& type,
                             const torch::nn::Module& model, const std::string& prefix);
// Restores what optimizer_state wrote (same model); error naming `source` on a missing tensor.
void load_optimizer_state(torch::optim::Optimizer& optimizer, const std::string& type,
                          const torch::nn::Module& model, const NamedTensors& state,
                          const std::string& prefix, const std::string& source);

}  // namespace vss
