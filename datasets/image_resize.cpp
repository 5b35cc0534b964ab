#include "datasets/image_resize.h"

#include "core/error.h"

#include <ATen/ATen.h>

namespace vss {

Interpolation parse_interpolation(const std::string& name) {
  if (name == "bilinear") return Interpolation::kBilinear;
  if (name == "bicubic") return Interpolation::kBicubic;
  throw Error("unknown interpolation '" + name + "' (known: bilinear, bicubic)");
}

at::Tensor resize_uint8(const at::Tensor& chw, int64_t height, int64_t width, Interpolation interpolation) {
  if (chw.dim() != 3 || chw.scalar_type() != at::kByte)
    throw Error("resize: expected a uint8 image [C, H, W], got " + shape_to_string(chw.sizes().vec()) + " " +
                std::string(c10::toString(chw.scalar_type())));
  if (height < 1 || width < 1)
    throw Error("resize: target size must be positive, got " + std::to_string(height) + "x" + std::to_string(width));
  if (chw.size(1) == height && chw.size(2) == width) return chw;
  const at::Tensor in = chw.unsqueeze(0).to(at::kFloat);
  const at::Tensor out = interpolation == Interpolation::kBicubic
                             ? at::_upsample_bicubic2d_aa(in, {height, width}, /*align_corners=*/false)
                             : at::_upsample_bilinear2d_aa(in, {height, width}, /*align_corners=*/false);
  return out.squeeze(0).round().clamp(0, 255).to(at::kByte);
}

std::pair<int64_t, int64_t> shorter_side_size(int64_t H, int64_t W, int64_t size) {
  if (H <= W) return {size, size * W / H};
  return {size * H / W, size};
}

}  // namespace vss
