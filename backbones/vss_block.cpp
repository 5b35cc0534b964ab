#include "backbones/vss_block.h"

#include "backbones/activation.h"
#include "kernels/residual_add.h"

#include <torch/torch.h>

namespace vss {

at::Tensor add_residual(const at::Tensor& x, const at::Tensor& branch, double rate, bool training) {
  if (!training || rate <= 0.0) return residual_add(x, branch);
  const double keep = 1.0 - rate;
  // The mask in the branch's dtype, as timm's drop_path makes it (1 / keep rounded there).
  const at::Tensor mask = torch::empty({branch.size(0)}, branch.options()).bernoulli_(keep).div_(keep);
  return residual_add(x, branch, mask.to(branch.scalar_type() == at::kDouble ? at::kDouble : at::kFloat));
}

MlpImpl::MlpImpl(int64_t dim, int64_t hidden, std::string act, double drop)
    : act_(std::move(act)), drop_(drop) {
  fc1 = register_module("fc1", Dense(dim, hidden, true));
  fc2 = register_module("fc2", Dense(hidden, dim, true));
}

at::Tensor MlpImpl::forward(const at::Tensor& x) {
  const at::Tensor a = act_ == "gelu" ? fc1->forward_gelu(x) : apply_activation(act_, fc1->forward(x));
  const at::Tensor h = at::dropout(a, drop_, is_training());
  return at::dropout(fc2->forward(h), drop_, is_training());
}

VSSBlockImpl::VSSBlockImpl(int64_t dim, double drop_path_rate, const VSSMOptions& o)
    : drop_path_(drop_path_rate) {
  if (o.ssm.ssm_ratio > 0) {
    norm = register_module("norm", ChannelNorm(o.norm_layer, dim));
    SS2DOptions ssm = o.ssm;
    ssm.d_model = dim;
    op = register_module("op", SS2D(ssm));
  }
  if (o.mlp_ratio > 0) {
    norm2 = register_module("norm2", ChannelNorm(o.norm_layer, dim));
    const auto hidden = static_cast<int64_t>(static_cast<double>(dim) * o.mlp_ratio);
    mlp = register_module("mlp", Mlp(dim, hidden, o.mlp_act, o.mlp_drop_rate));
  }
}

at::Tensor VSSBlockImpl::forward(const at::Tensor& input) {
  at::Tensor x = input;
  // Both branches start with a projection (in_proj, fc1): the norms may hand it the autocast dtype.
  if (op) {
    const auto [normed, skip] = norm->forward_into_projection_with_skip(x);
    x = add_residual(skip, op->forward(normed), drop_path_, is_training());
  }
  if (mlp) {
    const auto [normed, skip] = norm2->forward_into_projection_with_skip(x);
    x = add_residual(skip, mlp->forward(normed), drop_path_, is_training());
  }
  return x;
}

}  // namespace vss
