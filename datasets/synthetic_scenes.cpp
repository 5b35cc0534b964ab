#include "datasets/synthetic_scenes.h"

#include "core/error.h"
#include "core/seed.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

namespace vss {

namespace {

constexpr double kPi = 3.14159265358979323846;

using Rng = std::mt19937_64;
using Colour = std::array<double, 3>;

double uniform(Rng& rng, double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
int64_t uniform_int(Rng& rng, int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

Colour random_colour(Rng& rng) { return {uniform(rng, 0, 255), uniform(rng, 0, 255), uniform(rng, 0, 255)}; }

double l1(const Colour& a, const Colour& b) {
  return std::abs(a[0] - b[0]) + std::abs(a[1] - b[1]) + std::abs(a[2] - b[2]);
}

// A colour at least `min_distance` (L1) from `other`; a few tries, then the last draw.
Colour colour_apart(Rng& rng, const Colour& other, double min_distance) {
  Colour c = random_colour(rng);
  for (int i = 0; i < 20 && l1(c, other) < min_distance; ++i) c = random_colour(rng);
  return c;
}

enum class Pattern { kFlat, kGradient, kChecks, kDots, kStripes };

// A two-colour pattern in a frame rotated by `angle` around (cx, cy), plus linear shading.
struct Texture {
  Pattern pattern = Pattern::kFlat;
  Colour a{}, b{};
  double cx = 0, cy = 0, angle = 0, period = 1, extent = 1;
  double shade = 0, shade_angle = 0;

  Colour at(double px, double py) const {
    const double dx = px - cx, dy = py - cy;
    const double u = dx * std::cos(angle) + dy * std::sin(angle);
    const double v = -dx * std::sin(angle) + dy * std::cos(angle);
    double t = 0;  // weight of colour b
    switch (pattern) {
      case Pattern::kFlat: break;
      case Pattern::kGradient: t = std::clamp(0.5 + u / (2 * extent), 0.0, 1.0); break;
      case Pattern::kChecks:
        t = static_cast<double>((static_cast<int64_t>(std::floor(u / period)) + static_cast<int64_t>(std::floor(v / period))) & 1);
        break;
      case Pattern::kDots: {
        const double fu = u / period - std::floor(u / period) - 0.5, fv = v / period - std::floor(v / period) - 0.5;
        t = fu * fu + fv * fv < 0.09 ? 1.0 : 0.0;
        break;
      }
      case Pattern::kStripes: t = static_cast<double>(static_cast<int64_t>(std::floor(u / period)) & 1); break;
    }
    const double s = 1.0 + shade * (dx * std::cos(shade_angle) + dy * std::sin(shade_angle)) / extent;
    Colour c;
    for (int k = 0; k < 3; ++k) c[k] = std::clamp((a[k] * (1 - t) + b[k] * t) * s, 0.0, 255.0);
    return c;
  }
};

struct Background {
  Colour c0{}, c1{};
  std::array<double, 9> waves{};  // 3 x (fx, fy, phase), cycles per short side
  bool patterned = false;
  Texture pattern;                 // faint stripes / checks: added around 0
  double amplitude = 0;

  Colour at(double px, double py, double short_side) const {
    double f = 0;
    for (int w = 0; w < 3; ++w)
      f += std::sin(2 * kPi * (waves[3 * w] * px + waves[3 * w + 1] * py) / short_side + waves[3 * w + 2]);
    const double t = 0.5 + f / 6.0;  // in [0, 1]
    double offset = 0;
    if (patterned) offset = amplitude * (pattern.at(px, py)[0] / 255.0 - 0.5) * 2;  // pattern colours 0 / 255
    Colour c;
    for (int k = 0; k < 3; ++k) c[k] = c0[k] * (1 - t) + c1[k] * t + offset;
    return c;
  }
};

struct Scene {
  Background background;
  std::vector<SceneObject> objects;
  std::vector<Texture> textures;
};

Scene make_scene(Rng& rng, int64_t H, int64_t W, int64_t max_objects) {
  const double S = static_cast<double>(std::min(H, W));
  Scene scene;
  Background& bg = scene.background;
  bg.c0 = random_colour(rng);
  bg.c1 = colour_apart(rng, bg.c0, 60);
  for (int w = 0; w < 3; ++w) {
    bg.waves[3 * w] = uniform(rng, -2.5, 2.5);
    bg.waves[3 * w + 1] = uniform(rng, -2.5, 2.5);
    bg.waves[3 * w + 2] = uniform(rng, 0, 2 * kPi);
  }
  bg.patterned = uniform(rng, 0, 1) < 1.0 / 3;
  if (bg.patterned) {
    bg.pattern.pattern = uniform(rng, 0, 1) < 0.5 ? Pattern::kStripes : Pattern::kChecks;
    bg.pattern.a = {0, 0, 0};
    bg.pattern.b = {255, 255, 255};
    bg.pattern.angle = uniform(rng, 0, kPi);
    bg.pattern.period = std::max(1.5, S * uniform(rng, 0.05, 0.12));
    bg.amplitude = uniform(rng, 8, 20);
  }
  Colour bg_mean;
  for (int k = 0; k < 3; ++k) bg_mean[k] = 0.5 * (bg.c0[k] + bg.c1[k]);

  const int64_t n = uniform_int(rng, 1, max_objects);
  for (int64_t i = 0; i < n; ++i) {
    SceneObject o;
    // Triangles cover less than the others at the same radius: drawn more often.
    o.cls = std::discrete_distribution<int64_t>({0.0, 1.0, 1.0, 1.6, 1.0})(rng);
    o.radius = std::max(0.5, S * uniform(rng, 0.1, 0.28));
    // Centres keep most of the shape in the frame: a shape cut in half has no class left.
    const auto centre = [&](double side) {
      const double margin = std::min(0.35 * o.radius, 0.5 * side);
      return uniform(rng, margin, side - margin);
    };
    o.cx = centre(static_cast<double>(W));
    o.cy = centre(static_cast<double>(H));
    o.angle = uniform(rng, 0, kPi);
    const double r = o.radius;
    if (o.cls == 2) {
      o.half_w = r * uniform(rng, 0.5, 1.1);
      o.half_h = r * uniform(rng, 0.5, 1.1);
    } else if (o.cls == 3) {
      const double theta = uniform(rng, 0, 2 * kPi);
      for (int k = 0; k < 3; ++k) {
        const double a = theta + 2 * kPi * k / 3 + uniform(rng, -0.35, 0.35);
        const double d = r * uniform(rng, 1.1, 1.45);
        o.vertices[2 * k] = o.cx + d * std::cos(a);
        o.vertices[2 * k + 1] = o.cy + d * std::sin(a);
      }
    } else if (o.cls == 4) {
      o.harmonics = {uniform(rng, 0.10, 0.25), uniform(rng, 0, 2 * kPi), uniform(rng, 0.05, 0.18),
                     uniform(rng, 0, 2 * kPi), uniform(rng, 0.0, 0.08),  uniform(rng, 0, 2 * kPi)};
    }
    Texture t;
    t.cx = o.cx;
    t.cy = o.cy;
    t.extent = r;
    t.angle = uniform(rng, 0, kPi);
    t.a = colour_apart(rng, bg_mean, 90);
    t.b = colour_apart(rng, t.a, 80);
    t.shade = uniform(rng, -0.2, 0.2);
    t.shade_angle = uniform(rng, 0, 2 * kPi);
    if (o.cls == 4) {
      t.pattern = Pattern::kStripes;
      t.period = std::max(1.5, r * uniform(rng, 0.25, 0.45));
    } else {
      // Each shape prefers a texture, as real classes do, but often wears another one.
      static constexpr Pattern kPreferred[] = {Pattern::kFlat, Pattern::kFlat, Pattern::kChecks, Pattern::kGradient};
      static constexpr Pattern kAll[] = {Pattern::kFlat, Pattern::kGradient, Pattern::kChecks, Pattern::kDots,
                                         Pattern::kStripes};
      t.pattern = kPreferred[o.cls];
      if (uniform(rng, 0, 1) >= 0.7) {
        const Pattern other = kAll[uniform_int(rng, 0, 3)];
        t.pattern = other == t.pattern ? Pattern::kStripes : other;
      }
      t.period = std::max(1.5, r * uniform(rng, 0.3, 0.6));
    }
    scene.objects.push_back(o);
    scene.textures.push_back(t);
  }
  return scene;
}

}  // namespace

bool SceneObject::contains(double px, double py) const {
  const double dx = px - cx, dy = py - cy;
  switch (cls) {
    case 1: return dx * dx + dy * dy <= radius * radius;
    case 2: {
      const double u = dx * std::cos(angle) + dy * std::sin(angle);
      const double v = -dx * std::sin(angle) + dy * std::cos(angle);
      return std::abs(u) <= half_w && std::abs(v) <= half_h;
    }
    case 3: {
      double cross[3];
      for (int k = 0; k < 3; ++k) {
        const double x0 = vertices[2 * k], y0 = vertices[2 * k + 1];
        const double x1 = vertices[(2 * k + 2) % 6], y1 = vertices[(2 * k + 3) % 6];
        cross[k] = (x1 - x0) * (py - y0) - (y1 - y0) * (px - x0);
      }
      return (cross[0] >= 0 && cross[1] >= 0 && cross[2] >= 0) || (cross[0] <= 0 && cross[1] <= 0 && cross[2] <= 0);
    }
    case 4: {
      const double phi = std::atan2(dy, dx);
      const auto& h = harmonics;
      const double rho = radius * (1 + h[0] * std::sin(2 * phi + h[1]) + h[2] * std::sin(3 * phi + h[3]) +
                                   h[4] * std::sin(5 * phi + h[5]));
      return dx * dx + dy * dy <= rho * rho;
    }
    default: return false;
  }
}

const std::vector<std::string>& SyntheticScenes::class_names() {
  static const std::vector<std::string> names{"background", "disc", "rectangle", "triangle", "striped blob"};
  return names;
}

SyntheticScenes::SyntheticScenes(SyntheticScenesOptions options) : opt_(options) {
  if (opt_.size < 1) throw Error("synthetic_scenes: size must be >= 1, got " + std::to_string(opt_.size));
  if (opt_.height < 1 || opt_.width < 1)
    throw Error("synthetic_scenes: image size must be >= 1x1, got " + std::to_string(opt_.height) + "x" +
                std::to_string(opt_.width));
  if (opt_.max_objects < 1)
    throw Error("synthetic_scenes: max_objects must be >= 1, got " + std::to_string(opt_.max_objects));
  if (!(opt_.noise >= 0)) throw Error("synthetic_scenes: noise must be >= 0");
}

namespace {

Rng scene_rng(uint64_t seed, int64_t index, int64_t size) {
  if (index < 0 || index >= size)
    throw Error("synthetic_scenes: index " + std::to_string(index) + " out of range [0, " + std::to_string(size) + ")");
  return Rng(mix_seed(seed, static_cast<uint64_t>(index)));
}

}  // namespace

std::vector<SceneObject> SyntheticScenes::layout(int64_t index) const {
  Rng rng = scene_rng(opt_.seed, index, opt_.size);
  return make_scene(rng, opt_.height, opt_.width, opt_.max_objects).objects;
}

SegSample SyntheticScenes::sample(int64_t index) const {
  Rng rng = scene_rng(opt_.seed, index, opt_.size);
  const int64_t H = opt_.height, W = opt_.width;
  const Scene scene = make_scene(rng, H, W, opt_.max_objects);
  const double S = static_cast<double>(std::min(H, W));

  std::vector<double> rgb(static_cast<size_t>(3 * H * W));
  at::Tensor label = at::zeros({H, W}, at::kLong);
  auto lab = label.accessor<int64_t, 2>();
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      const Colour c = scene.background.at(x + 0.5, y + 0.5, S);
      for (int k = 0; k < 3; ++k) rgb[(k * H + y) * W + x] = c[k];
    }
  for (size_t i = 0; i < scene.objects.size(); ++i) {
    const SceneObject& o = scene.objects[i];
    const double e = 1.6 * o.radius;  // bounds every shape (rectangle corners 1.56 r, triangle 1.45 r, blob 1.51 r)
    const int64_t x0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(o.cx - e)));
    const int64_t x1 = std::min<int64_t>(W - 1, static_cast<int64_t>(std::ceil(o.cx + e)));
    const int64_t y0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(o.cy - e)));
    const int64_t y1 = std::min<int64_t>(H - 1, static_cast<int64_t>(std::ceil(o.cy + e)));
    for (int64_t y = y0; y <= y1; ++y)
      for (int64_t x = x0; x <= x1; ++x) {
        if (!o.contains(x + 0.5, y + 0.5)) continue;
        lab[y][x] = o.cls;
        const Colour c = scene.textures[i].at(x + 0.5, y + 0.5);
        for (int k = 0; k < 3; ++k) rgb[(k * H + y) * W + x] = c[k];
      }
  }
  std::normal_distribution<double> gauss(0.0, 1.0);
  at::Tensor image = at::empty({3, H, W}, at::kByte);
  uint8_t* out = image.data_ptr<uint8_t>();
  for (size_t i = 0; i < rgb.size(); ++i)
    out[i] = static_cast<uint8_t>(std::lround(std::clamp(rgb[i] + opt_.noise * gauss(rng), 0.0, 255.0)));
  char name[32];
  std::snprintf(name, sizeof name, "scene_%06lld", static_cast<long long>(index));
  return {image, label, name};
}

}  // namespace vss
