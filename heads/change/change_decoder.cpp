#include "heads/change/change_decoder.h"

#include "core/error.h"
#include "heads/change/decoder_blocks.h"

#include <torch/torch.h>

namespace vss::change {

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
        register_module("fuse_layer_" + std::to_string(s), std::make_shared<ConvBnReluImpl>(5 * channels, channels));
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
