#include "datasets/synthetic_shapes.h"

#include "core/error.h"
#include "core/seed.h"

#include <torch/torch.h>

#include <cmath>
#include <random>

namespace vss {

SyntheticShapes::SyntheticShapes(SyntheticShapesOptions options) : opt_(options) {
  if (opt_.size < 1) throw Error("synthetic_shapes: size must be >= 1, got " + std::to_string(opt_.size));
  if (opt_.num_classes < 2 || opt_.num_classes > 6)
    throw Error("synthetic_shapes: num_classes must be in 2..6, got " + std::to_string(opt_.num_classes));
  if (!(opt_.min_radius > 0 && opt_.min_radius <= opt_.max_radius && opt_.max_radius <= 0.5))
    throw Error("synthetic_shapes: radius range [" + std::to_string(opt_.min_radius) + ", " +
                std::to_string(opt_.max_radius) + "] must satisfy 0 < min <= max <= 0.5 (fractions of image_size)");
  if (opt_.image_size < 8)
    throw Error("synthetic_shapes: image_size must be >= 8, got " + std::to_string(opt_.image_size));
}

int64_t SyntheticShapes::label(int64_t index) const { return index % opt_.num_classes; }

namespace {

// Whether pixel centre (x, y), relative to the shape centre and in units of its radius,
// is inside shape `cls`.
bool inside(int64_t cls, double x, double y) {
  switch (cls) {
    case 0: return x * x + y * y <= 1.0;
    case 1: return std::abs(x) <= 0.8 && std::abs(y) <= 0.8;
    case 2: return y <= 0.8 && y >= -1.0 + 2.0 * std::abs(x);  // apex up
    case 3: return std::abs(x) <= 1.0 && std::abs(y) <= 1.0 && static_cast<int64_t>(std::floor((y + 1.0) * 2.5)) % 2 == 0;
    case 4: { const double r2 = x * x + y * y; return r2 <= 1.0 && r2 >= 0.36; }
    default: return (std::abs(x) <= 0.25 && std::abs(y) <= 1.0) || (std::abs(y) <= 0.25 && std::abs(x) <= 1.0);
  }
}

}  // namespace

at::Tensor SyntheticShapes::image(int64_t index) const {
  if (index < 0 || index >= opt_.size)
    throw Error("synthetic_shapes: index " + std::to_string(index) + " out of range [0, " +
                std::to_string(opt_.size) + ")");
  std::mt19937_64 rng(mix_seed(opt_.seed, static_cast<uint64_t>(index)));
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::normal_distribution<double> gauss(0.0, 1.0);
  const int64_t S = opt_.image_size;
  const int64_t cls = label(index);

  double background[3], foreground[3];
  for (int c = 0; c < 3; ++c) background[c] = unit(rng);
  // Foreground differs from the background by at least 0.3 in one channel, so every shape is visible.
  do {
    for (int c = 0; c < 3; ++c) foreground[c] = unit(rng);
  } while (std::abs(foreground[0] - background[0]) + std::abs(foreground[1] - background[1]) +
               std::abs(foreground[2] - background[2]) < 0.6);
  const double radius = S * (opt_.min_radius + (opt_.max_radius - opt_.min_radius) * unit(rng));
  const double cx = radius + (S - 2 * radius) * unit(rng);
  const double cy = radius + (S - 2 * radius) * unit(rng);

  at::Tensor out = torch::empty({3, S, S}, torch::kFloat);
  auto a = out.accessor<float, 3>();
  for (int64_t y = 0; y < S; ++y)
    for (int64_t x = 0; x < S; ++x) {
      const bool in = inside(cls, (x + 0.5 - cx) / radius, (y + 0.5 - cy) / radius);
      for (int c = 0; c < 3; ++c)
        a[c][y][x] = static_cast<float>((in ? foreground[c] : background[c]) + opt_.noise * gauss(rng));
    }
  return out;
}

}  // namespace vss
