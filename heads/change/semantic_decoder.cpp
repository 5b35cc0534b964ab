#include "heads/change/semantic_decoder.h"

#include "core/error.h"
#include "heads/change/decoder_blocks.h"

#include <torch/torch.h>

namespace vss::change {

SemanticDecoderImpl::SemanticDecoderImpl(const std::vector<int64_t>& encoder_dims, const VSSMOptions& o,
                                         int64_t channels, double drop_path) {
  const auto scales = static_cast<int64_t>(encoder_dims.size());
  if (scales < 1 || scales > 9)
    throw Error("SemanticDecoder: needs 1 to 9 encoder maps, got " + std::to_string(scales));
  st_blocks_.resize(scales - 1);
  trans_layers_.resize(scales - 1);
  smooth_layers_.resize(scales);
  // Registered in the reference's order: st blocks deepest first, trans layers, smooth layers.
  const auto name = [](const char* what, int64_t s) { return what + std::to_string(s); };
  top_ = register_module(name("st_block_", scales) + "_semantic",
                         std::make_shared<STBlockImpl>(encoder_dims.back(), channels, drop_path, o));
  for (int64_t s = scales - 1; s >= 1; --s)
    st_blocks_[s - 1] = register_module(name("st_block_", s) + "_semantic",
                                        std::make_shared<PermutedVSSBlockImpl>(channels, drop_path, o));
  for (int64_t s = scales - 1; s >= 1; --s)
    trans_layers_[s - 1] =
        register_module(name("trans_layer_", s), std::make_shared<ConvBnReluImpl>(encoder_dims[s - 1], channels));
  for (int64_t s = scales - 1; s >= 0; --s)
    smooth_layers_[s] =
        register_module(name("smooth_layer_", s) + "_semantic", std::make_shared<ResBlockImpl>(channels));
}

at::Tensor SemanticDecoderImpl::forward(const std::vector<at::Tensor>& features) {
  const size_t scales = smooth_layers_.size();
  if (features.size() != scales)
    throw Error("SemanticDecoder: expected " + std::to_string(scales) + " maps, got " + std::to_string(features.size()));
  at::Tensor p = top_->forward(features.back().permute({0, 2, 3, 1}));  // channel-last from here on
  for (size_t i = scales - 1; i-- > 0;) {
    const at::Tensor lateral = trans_layers_[i]->forward(features[i].permute({0, 2, 3, 1}));
    p = st_blocks_[i]->forward(smooth_layers_[i + 1]->forward(resize_like(p, lateral) + lateral));
  }
  return smooth_layers_[0]->forward(p).permute({0, 3, 1, 2});
}

}  // namespace vss::change
