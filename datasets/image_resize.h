#pragma once
// Resampling uint8 [C, H, W] images the way PIL (and so torchvision's Resize) does: bilinear
// or bicubic (a = -0.5) filters widened by the scale factor when shrinking (antialiasing),
// the result rounded back to uint8. OpenCV's INTER_CUBIC (a = -0.75, no antialiasing) would
// give visibly different eval crops from the ones published accuracies were measured on.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <utility>

namespace vss {

enum class Interpolation { kBilinear, kBicubic };

// "bilinear" | "bicubic"; anything else is a vss::Error listing both.
Interpolation parse_interpolation(const std::string& name);

at::Tensor resize_uint8(const at::Tensor& chw, int64_t height, int64_t width, Interpolation interpolation);

// torchvision Resize(int): the shorter side becomes `size`, the longer one keeps the aspect
// ratio, truncated: (h, w) for an H x W image.
std::pair<int64_t, int64_t> shorter_side_size(int64_t H, int64_t W, int64_t size);

}  // namespace vss
