#include "heads/restore/channel_attention.h"

#include <torch/torch.h>

namespace vss::restore {

namespace {

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t groups = 1, int64_t dilation = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                               .padding(dilation * (kernel - 1) / 2)
                               .groups(groups)
                               .dilation(dilation));
}

}  // namespace

ChannelAttentionImpl::ChannelAttentionImpl(int64_t channels, int64_t squeeze_factor) {
  const int64_t squeezed = channels / squeeze_factor;
  TORCH_CHECK(squeezed > 0, "channel attention: ", channels, " channels / squeeze factor ", squeeze_factor,
              " leaves none");
  attention = register_module(
      "attention", torch::nn::Sequential(torch::nn::AdaptiveAvgPool2d(1), conv(channels, squeezed, 1),
                                         torch::nn::ReLU(), conv(squeezed, channels, 1), torch::nn::Sigmoid()));
}

at::Tensor ChannelAttentionImpl::forward(const at::Tensor& x) { return x * attention->forward(x); }

ChannelAttentionBlockImpl::ChannelAttentionBlockImpl(int64_t channels, bool light) {
  constexpr int64_t kSqueeze = 30;
  if (light) {
    const int64_t hidden = channels / 2;
    cab = torch::nn::Sequential(conv(channels, hidden, 1), conv(hidden, hidden, 3, hidden), torch::nn::GELU(),
                                conv(hidden, channels, 1), conv(channels, channels, 3, channels, 2),
                                ChannelAttention(channels, kSqueeze));
  } else {
    const int64_t hidden = channels / 3;
    cab = torch::nn::Sequential(conv(channels, hidden, 3), torch::nn::GELU(), conv(hidden, channels, 3),
                                ChannelAttention(channels, kSqueeze));
  }
  register_module("cab", cab);
}

at::Tensor ChannelAttentionBlockImpl::forward(const at::Tensor& x) { return cab->forward(x); }

}  // namespace vss::restore
