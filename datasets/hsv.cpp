#include "datasets/hsv.h"

#include <ATen/ATen.h>

namespace vss {

std::tuple<at::Tensor, at::Tensor, at::Tensor> rgb_to_hsv(const at::Tensor& rgb) {
  const auto r = rgb[0], g = rgb[1], b = rgb[2];
  const auto maxc = at::amax(rgb, 0), minc = at::amin(rgb, 0);
  const auto delta = maxc - minc;
  const auto safe = at::where(delta > 0, delta, at::ones_like(delta));
  auto h = at::where(maxc == r, 60.0 * (g - b) / safe,
                     at::where(maxc == g, 60.0 * (b - r) / safe + 120.0, 60.0 * (r - g) / safe + 240.0));
  h = at::where(delta > 0, at::remainder(h, 360.0), at::zeros_like(h));
  const auto s = at::where(maxc > 0, delta / at::where(maxc > 0, maxc, at::ones_like(maxc)), at::zeros_like(maxc));
  return {h, s, maxc};
}

at::Tensor hsv_to_rgb(const at::Tensor& h, const at::Tensor& s, const at::Tensor& v) {
  // f(n) = v - v*s*max(0, min(k, 4-k, 1)), k = (n + h/60) mod 6, for n = 5 (R), 3 (G), 1 (B).
  auto channel = [&](double n) {
    const auto k = at::remainder(n + h / 60.0, 6.0);
    return v - v * s * at::clamp(at::minimum(k, 4.0 - k), 0.0, 1.0);
  };
  return at::stack({channel(5), channel(3), channel(1)});
}

}  // namespace vss
