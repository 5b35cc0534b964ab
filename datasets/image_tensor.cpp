#include "datasets/image_tensor.h"

#include "core/error.h"

#include <ATen/ATen.h>

namespace vss {

namespace {

double max_value(at::ScalarType type, const char* what) {
  if (type == at::kByte) return 255.0;
  if (type == at::kUInt16) return 65535.0;
  throw Error(std::string(what) + ": images must be uint8 or uint16, got " + std::string(c10::toString(type)));
}

at::Tensor as_hwc(const at::Tensor& image, const char* what) {
  if (image.dim() == 2) return image.unsqueeze(2);
  if (image.dim() != 3) throw Error(std::string(what) + ": expected an image [H, W, C], got " + shape_to_string(image.sizes().vec()));
  return image;
}

}  // namespace

at::Tensor image_to_float(const at::Tensor& image) {
  const double max = max_value(image.scalar_type(), "image_to_float");
  // uint16 -> float64 first: not every op takes uint16, and 65535 levels need the precision.
  return (as_hwc(image, "image_to_float").permute({2, 0, 1}).to(at::kDouble) / max).to(at::kFloat).contiguous();
}

at::Tensor float_to_image(const at::Tensor& chw, at::ScalarType type) {
  const double max = max_value(type, "float_to_image");
  if (chw.dim() != 3) throw Error("float_to_image: expected [C, H, W], got " + shape_to_string(chw.sizes().vec()));
  const at::Tensor scaled = (chw.to(at::kFloat).clamp(0.0, 1.0) * static_cast<float>(max)).round();
  // float32 holds every integer up to 2^24 exactly, so the cast below only changes the type.
  const at::Tensor hwc = scaled.permute({1, 2, 0}).contiguous().cpu();
  return type == at::kByte ? hwc.to(at::kByte) : hwc.to(at::kInt).to(at::kUInt16);
}

at::Tensor match_channels(const at::Tensor& image, int64_t channels) {
  const at::Tensor hwc = as_hwc(image, "match_channels");
  const int64_t c = hwc.size(2);
  if (c == channels) return hwc;
  if (c == 1 && channels == 3) return hwc.expand({-1, -1, 3}).contiguous();
  if (c == 3 && channels == 1) {
    if (hwc.scalar_type() == at::kByte) {
      // OpenCV's fixed-point RGB2GRAY for 8 bits: (4899 R + 9617 G + 1868 B + 2^13) >> 14.
      const at::Tensor v = hwc.to(at::kInt);
      const at::Tensor y = (v.select(2, 0) * 4899 + v.select(2, 1) * 9617 + v.select(2, 2) * 1868 + 8192)
                               .div(16384, "floor");
      return y.to(at::kByte).unsqueeze(2);
    }
    const at::Tensor v = hwc.to(at::kDouble);
    const at::Tensor y = (v.select(2, 0) * 0.299 + v.select(2, 1) * 0.587 + v.select(2, 2) * 0.114).round();
    return y.to(at::kInt).to(hwc.scalar_type()).unsqueeze(2);
  }
  throw Error("cannot convert a " + std::to_string(c) + "-channel image to " + std::to_string(channels) + " channels");
}

at::Tensor drop_alpha(const at::Tensor& image) {
  if (image.dim() == 3 && (image.size(2) == 4 || image.size(2) == 2)) return image.narrow(2, 0, image.size(2) - 1);
  return image;
}

}  // namespace vss
