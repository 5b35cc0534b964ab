#pragma once
// VSSBlock (pre-norm): x = x + drop_path(op(norm(x))); x = x + drop_path(mlp(norm2(x))).
// Keys: norm, op (SS2D), norm2, mlp.fc1, mlp.fc2. ssm_ratio 0 removes the SS2D branch,
// mlp_ratio 0 the MLP branch, as in the official block.
#include "backbones/layers.h"
#include "backbones/ss2d.h"
#include "backbones/vssm_options.h"

namespace vss {

// fc1 -> activation -> dropout -> fc2 -> dropout (the official Mlp).
class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(int64_t dim, int64_t hidden, std::string act, double drop);
  at::Tensor forward(const at::Tensor& x);
  Dense fc1{nullptr}, fc2{nullptr};

 private:
  std::string act_;
  double drop_;
};
TORCH_MODULE(Mlp);

class VSSBlockImpl : public torch::nn::Module {
 public:
  // dim: the stage's channels; drop_path: this block's stochastic-depth rate.
  VSSBlockImpl(int64_t dim, double drop_path, const VSSMOptions& options);
  at::Tensor forward(const at::Tensor& x);  // [B, H, W, dim] channel-last

  ChannelNorm norm{nullptr}, norm2{nullptr};
  SS2D op{nullptr};
  Mlp mlp{nullptr};

 private:
  double drop_path_;
};
TORCH_MODULE(VSSBlock);

// x + drop_path(branch): stochastic depth in training (each sample's branch kept with
// probability 1 - rate and rescaled by 1 / (1 - rate)), a plain sum in eval mode; the result has
// the promoted dtype, as x + branch. One pass over the residual stream forward and backward,
// the branch read and its gradient written in the branch's dtype (vss::residual_add).
at::Tensor add_residual(const at::Tensor& x, const at::Tensor& branch, double rate, bool training);

}  // namespace vss
