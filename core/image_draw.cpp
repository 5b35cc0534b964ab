#include "core/image_draw.h"

#include "core/error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace vss {
namespace {

void check_canvas(const at::Tensor& image) {
  if (image.dim() != 3 || image.size(2) != 3 || image.scalar_type() != at::kByte || !image.is_contiguous() ||
      !image.device().is_cpu())
    throw Error("drawing needs a contiguous CPU [H, W, 3] uint8 image, got " + shape_to_string(image.sizes().vec()));
}

// Fills rows [y0, y1) x columns [x0, x1), clipped.
void fill(at::Tensor& image, int64_t x0, int64_t y0, int64_t x1, int64_t y1, const Rgb& c) {
  const int64_t H = image.size(0), W = image.size(1);
  x0 = std::clamp<int64_t>(x0, 0, W), x1 = std::clamp<int64_t>(x1, 0, W);
  y0 = std::clamp<int64_t>(y0, 0, H), y1 = std::clamp<int64_t>(y1, 0, H);
  uint8_t* p = image.data_ptr<uint8_t>();
  for (int64_t y = y0; y < y1; ++y)
    for (int64_t x = x0; x < x1; ++x) std::copy(c.begin(), c.end(), p + (y * W + x) * 3);
}

}  // namespace

void draw_box(at::Tensor& image, double x, double y, double w, double h, const Rgb& colour, int thickness) {
  check_canvas(image);
  const auto x0 = static_cast<int64_t>(std::lround(x)), y0 = static_cast<int64_t>(std::lround(y));
  const auto x1 = static_cast<int64_t>(std::lround(x + w)), y1 = static_cast<int64_t>(std::lround(y + h));
  const int64_t t = std::max(1, thickness);
  fill(image, x0, y0, x1, std::min(y1, y0 + t), colour);  // top
  fill(image, x0, std::max(y0, y1 - t), x1, y1, colour);  // bottom
  fill(image, x0, y0, std::min(x1, x0 + t), y1, colour);  // left
  fill(image, std::max(x0, x1 - t), y0, x1, y1, colour);  // right
}

void draw_disc(at::Tensor& image, double cx, double cy, double radius, const Rgb& colour) {
  check_canvas(image);
  const int64_t H = image.size(0), W = image.size(1);
  uint8_t* p = image.data_ptr<uint8_t>();
  const auto y0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(cy - radius)));
  const auto y1 = std::min<int64_t>(H - 1, static_cast<int64_t>(std::ceil(cy + radius)));
  const auto x0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(cx - radius)));
  const auto x1 = std::min<int64_t>(W - 1, static_cast<int64_t>(std::ceil(cx + radius)));
  for (int64_t y = y0; y <= y1; ++y)
    for (int64_t x = x0; x <= x1; ++x) {
      const double dx = static_cast<double>(x) + 0.5 - cx, dy = static_cast<double>(y) + 0.5 - cy;
      if (dx * dx + dy * dy <= radius * radius) std::copy(colour.begin(), colour.end(), p + (y * W + x) * 3);
    }
}

}  // namespace vss
