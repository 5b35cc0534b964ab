#include "heads/restore/sequence_shuffle_attention.h"

#include "core/error.h"

#include <torch/torch.h>

namespace vss::restore {

SequenceShuffleAttentionImpl::SequenceShuffleAttentionImpl(int64_t channels, int64_t directions)
    : channels_(channels), directions_(directions) {
  const int64_t total = channels * directions;
  gating = register_module(
      "gating", torch::nn::Sequential(torch::nn::AdaptiveAvgPool2d(1),
                                      torch::nn::Conv2d(torch::nn::Conv2dOptions(total, total, 1).groups(channels)),
                                      torch::nn::Sigmoid()));
}

at::Tensor SequenceShuffleAttentionImpl::forward(const at::Tensor& y) {
  if (y.dim() != 5 || y.size(1) != directions_ || y.size(2) != channels_)
    throw_shape_error("sequence shuffle attention input", {-1, directions_, channels_, -1, -1}, y.sizes().vec());
  const int64_t B = y.size(0), H = y.size(3), W = y.size(4);
  // Channel shuffle [B, K, Dn] -> [B, Dn, K]: channel d·K + k, as the grouped conv expects.
  const at::Tensor shuffled = y.transpose(1, 2).reshape({B, channels_ * directions_, H, W});
  const at::Tensor weight = gating->forward(shuffled).view({B, channels_, directions_}).transpose(1, 2);
  return (y * weight.unsqueeze(-1).unsqueeze(-1)).sum(1);
}

}  // namespace vss::restore
