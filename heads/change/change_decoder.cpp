#include "heads/change/change_decoder.h"

#include "backbones/layers.h"
#include "backbones/vss_block.h"
#include "core/error.h"

#include <torch/torch.h>

namespace vss::change {

// nn.Sequential(Conv2d 1×1, Permute, VSSBlock, Permute): keys 0 and 2. Channel-last maps.
class STBlockImpl : public torch::nn::Module {
 public:
  STBlockImpl(int64_t in_channels, int64_t channels, double drop_path, const VSSMOptions& o) {
    conv_ = register_module("0", Conv(in_channels, channels, 1, 1, 0, 1, true));
    block_ = register_module("2", VSSBlock(channels, drop_path, o));
  }
  at::Tensor forward(const at::Tensor& x) { return block_->forward(conv_->forward_channel_last(x)); }

 private:
  Conv conv_{nullptr};
  VSSBlock block_{nullptr};
};

// nn.Sequential(Conv2d 1×1 with bias, BatchNorm2d, ReLU): keys 0 and 1.
class FuseLayerImpl : public torch::nn::Module {
 public:
  FuseLayerImpl(int64_t in_channels, int64_t channels) {
    conv_ = register_module("0", Conv(in_channels, channels, 1, 1, 0, 1, true));
    bn_ = register_module("1", ChannelNorm("bn", channels));
  }
  at::Tensor forward(const at::Tensor& x) { return at::relu(bn_->forward(conv_->forward_channel_last(x))); }

 private:
  Conv conv_{nullptr};
  ChannelNorm bn_{nullptr};
};

// torchvision-style basic block without downsampling: conv1, bn1, conv2, bn2 (convs 3×3, no bias).
class ResBlockImpl : public torch::nn::Module {
 public:
  explicit ResBlockImpl(int64_t channels) {
    conv1_ = register_module("conv1", Conv(channels, channels, 3, 1, 1, 1, false));
    bn1_ = register_module("bn1", ChannelNorm("bn", channels));
    conv2_ = register_module("conv2", Conv(channels, channels, 3, 1, 1, 1, false));
    bn2_ = register_module("bn2", ChannelNorm("bn", channels));
  }
  at::Tensor forward(const at::Tensor& x) {
    const auto h = at::relu(bn1_->forward(conv1_->forward_channel_last(x)));
    return at::relu(bn2_->forward(conv2_->forward_channel_last(h)) + x);
  }

 private:
  Conv conv1_{nullptr}, conv2_{nullptr};
  ChannelNorm bn1_{nullptr}, bn2_{nullptr};
};

namespace {

// Bilinear (align_corners false, as F.interpolate's default) resize of a channel-last map.
at::Tensor resize_like(const at::Tensor& x, const at::Tensor& like) {
  const auto nchw = at::upsample_bilinear2d(x.permute({0, 3, 1, 2}), {like.size(1), like.size(2)}, false);
  return nchw.permute({0, 2, 3, 1});
}

}  // namespace

ChangeDecoderImpl::ChangeDecoderImpl(const std::vector<int64_t>& encoder_dims, const VSSMOptions& o, int64_t channels,
                                     double drop_path) {
  const auto scales = static_cast<int64_t>(encoder_dims.size());
  if (scales < 1 || scales > 9)
    throw Error("ChangeDecoder: needs 1 to 9 encoder maps, got " + std::to_string(scales));
  st_blocks_.resize(scales);
  fuse_layers_.resize(scales);
  smooth_layers_.resize(scales - 1);
  // Registered in the reference's order: st blocks deepest first, then fuse, then smooth layers.
  for (int64_t s = scales; s >= 1; --s) {
    const int64_t dim = encoder_dims[s - 1];
    for (int64_t k = 1; k <= 3; ++k)
      st_blocks_[s - 1][k - 1] =
          register_module("st_block_" + std::to_string(s) + std::to_string(k),
                          std::make_shared<STBlockImpl>(k == 1 ? 2 * dim : dim, channels, drop_path, o));
  }
  for (int64_t s = scales; s >= 1; --s)
    fuse_layers_[s - 1] =
        register_module("fuse_layer_" + std::to_string(s), std::make_shared<FuseLayerImpl>(5 * channels, channels));
  for (int64_t s = scales - 1; s >= 1; --s)
    smooth_layers_[s - 1] =
        register_module("smooth_layer_" + std::to_string(s), std::make_shared<ResBlockImpl>(channels));
}

at::Tensor ChangeDecoderImpl::forward(const std::vector<at::Tensor>& pre, const std::vector<at::Tensor>& post) {
  const auto scales = st_blocks_.size();
  if (pre.size() != scales || post.size() != scales)
    throw Error("ChangeDecoder: expected " + std::to_string(scales) + " maps per date, got " +
                std::to_string(pre.size()) + " and " + std::to_string(post.size()));
  at::Tensor p;  // the top-down map, channel-last
  for (size_t i = scales; i-- > 0;) {
    if (pre[i].sizes() != post[i].sizes())
      throw Error("ChangeDecoder: scale " + std::to_string(i + 1) + " maps differ: " +
                  shape_to_string(pre[i].sizes().vec()) + " vs " + shape_to_string(post[i].sizes().vec()));
    const auto a = pre[i].permute({0, 2, 3, 1});  // [B, H, W, C_s]
    const auto b = post[i].permute({0, 2, 3, 1});
    const int64_t W = a.size(2);
    auto& st = st_blocks_[i];
    const auto parallel = st[0]->forward(torch::cat({a, b}, 3));
    // [B, H, W, 2, C] -> [B, H, 2W, C]: column 2w is pre's w, column 2w + 1 post's w.
    const auto cross = st[1]->forward(torch::stack({a, b}, 3).flatten(2, 3));
    const auto sequential = st[2]->forward(torch::cat({a, b}, 2));
    const auto fused = fuse_layers_[i]->forward(torch::cat({parallel, cross.slice(2, 0, std::nullopt, 2),
                                                            cross.slice(2, 1, std::nullopt, 2), sequential.slice(2, 0, W),
                                                            sequential.slice(2, W)},
                                                           3));
    p = p.defined() ? smooth_layers_[i]->forward(fused + resize_like(p, fused)) : fused;
  }
  return p.permute({0, 3, 1, 2});
}

}  // namespace vss::change
