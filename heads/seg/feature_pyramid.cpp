#include "heads/seg/feature_pyramid.h"

#include <torch/torch.h>

namespace vss::seg {

std::vector<ConvModule> register_conv_list(torch::nn::Module& owner, const std::string& name,
                                           const std::vector<int64_t>& in_channels, int64_t out_channels,
                                           int64_t kernel) {
  auto list = owner.register_module(name, torch::nn::ModuleList());
  std::vector<ConvModule> out;
  for (auto c : in_channels) {
    out.push_back(ConvModule(c, out_channels, kernel));
    list->push_back(out.back());
  }
  return out;
}

void add_top_down(std::vector<at::Tensor>& levels) {
  for (size_t i = levels.size() - 1; i > 0; --i)
    levels[i - 1] = levels[i - 1] + resize_bilinear(levels[i], levels[i - 1].size(2), levels[i - 1].size(3));
}

void resize_to_finest(std::vector<at::Tensor>& levels) {
  for (size_t i = 1; i < levels.size(); ++i) levels[i] = resize_bilinear(levels[i], levels[0].size(2), levels[0].size(3));
}

}  // namespace vss::seg
