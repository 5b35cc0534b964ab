#include "engine/ema.h"

#include "backbones/weights.h"
#include "core/error.h"

#include <torch/torch.h>

namespace vss {

ModelEma::ModelEma(const torch::nn::Module& model, double decay) : decay_(decay) {
  if (!(decay >= 0.0 && decay < 1.0)) throw Error("ema.decay: must be in [0, 1), got " + std::to_string(decay));
  for (auto& [name, tensor] : model_state(model)) state_.emplace_back(name, tensor.detach().clone());
  num_parameters_ = model.parameters().size();
}

void ModelEma::update(const torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  const NamedTensors current = model_state(model);
  for (size_t i = 0; i < state_.size(); ++i) {
    at::Tensor& avg = state_[i].second;
    const at::Tensor& value = current[i].second;
    if (i < num_parameters_ && avg.is_floating_point())
      avg.mul_(decay_).add_(value, 1.0 - decay_);
    else
      avg.copy_(value);
  }
}

void ModelEma::load(const NamedTensors& state, const std::string& prefix, const std::string& source) {
  torch::NoGradGuard no_grad;
  for (auto& [name, avg] : state_) {
    const at::Tensor* found = nullptr;
    for (const auto& kv : state)
      if (kv.first == prefix + name) found = &kv.second;
    if (!found) throw_file_error(source, "missing EMA tensor '" + prefix + name + "'");
    if (found->sizes() != avg.sizes())
      throw_file_error(source, "EMA tensor '" + prefix + name + "': expected shape " +
                                   shape_to_string(avg.sizes().vec()) + ", got " +
                                   shape_to_string(found->sizes().vec()));
    avg.copy_(*found);
  }
}

}  // namespace vss
