#include "datasets/synthetic_semantic_change.h"

#include "core/error.h"
#include "core/seed.h"
#include "datasets/value_noise.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <vector>

namespace vss::change {
namespace land_cover {  // named: the unity build shares one anonymous namespace between files

using Rng = std::mt19937_64;
using Rgb = std::array<double, 3>;

double uniform(Rng& rng, double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
int64_t uniform_int(Rng& rng, int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

// Land cover of SECOND's classes 1..6, drawn with these weights (low vegetation and ground
// dominate SECOND; playgrounds are rare).
const std::array<double, 6> kClassWeights{0.12, 0.24, 0.24, 0.16, 0.16, 0.08};

int64_t draw_class(Rng& rng) {
  std::discrete_distribution<int64_t> d(kClassWeights.begin(), kClassWeights.end());
  return d(rng) + 1;
}

// The colour of land cover `cls` at (x, y): a base colour with the class's texture. `key`
// varies the texture per scene; date-specific looks come from the illumination afterwards.
Rgb land_cover_colour(int64_t cls, double x, double y, uint64_t key) {
  const double fine = value_noise(key + 10 * cls, x, y, 2.5), coarse = value_noise(key + 10 * cls + 1, x, y, 14);
  switch (cls) {
    case 1: {  // water: dark blue, smooth, faint ripples
      const double ripple = 0.5 + 0.5 * std::sin((x + 0.6 * y) * 0.9 + 6 * coarse);
      return {25 + 15 * coarse, 55 + 20 * coarse + 6 * ripple, 120 + 30 * coarse + 8 * ripple};
    }
    case 2:  // ground: grey-brown bare soil, grainy
      return {135 + 35 * coarse + 20 * fine, 125 + 30 * coarse + 18 * fine, 110 + 25 * coarse + 15 * fine};
    case 3:  // low vegetation: light green grass, fine texture
      return {105 + 25 * coarse + 15 * fine, 150 + 25 * coarse + 20 * fine, 70 + 15 * coarse};
    case 4: {  // tree: dark green canopy blobs with shadowed gaps
      const double crowns = value_noise(key + 41, x, y, 4);
      const double lit = smoothstep(0.35, 0.65, crowns);
      return {25 + 30 * lit, 60 + 55 * lit + 10 * fine, 25 + 25 * lit};
    }
    case 5: {  // building: roofs in blocks of ~10 px separated by dark streets
      const double u = std::fmod(x + 1000, 11.0), v = std::fmod(y + 1000, 9.0);
      if (u < 1.5 || v < 1.5) return {70, 70, 75};
      const double roof = value_noise(key + 53, std::floor((x + 1000) / 11.0), std::floor((y + 1000) / 9.0), 1.0);
      return {150 + 70 * roof, 95 + 60 * roof, 85 + 70 * roof};
    }
    default: {  // playground: red-orange track / court with white lines
      const double line = std::fmod(x + 2 * y + 1000, 14.0);
      if (line < 1.3) return {235, 235, 230};
      return {190 + 20 * fine, 75 + 15 * coarse, 55 + 10 * fine};
    }
  }
}

// One changed region: a rotated rectangle or an ellipse, and the class it turns into.
struct Region {
  double cx, cy, a, b, c, s;
  bool ellipse;
  int64_t new_class;
  bool inside(double x, double y) const {
    const double dx = x - cx, dy = y - cy, u = (dx * c + dy * s) / a, v = (-dx * s + dy * c) / b;
    return ellipse ? u * u + v * v <= 1 : std::abs(u) <= 1 && std::abs(v) <= 1;
  }
};

struct Illumination {
  Rgb gain{1, 1, 1};
  double offset = 0;
};

Illumination draw_illumination(Rng& rng, double strength) {
  Illumination l;
  const double overall = 1 + strength * uniform(rng, -0.12, 0.12);
  for (double& g : l.gain) g = overall * (1 + strength * uniform(rng, -0.04, 0.04));
  l.offset = strength * uniform(rng, -10, 10);
  return l;
}

}  // namespace land_cover

SemanticChangePair make_synthetic_semantic_change(const SyntheticSemanticChangeOptions& o, int64_t index) {
  namespace lc = land_cover;
  if (o.height < 8 || o.width < 8)
    throw Error("synthetic semantic change: height and width must be >= 8, got " + std::to_string(o.height) + "x" +
                std::to_string(o.width));
  if (o.regions < 0) throw Error("synthetic semantic change: regions must be >= 0");
  if (o.illumination < 0) throw Error("synthetic semantic change: illumination must be >= 0");
  if (o.noise < 0) throw Error("synthetic semantic change: noise must be >= 0");
  lc::Rng rng(mix_seed(o.seed, static_cast<uint64_t>(index)));
  const int64_t H = o.height, W = o.width;
  const double area = static_cast<double>(H * W);
  const uint64_t key = rng();

  // Voronoi patches (about one per 48² px), boundaries warped by noise so they look organic.
  const int64_t patches = std::max<int64_t>(3, static_cast<int64_t>(std::lround(area / (48.0 * 48.0))));
  std::vector<std::array<double, 2>> centres(patches);
  std::vector<int64_t> patch_class(patches);
  for (int64_t k = 0; k < patches; ++k) {
    centres[k] = {lc::uniform(rng, 0, W), lc::uniform(rng, 0, H)};
    patch_class[k] = lc::draw_class(rng);
  }
  std::vector<lc::Region> regions;
  const double expected = o.regions * 3.0 * area / (256.0 * 256.0);
  const int64_t n_regions = std::poisson_distribution<int64_t>(expected)(rng) + (o.regions > 0 ? 1 : 0);
  const double side = std::min(H, W);
  for (int64_t r = 0; r < n_regions; ++r) {
    const double angle = lc::uniform(rng, 0, 3.14159265358979323846);
    regions.push_back({lc::uniform(rng, 0, W), lc::uniform(rng, 0, H), lc::uniform(rng, 0.06, 0.2) * side,
                       lc::uniform(rng, 0.05, 0.15) * side, std::cos(angle), std::sin(angle), lc::uniform_int(rng, 0, 1) == 1,
                       lc::draw_class(rng)});
  }
  const lc::Illumination light1 = lc::draw_illumination(rng, o.illumination), light2 = lc::draw_illumination(rng, o.illumination);
  std::normal_distribution<double> noise(0.0, o.noise > 0 ? o.noise : 1.0);

  SemanticChangePair p;
  p.a = at::empty({3, H, W}, at::kByte);
  p.b = at::empty({3, H, W}, at::kByte);
  p.label1 = at::zeros({H, W}, at::kByte);
  p.label2 = at::zeros({H, W}, at::kByte);
  auto a = p.a.accessor<uint8_t, 3>(), b = p.b.accessor<uint8_t, 3>();
  auto l1 = p.label1.accessor<uint8_t, 2>(), l2 = p.label2.accessor<uint8_t, 2>();
  for (int64_t i = 0; i < H; ++i)
    for (int64_t j = 0; j < W; ++j) {
      const double x = j + 0.5, y = i + 0.5;
      const double wx = x + 18 * (value_noise(key + 1, x, y, 24) - 0.5), wy = y + 18 * (value_noise(key + 2, x, y, 24) - 0.5);
      int64_t nearest = 0;
      double best = 1e300;
      for (int64_t k = 0; k < patches; ++k) {
        const double d = std::hypot(wx - centres[k][0], wy - centres[k][1]);
        if (d < best) best = d, nearest = k;
      }
      const int64_t before = patch_class[nearest];
      int64_t after = before;
      for (const lc::Region& r : regions)
        if (r.inside(x, y)) after = r.new_class;  // later regions paint over earlier ones
      if (after != before) {
        l1[i][j] = static_cast<uint8_t>(before);
        l2[i][j] = static_cast<uint8_t>(after);
      }
      const lc::Rgb c1 = lc::land_cover_colour(before, x, y, key), c2 = lc::land_cover_colour(after, x, y, key + 7);
      for (int64_t c = 0; c < 3; ++c) {
        const double n1 = o.noise > 0 ? noise(rng) : 0.0, n2 = o.noise > 0 ? noise(rng) : 0.0;
        a[c][i][j] = static_cast<uint8_t>(std::clamp(std::lround(c1[c] * light1.gain[c] + light1.offset + n1), 0L, 255L));
        b[c][i][j] = static_cast<uint8_t>(std::clamp(std::lround(c2[c] * light2.gain[c] + light2.offset + n2), 0L, 255L));
      }
    }
  p.change = p.label1.ne(0).to(at::kByte);
  return p;
}

}  // namespace vss::change
