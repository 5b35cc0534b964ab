// CenterNet's gaussian radius and heatmap splat (see gaussian_target.h).
#include "heads/detect/gaussian_target.h"

#include "core/error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace vss::detect {

double gaussian_radius(double height, double width, double min_overlap) {
  // Case 1: both corners inside the box.
  const double b1 = height + width;
  const double c1 = width * height * (1 - min_overlap) / (1 + min_overlap);
  const double r1 = (b1 + std::sqrt(b1 * b1 - 4 * c1)) / 2;
  // Case 2: both corners outside.
  const double b2 = 2 * (height + width);
  const double c2 = (1 - min_overlap) * width * height;
  const double r2 = (b2 + std::sqrt(b2 * b2 - 16 * c2)) / 2;
  // Case 3: one inside, one outside.
  const double a3 = 4 * min_overlap;
  const double b3 = -2 * min_overlap * (height + width);
  const double c3 = (min_overlap - 1) * width * height;
  const double r3 = (b3 + std::sqrt(b3 * b3 - 4 * a3 * c3)) / 2;
  return std::min({r1, r2, r3});
}

void draw_gaussian(at::Tensor& heatmap, int64_t cx, int64_t cy, int64_t radius) {
  if (heatmap.dim() != 2 || heatmap.scalar_type() != at::kFloat || !heatmap.is_contiguous() || !heatmap.is_cpu())
    throw Error("draw_gaussian: heatmap must be a contiguous CPU float32 [H, W] tensor");
  radius = std::max<int64_t>(radius, 0);
  const int64_t H = heatmap.size(0), W = heatmap.size(1);
  const double sigma = (2.0 * static_cast<double>(radius) + 1) / 6;
  // gaussian2D zeroes values below eps·max; its max is exp(0) = 1.
  const double cut = std::numeric_limits<double>::epsilon();
  float* h = heatmap.data_ptr<float>();
  for (int64_t dy = -radius; dy <= radius; ++dy) {
    const int64_t y = cy + dy;
    if (y < 0 || y >= H) continue;
    for (int64_t dx = -radius; dx <= radius; ++dx) {
      const int64_t x = cx + dx;
      if (x < 0 || x >= W) continue;
      double g = std::exp(-static_cast<double>(dx * dx + dy * dy) / (2 * sigma * sigma));
      if (g < cut) g = 0;
      float& v = h[y * W + x];
      v = std::max(v, static_cast<float>(g));
    }
  }
}

}  // namespace vss::detect
