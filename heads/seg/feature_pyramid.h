#pragma once
// The FPN pieces UPerHead and the light FPN head share: lists of ConvModules registered
// under mmseg's names, the top-down pathway and the final resize to the finest level.
#include "heads/seg/conv_module.h"

#include <string>
#include <vector>

namespace vss::seg {

// `name`.{i} = ConvModule(in_channels[i] -> out_channels, kernel).
std::vector<ConvModule> register_conv_list(torch::nn::Module& owner, const std::string& name,
                                           const std::vector<int64_t>& in_channels, int64_t out_channels,
                                           int64_t kernel);

// Top-down pathway, coarsest to finest: levels[i-1] += resize(levels[i]) (bilinear).
void add_top_down(std::vector<at::Tensor>& levels);

// Resizes every level to the size of levels[0].
void resize_to_finest(std::vector<at::Tensor>& levels);

}  // namespace vss::seg
