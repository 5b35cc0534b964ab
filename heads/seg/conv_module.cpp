#include "heads/seg/conv_module.h"

#include <torch/torch.h>

namespace vss::seg {

ConvModuleImpl::ConvModuleImpl(int64_t in_channels, int64_t out_channels, int64_t kernel) {
  conv = register_module("conv", Conv(in_channels, out_channels, kernel, 1, kernel / 2, 1, /*bias=*/false));
  bn = register_module("bn", torch::nn::BatchNorm2d(out_channels));
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
}

at::Tensor ConvModuleImpl::forward(const at::Tensor& x) { return torch::relu(bn->forward(conv->forward(x))); }

at::Tensor resize_bilinear(const at::Tensor& x, int64_t height, int64_t width) {
  if (x.size(-2) == height && x.size(-1) == width) return x;
  return torch::nn::functional::interpolate(
      x, torch::nn::functional::InterpolateFuncOptions()
             .size(std::vector<int64_t>{height, width})
             .mode(torch::kBilinear)
             .align_corners(false));
}

}  // namespace vss::seg
