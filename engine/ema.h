#pragma once
// Exponential moving average of a model's weights (BasicSR / timm "model EMA"):
//   ema = decay * ema + (1 - decay) * param   after every optimizer step;
// buffers (norm statistics) are copied. The averaged weights are what a run usually ships.
#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace torch::nn {
class Module;
}

namespace vss {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

class ModelEma {
 public:
  ModelEma(const torch::nn::Module& model, double decay);
  void update(const torch::nn::Module& model);
  double decay() const { return decay_; }
  // Parameters then buffers, by the model's names (as backbones/weights.h model_state).
  const NamedTensors& state() const { return state_; }
  // Replaces the averages (resume); error naming `source` on a missing or mis-shaped tensor.
  void load(const NamedTensors& state, const std::string& prefix, const std::string& source);

 private:
  double decay_;
  NamedTensors state_;
  size_t num_parameters_ = 0;
};

}  // namespace vss
