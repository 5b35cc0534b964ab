#include "heads/seg/unet_decoder.h"

#include "core/config.h"
#include "core/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>

namespace vss::seg {
namespace {

// Crops (or zero-pads, bottom / right) a channel-last map to h x w: the encoder rounded odd
// sizes up (or down) on the way down, so the expanded map can be a pixel off its skip.
at::Tensor fit_channel_last(const at::Tensor& x, int64_t h, int64_t w) {
  at::Tensor y = x.slice(1, 0, h).slice(2, 0, w);
  if (y.size(1) < h || y.size(2) < w) y = at::constant_pad_nd(y, {0, 0, 0, w - y.size(2), 0, h - y.size(1)});
  return y;
}

}  // namespace

PatchExpandImpl::PatchExpandImpl(int64_t in_channels, int64_t out_channels, int64_t scale)
    : out_channels_(out_channels), scale_(scale) {
  expand_ = register_module("expand", Dense(in_channels, scale * scale * out_channels, false));
  norm_ = register_module("norm", ChannelNorm("ln", out_channels));
}

at::Tensor PatchExpandImpl::forward(const at::Tensor& x) {
  const int64_t B = x.size(0), H = x.size(1), W = x.size(2), s = scale_, C = out_channels_;
  // einops 'b h w (p1 p2 c) -> b (h p1) (w p2) c'
  const at::Tensor y = expand_->forward(x).view({B, H, W, s, s, C}).permute({0, 1, 3, 2, 4, 5}).reshape({B, H * s, W * s, C});
  return norm_->forward(y);
}

UNetDecoderImpl::UNetDecoderImpl(UNetDecoderOptions options) : options_(std::move(options)) {
  const auto& o = options_;
  const size_t n = o.dims.size();
  const int64_t total = std::accumulate(o.depths.begin(), o.depths.end(), int64_t{0});
  const at::Tensor rates = torch::linspace(0.0, o.drop_path_rate, std::max<int64_t>(total, 1), torch::kFloat64).flip(0);
  auto layers = register_module("layers_up", torch::nn::ModuleList());
  int64_t next_rate = 0;
  for (size_t k = 0; k < n; ++k) {
    const int64_t dim = o.dims[n - 1 - k];
    auto layer = std::make_shared<torch::nn::Module>();
    Stage stage;
    if (k > 0) stage.upsample = layer->register_module("upsample", PatchExpand(o.dims[n - k], dim, 2));
    auto blocks = layer->register_module("blocks", torch::nn::ModuleList());
    for (int64_t j = 0; j < o.depths[k]; ++j) {
      stage.blocks.push_back(VSSBlock(dim, rates[next_rate++].item<double>(), o.block));
      blocks->push_back(stage.blocks.back());
    }
    stages_.push_back(std::move(stage));
    layers->push_back(layer);
  }
  final_up_ = register_module("final_up", PatchExpand(o.dims[0], o.dims[0] / 4, 4));
  final_conv_ = register_module("final_conv", Conv(o.dims[0] / 4, o.num_classes, 1, 1, 0, 1, true));
}

at::Tensor UNetDecoderImpl::forward(const std::vector<at::Tensor>& features) {
  check_features("UNet decoder", features, options_.dims);
  const size_t n = features.size();
  auto channel_last = [](const at::Tensor& nchw) { return nchw.permute({0, 2, 3, 1}); };
  at::Tensor x = channel_last(features.back());
  for (size_t k = 0; k < n; ++k) {
    if (k > 0) {
      const at::Tensor skip = channel_last(features[n - 1 - k]);
      x = fit_channel_last(stages_[k].upsample->forward(x), skip.size(1), skip.size(2)) + skip;
    }
    for (auto& block : stages_[k].blocks) x = block->forward(x);
  }
  return final_conv_->forward(final_up_->forward(x).permute({0, 3, 1, 2}));
}

std::shared_ptr<DecodeHead> make_unet_decoder(const Config& node, const VSSMOptions& encoder,
                                              const std::vector<int64_t>& in_channels, int64_t num_classes) {
  node.check_keys({"depths", "drop_path_rate"});
  UNetDecoderOptions o;
  o.block = encoder;
  o.dims = in_channels;
  o.num_classes = num_classes;
  o.depths = node.get_or<std::vector<int64_t>>("depths", o.depths);
  o.drop_path_rate = node.get_or<double>("drop_path_rate", o.drop_path_rate);
  if (o.depths.size() != in_channels.size())
    node["depths"].fail("needs one entry per encoder stage (" + std::to_string(in_channels.size()) + "), got " +
                        std::to_string(o.depths.size()));
  for (auto d : o.depths)
    if (d < 0) node["depths"].fail("entries must be >= 0");
  if (o.drop_path_rate < 0 || o.drop_path_rate >= 1) node["drop_path_rate"].fail("must be in [0, 1)");
  if (in_channels[0] % 4 != 0)
    throw Error("UNet decoder: the first encoder stage's channels (" + std::to_string(in_channels[0]) +
                ") must be a multiple of 4 for the final x4 patch expanding");
  return std::make_shared<UNetDecoderImpl>(o);
}

}  // namespace vss::seg
