#include "datasets/color_jitter.h"

#include "core/error.h"
#include "datasets/hsv.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <array>

namespace vss {

namespace {

void check_rgb(const at::Tensor& image) {
  if (image.dim() != 3 || image.size(0) != 3 || !at::isFloatingType(image.scalar_type()))
    throw Error("colour jitter: expected a float RGB image [3, H, W], got " + shape_to_string(image.sizes().vec()) +
                " " + std::string(c10::toString(image.scalar_type())));
}

at::Tensor grey(const at::Tensor& image) {
  return (0.2989 * image[0] + 0.587 * image[1] + 0.114 * image[2]).unsqueeze(0);
}

at::Tensor blend(const at::Tensor& image, const at::Tensor& other, double factor) {
  return (factor * image + (1.0 - factor) * other).clamp(0.0, 1.0);
}

}  // namespace

at::Tensor ColorJitter::adjust_brightness(const at::Tensor& image, double factor) {
  check_rgb(image);
  return (image * factor).clamp(0.0, 1.0);
}

at::Tensor ColorJitter::adjust_contrast(const at::Tensor& image, double factor) {
  check_rgb(image);
  return blend(image, grey(image).mean(), factor);
}

at::Tensor ColorJitter::adjust_saturation(const at::Tensor& image, double factor) {
  check_rgb(image);
  return blend(image, grey(image), factor);
}

at::Tensor ColorJitter::adjust_hue(const at::Tensor& image, double shift) {
  check_rgb(image);
  auto [h, s, v] = rgb_to_hsv(image);
  return hsv_to_rgb(at::remainder(h + 360.0 * shift, 360.0), s, v).clamp(0.0, 1.0);
}

at::Tensor ColorJitter::operator()(const at::Tensor& image, AugmentRng& rng) const {
  std::array<int, 4> order{0, 1, 2, 3};
  std::shuffle(order.begin(), order.end(), rng);
  auto factor = [&](double strength) {
    return std::uniform_real_distribution<double>(std::max(0.0, 1.0 - strength), 1.0 + strength)(rng);
  };
  at::Tensor out = image;
  for (int step : order) {
    if (step == 0 && brightness > 0) out = adjust_brightness(out, factor(brightness));
    if (step == 1 && contrast > 0) out = adjust_contrast(out, factor(contrast));
    if (step == 2 && saturation > 0) out = adjust_saturation(out, factor(saturation));
    if (step == 3 && hue > 0) out = adjust_hue(out, std::uniform_real_distribution<double>(-hue, hue)(rng));
  }
  return out;
}

}  // namespace vss
