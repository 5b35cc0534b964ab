#pragma once
// A residual state-space group (MambaIR's ResidualGroup / MaIR's RMG): `residual_group.blocks.{j}`
// then a 3x3 `conv`, plus the group's input. Channel-last [B, H, W, C] in and out.
#include "heads/restore/restoration_block.h"

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>

#include <vector>

namespace vss::restore {

class ResidualGroupImpl : public torch::nn::Module {
 public:
  // One block per entry of `blocks` (a MaIR group alternates shift 0 / scan_len/2).
  explicit ResidualGroupImpl(const std::vector<RestorationBlockOptions>& blocks);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::ModuleList blocks{nullptr};  // registered under residual_group.blocks
  torch::nn::Conv2d conv{nullptr};
};
TORCH_MODULE(ResidualGroup);

}  // namespace vss::restore
