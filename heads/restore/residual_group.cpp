#include "heads/restore/residual_group.h"

#include <torch/torch.h>

namespace vss::restore {

ResidualGroupImpl::ResidualGroupImpl(const std::vector<RestorationBlockOptions>& options) {
  TORCH_CHECK(!options.empty(), "a residual group needs at least one block");
  // The official BasicLayer holds the blocks: an extra level in the parameter names.
  auto holder = register_module("residual_group", std::make_shared<torch::nn::Module>("BasicLayer"));
  blocks = holder->register_module("blocks", torch::nn::ModuleList());
  for (const auto& o : options) blocks->push_back(RestorationBlock(o));
  const int64_t C = options.front().ssm.d_model;
  conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(C, C, 3).padding(1)));
}

at::Tensor ResidualGroupImpl::forward(const at::Tensor& x) {
  at::Tensor y = x;
  for (const auto& block : *blocks) y = block->as<RestorationBlock>()->forward(y);
  return conv->forward(y.permute({0, 3, 1, 2})).permute({0, 2, 3, 1}) + x;
}

}  // namespace vss::restore
