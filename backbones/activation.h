#pragma once
// The activations the official VMamba constructor accepts by name.
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace vss {

// silu, gelu (erf form, as nn.GELU), relu, sigmoid.
const std::vector<std::string>& activation_names();
at::Tensor apply_activation(const std::string& name, const at::Tensor& x);

}  // namespace vss
