#include "datasets/pil_image_ops.h"

#include "core/error.h"

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

namespace vss::pil {

namespace {

void check_rgb8(const at::Tensor& image) {
  if (image.dim() != 3 || image.size(0) != 3 || image.scalar_type() != at::kByte)
    throw Error("image op: expected a uint8 RGB image [3, H, W], got " + shape_to_string(image.sizes().vec()) + " " +
                std::string(c10::toString(image.scalar_type())));
}

// PIL's L conversion (Convert.c, rgb2l): [1, H, W] uint8.
at::Tensor grey(const at::Tensor& image) {
  const at::Tensor v = image.to(at::kInt);
  return (v[0] * 19595 + v[1] * 38470 + v[2] * 7471 + 32768).div(65536, "floor").to(at::kByte).unsqueeze(0);
}

at::Tensor blend(const at::Tensor& degenerate, const at::Tensor& image, double factor) {
  const at::Tensor d = degenerate.to(at::kFloat);
  const at::Tensor mixed = d + static_cast<float>(factor) * (image.to(at::kFloat) - d);
  return mixed.clamp(0.0, 255.0).floor().to(at::kByte).expand_as(image).contiguous();
}

// Applies a 256-entry lookup table per channel: luts [3, 256] int64.
at::Tensor apply_luts(const at::Tensor& image, const at::Tensor& luts) {
  const at::Tensor flat = image.reshape({3, -1}).to(at::kLong);
  return luts.gather(1, flat).clamp(0, 255).to(at::kByte).reshape(image.sizes());
}

}  // namespace

at::Tensor affine(const at::Tensor& image, const std::array<double, 6>& m) {
  check_rgb8(image);
  const int64_t H = image.size(1), W = image.size(2);
  const auto dbl = at::TensorOptions().dtype(at::kDouble);
  const at::Tensor x = (at::arange(W, dbl) + 0.5).unsqueeze(0);
  const at::Tensor y = (at::arange(H, dbl) + 0.5).unsqueeze(1);
  // PIL takes int(v) for v >= 0 and treats v < 0 as outside.
  const at::Tensor xin = (m[0] * x + m[1] * y + m[2]).floor().to(at::kLong);
  const at::Tensor yin = (m[3] * x + m[4] * y + m[5]).floor().to(at::kLong);
  const at::Tensor inside = (xin >= 0) & (xin < W) & (yin >= 0) & (yin < H);
  const at::Tensor index = at::where(inside, yin * W + xin, at::zeros_like(xin)).reshape({1, -1}).expand({3, -1});
  const at::Tensor picked = image.reshape({3, -1}).gather(1, index).reshape({3, H, W});
  return at::where(inside.unsqueeze(0), picked, at::zeros_like(picked));
}

at::Tensor shear_x(const at::Tensor& image, double m) { return affine(image, {1, m, 0, 0, 1, 0}); }
at::Tensor shear_y(const at::Tensor& image, double m) { return affine(image, {1, 0, 0, m, 1, 0}); }
at::Tensor translate(const at::Tensor& image, double dx, double dy) { return affine(image, {1, 0, dx, 0, 1, dy}); }

at::Tensor rotate(const at::Tensor& image, double degrees) {
  check_rgb8(image);
  const double angle = std::fmod(std::fmod(degrees, 360.0) + 360.0, 360.0);
  const int64_t H = image.size(1), W = image.size(2);
  // Image.rotate takes these exactly (transposes) before its general affine path.
  if (angle == 0) return image.clone();
  if (angle == 180) return image.flip({1, 2});
  if ((angle == 90 || angle == 270) && H == W) return at::rot90(image, angle == 90 ? 1 : -1, {1, 2}).contiguous();
  const double rad = -angle * M_PI / 180.0;
  // PIL rounds the rotation matrix to 15 decimals.
  auto r15 = [](double v) { return std::round(v * 1e15) / 1e15; };
  const double a = r15(std::cos(rad)), b = r15(std::sin(rad)), d = r15(-std::sin(rad)), e = r15(std::cos(rad));
  const double cx = static_cast<double>(W) / 2.0, cy = static_cast<double>(H) / 2.0;
  return affine(image, {a, b, a * -cx + b * -cy + cx, d, e, d * -cx + e * -cy + cy});
}

at::Tensor brightness(const at::Tensor& image, double factor) {
  check_rgb8(image);
  return blend(at::zeros_like(image), image, factor);
}

at::Tensor color(const at::Tensor& image, double factor) {
  check_rgb8(image);
  return blend(grey(image), image, factor);
}

at::Tensor contrast(const at::Tensor& image, double factor) {
  check_rgb8(image);
  const double mean = grey(image).to(at::kDouble).mean().item<double>();
  return blend(at::full({1, 1, 1}, std::floor(mean + 0.5), at::kFloat), image, factor);
}

at::Tensor sharpness(const at::Tensor& image, double factor) {
  check_rgb8(image);
  const int64_t H = image.size(1), W = image.size(2);
  at::Tensor degenerate = image.clone();
  if (H > 2 && W > 2) {
    const at::Tensor kernel = at::tensor({1.f, 1.f, 1.f, 1.f, 5.f, 1.f, 1.f, 1.f, 1.f}).reshape({1, 1, 3, 3}) / 13.f;
    const at::Tensor smooth = at::conv2d(image.to(at::kFloat).unsqueeze(1), kernel).squeeze(1);
    // PIL's 3x3 filter rounds to nearest (clip8 of sum + 0.5).
    degenerate.narrow(1, 1, H - 2).narrow(2, 1, W - 2).copy_((smooth + 0.5).floor().clamp(0, 255).to(at::kByte));
  }
  return blend(degenerate, image, factor);
}

at::Tensor posterize(const at::Tensor& image, int64_t bits) {
  check_rgb8(image);
  if (bits < 0 || bits > 8) throw Error("posterize: bits must be in 0..8, got " + std::to_string(bits));
  const int mask = ~((1 << (8 - bits)) - 1) & 0xff;
  return at::bitwise_and(image, mask);
}

at::Tensor solarize(const at::Tensor& image, double threshold) {
  check_rgb8(image);
  return at::where(image.to(at::kDouble) >= threshold, 255 - image, image);
}

at::Tensor autocontrast(const at::Tensor& image) {
  check_rgb8(image);
  std::vector<int64_t> luts(3 * 256);
  for (int64_t c = 0; c < 3; ++c) {
    const int64_t lo = image[c].min().item<int64_t>(), hi = image[c].max().item<int64_t>();
    for (int64_t v = 0; v < 256; ++v) {
      int64_t out = v;
      if (hi > lo) {
        const double scale = 255.0 / static_cast<double>(hi - lo);
        out = static_cast<int64_t>(static_cast<double>(v) * scale - static_cast<double>(lo) * scale);  // int(): toward 0
      }
      luts[static_cast<size_t>(c * 256 + v)] = std::clamp<int64_t>(out, 0, 255);
    }
  }
  return apply_luts(image, at::tensor(luts, at::kLong).reshape({3, 256}));
}

at::Tensor equalize(const at::Tensor& image) {
  check_rgb8(image);
  std::vector<int64_t> luts(3 * 256);
  for (int64_t c = 0; c < 3; ++c) {
    const at::Tensor hist_t = at::bincount(image[c].reshape(-1).to(at::kLong), {}, 256);
    const std::vector<int64_t> hist(hist_t.data_ptr<int64_t>(), hist_t.data_ptr<int64_t>() + 256);
    int64_t total = 0, last = 0, used = 0;
    for (int64_t h : hist)
      if (h) {
        total += h;
        last = h;
        ++used;
      }
    const int64_t step = used <= 1 ? 0 : (total - last) / 255;
    int64_t n = step / 2;
    for (int64_t v = 0; v < 256; ++v) {
      luts[static_cast<size_t>(c * 256 + v)] = step ? n / step : v;
      n += hist[static_cast<size_t>(v)];
    }
  }
  return apply_luts(image, at::tensor(luts, at::kLong).reshape({3, 256}));
}

}  // namespace vss::pil
