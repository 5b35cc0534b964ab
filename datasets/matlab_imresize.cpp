#include "datasets/matlab_imresize.h"

#include "core/error.h"

#include <torch/torch.h>

#include <cmath>
#include <vector>

namespace vss {

namespace {

double cubic(double x) {
  const double a = std::abs(x), a2 = a * a, a3 = a2 * a;
  if (a <= 1) return 1.5 * a3 - 2.5 * a2 + 1;
  if (a <= 2) return -0.5 * a3 + 2.5 * a2 - 4 * a + 2;
  return 0;
}

struct Taps {
  at::Tensor index;   // [out, P] int64, 0-based input positions (mirrored into range)
  at::Tensor weight;  // [out, P] float64
};

// MATLAB imresize's contributions(): P = ceil(kernel width) + 2 taps per output pixel.
Taps contributions(int64_t in, int64_t out, double scale) {
  const bool shrink = scale < 1;
  const double width = shrink ? 4.0 / scale : 4.0;
  const int64_t P = static_cast<int64_t>(std::ceil(width)) + 2;
  std::vector<int64_t> index(out * P);
  std::vector<double> weight(out * P);
  for (int64_t i = 0; i < out; ++i) {
    const double u = static_cast<double>(i + 1) / scale + 0.5 * (1 - 1 / scale);
    const double left = std::floor(u - width / 2);
    double total = 0;
    for (int64_t j = 0; j < P; ++j) {
      const double position = left + static_cast<double>(j);  // 1-based
      const double d = u - position;
      const double w = shrink ? scale * cubic(scale * d) : cubic(d);
      weight[i * P + j] = w;
      total += w;
      // Mirror into 1..in over the period [1..in, in..1].
      int64_t m = (static_cast<int64_t>(position) - 1) % (2 * in);
      if (m < 0) m += 2 * in;
      index[i * P + j] = m < in ? m : 2 * in - 1 - m;
    }
    for (int64_t j = 0; j < P; ++j) weight[i * P + j] /= total;
  }
  return {torch::tensor(index, torch::kLong).view({out, P}), torch::tensor(weight, torch::kDouble).view({out, P})};
}

// Resizes the last dim of x (float64) from its length to `out`.
at::Tensor resize_last_dim(const at::Tensor& x, int64_t out, double scale) {
  const Taps taps = contributions(x.size(-1), out, scale);
  const int64_t P = taps.index.size(1);
  std::vector<int64_t> shape = x.sizes().vec();
  shape.back() = out;
  shape.push_back(P);
  const at::Tensor gathered = x.index_select(-1, taps.index.view({-1}).to(x.device())).view(shape);
  return (gathered * taps.weight.to(x.device())).sum(-1);
}

}  // namespace

at::Tensor imresize_matlab(const at::Tensor& x, double scale) {
  if (!(scale > 0) || !std::isfinite(scale)) throw Error("imresize: scale must be positive, got " + std::to_string(scale));
  if (x.dim() < 2 || !at::isFloatingType(x.scalar_type()))
    throw Error("imresize: expected a floating [..., H, W] tensor, got shape " + shape_to_string(x.sizes().vec()));
  const int64_t H = x.size(-2), W = x.size(-1);
  const auto out_h = static_cast<int64_t>(std::ceil(static_cast<double>(H) * scale));
  const auto out_w = static_cast<int64_t>(std::ceil(static_cast<double>(W) * scale));
  if (H < 1 || W < 1 || out_h < 1 || out_w < 1)
    throw Error("imresize: cannot resize a " + std::to_string(H) + "x" + std::to_string(W) + " image by " +
                std::to_string(scale));
  const at::Tensor rows = resize_last_dim(x.to(at::kDouble).transpose(-1, -2), out_h, scale).transpose(-1, -2);
  return resize_last_dim(rows, out_w, scale).to(x.scalar_type());
}

}  // namespace vss
