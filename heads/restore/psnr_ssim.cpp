#include "heads/restore/psnr_ssim.h"

#include "core/error.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>

namespace vss::restore {

namespace {

at::Tensor as_hwc(const at::Tensor& image) { return image.dim() == 2 ? image.unsqueeze(2) : image; }

// Both images checked, cropped and turned into the float64 [H, W, C] planes that are scored.
std::pair<at::Tensor, at::Tensor> prepare(const char* metric, const at::Tensor& a, const at::Tensor& b,
                                          const MetricOptions& o) {
  const std::string where = std::string(metric) + ": ";
  if (a.sizes() != b.sizes())
    throw Error(where + "images differ in shape: " + shape_to_string(a.sizes().vec()) + " vs " +
                shape_to_string(b.sizes().vec()));
  if ((a.dim() != 2 && a.dim() != 3) || a.scalar_type() != at::kByte || b.scalar_type() != at::kByte)
    throw Error(where + "expected uint8 [H, W, C] or [H, W] images, got shape " + shape_to_string(a.sizes().vec()));
  at::Tensor x = as_hwc(a), y = as_hwc(b);
  const int64_t c = o.crop_border;
  if (c < 0) throw Error(where + "crop_border must be >= 0, got " + std::to_string(c));
  if (c > 0) {
    if (x.size(0) <= 2 * c || x.size(1) <= 2 * c)
      throw Error(where + "crop_border " + std::to_string(c) + " leaves nothing of a " + std::to_string(x.size(0)) +
                  "x" + std::to_string(x.size(1)) + " image");
    x = x.slice(0, c, x.size(0) - c).slice(1, c, x.size(1) - c);
    y = y.slice(0, c, y.size(0) - c).slice(1, c, y.size(1) - c);
  }
  if (o.test_y_channel && x.size(2) == 3) return {rgb_to_y(x), rgb_to_y(y)};
  return {x.to(at::kDouble), y.to(at::kDouble)};
}

}  // namespace

at::Tensor quantize_uint8(const at::Tensor& image) {
  // float32 multiply then round half to even, as numpy's (img_np * 255.0).round().
  return (image.to(at::kFloat).clamp(0.0, 1.0) * 255.0f).round().to(at::kByte);
}

at::Tensor to_uint8(const at::Tensor& image) {
  if (image.scalar_type() == at::kByte) return image;
  if (image.scalar_type() == at::kUInt16) return quantize_uint8(image.to(at::kDouble) / 65535.0);
  throw Error("to_uint8: expected a uint8 or uint16 image, got " + std::string(c10::toString(image.scalar_type())));
}

at::Tensor rgb_to_y(const at::Tensor& rgb) {
  if (rgb.dim() != 3 || rgb.size(2) != 3 || rgb.scalar_type() != at::kByte)
    throw Error("rgb_to_y: expected a uint8 [H, W, 3] image, got shape " + shape_to_string(rgb.sizes().vec()));
  const at::Tensor src = rgb.contiguous();
  const int64_t n = src.size(0) * src.size(1);
  at::Tensor out = torch::empty({src.size(0), src.size(1), 1}, torch::kDouble);
  const uint8_t* p = src.data_ptr<uint8_t>();
  double* q = out.data_ptr<double>();
  // BasicSR: img.astype(float32) / 255 -> dot(BGR, [24.966, 128.553, 65.481]) + 16 in float64
  // -> / 255 stored as float32 -> x 255 in float32. Each rounding step is reproduced.
  for (int64_t i = 0; i < n; ++i) {
    const float r = static_cast<float>(p[3 * i]) / 255.0f;
    const float g = static_cast<float>(p[3 * i + 1]) / 255.0f;
    const float b = static_cast<float>(p[3 * i + 2]) / 255.0f;
    const double y = static_cast<double>(b) * 24.966 + static_cast<double>(g) * 128.553 +
                     static_cast<double>(r) * 65.481 + 16.0;
    const float y_unit = static_cast<float>(y / 255.0);
    q[i] = static_cast<double>(y_unit * 255.0f);
  }
  return out;
}

double psnr(const at::Tensor& a, const at::Tensor& b, const MetricOptions& options) {
  const auto [x, y] = prepare("psnr", a, b, options);
  const double mse = (x - y).pow(2).mean().item<double>();
  if (mse == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(255.0 * 255.0 / mse);
}

double ssim(const at::Tensor& a, const at::Tensor& b, const MetricOptions& options) {
  const auto [x, y] = prepare("ssim", a, b, options);
  constexpr int64_t kWindow = 11;
  if (x.size(0) < kWindow || x.size(1) < kWindow)
    throw Error("ssim: needs at least 11x11 pixels after the crop, got " + std::to_string(x.size(0)) + "x" +
                std::to_string(x.size(1)));
  // cv2.getGaussianKernel(11, 1.5): exp(-(i-5)^2 / (2·1.5^2)), normalised to sum 1.
  const at::Tensor r = torch::arange(kWindow, torch::kDouble) - (kWindow - 1) / 2;
  at::Tensor g = torch::exp(-(r * r) / (2.0 * 1.5 * 1.5));
  g = g / g.sum();
  const at::Tensor window = torch::outer(g, g).view({1, 1, kWindow, kWindow});
  // Channels become the batch: one valid 2D filter per plane (= filter2D, then crop 5 px).
  const auto filter = [&](const at::Tensor& t) { return at::conv2d(t.permute({2, 0, 1}).unsqueeze(1), window); };
  const double c1 = std::pow(0.01 * 255, 2), c2 = std::pow(0.03 * 255, 2);
  const at::Tensor mu1 = filter(x), mu2 = filter(y);
  const at::Tensor mu1_sq = mu1 * mu1, mu2_sq = mu2 * mu2, mu1_mu2 = mu1 * mu2;
  const at::Tensor sigma1_sq = filter(x * x) - mu1_sq;
  const at::Tensor sigma2_sq = filter(y * y) - mu2_sq;
  const at::Tensor sigma12 = filter(x * y) - mu1_mu2;
  const at::Tensor map = ((2 * mu1_mu2 + c1) * (2 * sigma12 + c2)) / ((mu1_sq + mu2_sq + c1) * (sigma1_sq + sigma2_sq + c2));
  // Mean per channel, then over channels (equal sizes, so the mean of all).
  return map.mean({1, 2, 3}).mean().item<double>();
}

}  // namespace vss::restore
