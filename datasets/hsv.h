#pragma once
// RGB <-> HSV on [3, H, W] float images of any value scale (colorsys' formulas): hue in
// degrees [0, 360), saturation in [0, 1], value on the image's scale (the largest channel).
#include <ATen/core/Tensor.h>

#include <tuple>

namespace vss {

std::tuple<at::Tensor, at::Tensor, at::Tensor> rgb_to_hsv(const at::Tensor& rgb);
at::Tensor hsv_to_rgb(const at::Tensor& h, const at::Tensor& s, const at::Tensor& v);

}  // namespace vss
