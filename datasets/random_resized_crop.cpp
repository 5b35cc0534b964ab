#include "datasets/random_resized_crop.h"

#include <algorithm>
#include <cmath>

namespace vss {

CropBox RandomResizedCrop::box(int64_t H, int64_t W, AugmentRng& rng) const {
  const double area = static_cast<double>(H * W);
  std::uniform_real_distribution<double> area_fraction(scale[0], scale[1]);
  std::uniform_real_distribution<double> log_ratio(std::log(ratio[0]), std::log(ratio[1]));
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * area_fraction(rng);
    const double aspect = std::exp(log_ratio(rng));
    const auto w = static_cast<int64_t>(std::nearbyint(std::sqrt(target * aspect)));
    const auto h = static_cast<int64_t>(std::nearbyint(std::sqrt(target / aspect)));
    if (w > 0 && w <= W && h > 0 && h <= H) {
      const int64_t top = std::uniform_int_distribution<int64_t>(0, H - h)(rng);
      const int64_t left = std::uniform_int_distribution<int64_t>(0, W - w)(rng);
      return {top, left, h, w};
    }
  }
  return central_box(H, W);
}

CropBox RandomResizedCrop::central_box(int64_t H, int64_t W) const {
  const double in_ratio = static_cast<double>(W) / static_cast<double>(H);
  int64_t h = H, w = W;
  if (in_ratio < std::min(ratio[0], ratio[1])) {
    h = static_cast<int64_t>(std::nearbyint(static_cast<double>(W) / std::min(ratio[0], ratio[1])));
  } else if (in_ratio > std::max(ratio[0], ratio[1])) {
    w = static_cast<int64_t>(std::nearbyint(static_cast<double>(H) * std::max(ratio[0], ratio[1])));
  }
  return {(H - h) / 2, (W - w) / 2, h, w};
}

}  // namespace vss
