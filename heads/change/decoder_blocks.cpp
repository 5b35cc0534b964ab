#include "heads/change/decoder_blocks.h"

#include <ATen/ATen.h>

namespace vss::change {

STBlockImpl::STBlockImpl(int64_t in_channels, int64_t channels, double drop_path, const VSSMOptions& o) {
  conv_ = register_module("0", Conv(in_channels, channels, 1, 1, 0, 1, true));
  block_ = register_module("2", VSSBlock(channels, drop_path, o));
}

at::Tensor STBlockImpl::forward(const at::Tensor& x) { return block_->forward(conv_->forward_channel_last(x)); }

PermutedVSSBlockImpl::PermutedVSSBlockImpl(int64_t channels, double drop_path, const VSSMOptions& o) {
  block_ = register_module("1", VSSBlock(channels, drop_path, o));
}

at::Tensor PermutedVSSBlockImpl::forward(const at::Tensor& x) { return block_->forward(x); }

ConvBnReluImpl::ConvBnReluImpl(int64_t in_channels, int64_t channels) {
  conv_ = register_module("0", Conv(in_channels, channels, 1, 1, 0, 1, true));
  bn_ = register_module("1", ChannelNorm("bn", channels));
}

at::Tensor ConvBnReluImpl::forward(const at::Tensor& x) { return at::relu(bn_->forward(conv_->forward_channel_last(x))); }

ResBlockImpl::ResBlockImpl(int64_t channels) {
  conv1_ = register_module("conv1", Conv(channels, channels, 3, 1, 1, 1, false));
  bn1_ = register_module("bn1", ChannelNorm("bn", channels));
  conv2_ = register_module("conv2", Conv(channels, channels, 3, 1, 1, 1, false));
  bn2_ = register_module("bn2", ChannelNorm("bn", channels));
}

at::Tensor ResBlockImpl::forward(const at::Tensor& x) {
  const auto h = at::relu(bn1_->forward(conv1_->forward_channel_last(x)));
  return at::relu(bn2_->forward(conv2_->forward_channel_last(h)) + x);
}

at::Tensor resize_like(const at::Tensor& x, const at::Tensor& like) {
  const auto nchw = at::upsample_bilinear2d(x.permute({0, 3, 1, 2}), {like.size(1), like.size(2)}, false);
  return nchw.permute({0, 2, 3, 1});
}

}  // namespace vss::change
