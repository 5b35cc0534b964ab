#include "heads/restore/restoration_block.h"

#include <torch/torch.h>

namespace vss::restore {

MlpImpl::MlpImpl(int64_t channels, int64_t hidden) {
  fc1 = register_module("fc1", Dense(channels, hidden, true));
  fc2 = register_module("fc2", Dense(hidden, channels, true));
}

at::Tensor MlpImpl::forward(const at::Tensor& x) { return fc2->forward(fc1->forward_gelu(x)); }

RestorationBlockImpl::RestorationBlockImpl(const RestorationBlockOptions& o) {
  const int64_t C = o.ssm.d_model;
  ln_1 = register_module("ln_1", ChannelNorm("ln", C));
  if (o.mair)
    mair_ss2d = register_module("self_attention", MaIRSS2D(o.ssm));
  else
    ss2d = register_module("self_attention", SS2D(o.ssm));
  skip_scale = register_parameter("skip_scale", torch::ones({C}));
  if (o.mair)
    mlp = register_module("conv_blk", Mlp(C, static_cast<int64_t>(static_cast<double>(C) * o.mlp_ratio)));
  else
    cab = register_module("conv_blk", ChannelAttentionBlock(C, o.light_cab));
  ln_2 = register_module("ln_2", ChannelNorm("ln", C));
  skip_scale2 = register_parameter("skip_scale2", torch::ones({C}));
}

at::Tensor RestorationBlockImpl::forward(const at::Tensor& x) {
  // Both norms feed projections only (in_proj; fc1 or CAB's first conv).
  const auto [normed, x_skip] = ln_1->forward_into_projection_with_skip(x);
  const at::Tensor attended = mair_ss2d ? mair_ss2d->forward(normed) : ss2d->forward(normed);
  const at::Tensor y = x_skip * skip_scale + attended;
  const auto [n2, y_skip] = ln_2->forward_into_projection_with_skip(y);
  // CAB is a conv stack: it runs on an NCHW view of the channel-last map.
  const at::Tensor local = mlp ? mlp->forward(n2) : cab->forward(n2.permute({0, 3, 1, 2})).permute({0, 2, 3, 1});
  return y_skip * skip_scale2 + local;
}

}  // namespace vss::restore
