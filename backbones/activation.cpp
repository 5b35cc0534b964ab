#include "backbones/activation.h"

#include <torch/torch.h>

namespace vss {

const std::vector<std::string>& activation_names() {
  static const std::vector<std::string> names{"silu", "gelu", "relu", "sigmoid"};
  return names;
}

at::Tensor apply_activation(const std::string& name, const at::Tensor& x) {
  if (name == "silu") return at::silu(x);
  if (name == "gelu") return at::gelu(x);
  if (name == "relu") return at::relu(x);
  if (name == "sigmoid") return at::sigmoid(x);
  TORCH_CHECK(false, "unknown activation '", name, "'");
}

}  // namespace vss
