#include "datasets/synthetic_change.h"

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
namespace {

constexpr double kPi = 3.14159265358979323846;
using Rgb = std::array<double, 3>;
using Rng = std::mt19937_64;

double uniform(Rng& rng, double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
int64_t uniform_int(Rng& rng, int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }
double gauss(Rng& rng) { return std::normal_distribution<double>(0.0, 1.0)(rng); }

Rgb mix(const Rgb& a, const Rgb& b, double t) { return {a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t}; }
Rgb scale(const Rgb& c, double s) { return {c[0] * s, c[1] * s, c[2] * s}; }
// A rotated rectangle; (u, v) are coordinates along its long and short sides.
struct Rect {
  double cx = 0, cy = 0, hw = 1, hh = 1, c = 1, s = 0;
  void local(double x, double y, double& u, double& v) const {
    const double dx = x - cx, dy = y - cy;
    u = dx * c + dy * s;
    v = -dx * s + dy * c;
  }
  bool inside(double x, double y) const {
    double u, v;
    local(x, y, u, v);
    return std::abs(u) <= hw && std::abs(v) <= hh;
  }
  double radius() const { return std::hypot(hw, hh); }
  Rect shifted(double dx, double dy) const {
    Rect r = *this;
    r.cx += dx;
    r.cy += dy;
    return r;
  }
};

Rect make_rect(double cx, double cy, double w, double h, double angle) {
  return {cx, cy, w / 2, h / 2, std::cos(angle), std::sin(angle)};
}

// The pixels (inclusive, clipped to the image) whose area may touch `r` on a date whose
// pixel (i, j) sees the world point (j + 0.5 + shift_x, i + 0.5 + shift_y).
struct PixelRange {
  int64_t i0, i1, j0, j1;
};
PixelRange pixels_under(const Rect& r, double shift_x, double shift_y, int64_t H, int64_t W) {
  const double ex = std::abs(r.hw * r.c) + std::abs(r.hh * r.s), ey = std::abs(r.hw * r.s) + std::abs(r.hh * r.c);
  auto lo = [](double v) { return static_cast<int64_t>(std::floor(std::max(v, -1e9))) - 1; };
  auto hi = [](double v) { return static_cast<int64_t>(std::ceil(std::min(v, 1e9))) + 1; };
  return {std::max<int64_t>(0, lo(r.cy - ey - shift_y)), std::min<int64_t>(H - 1, hi(r.cy + ey - shift_y)),
          std::max<int64_t>(0, lo(r.cx - ex - shift_x)), std::min<int64_t>(W - 1, hi(r.cx + ex - shift_x))};
}

struct Building {
  Rect footprint;
  Rgb roof;
  double height;  // shadow length, px
};

struct Road {
  double px, py, dx, dy, half_width;  // a line through (px, py) along the unit vector (dx, dy)
  double distance(double x, double y) const { return std::abs((x - px) * dy - (y - py) * dx); }
};

struct Field {
  Rect area;
  double period;
  std::array<Rgb, 2> colour;  // per date
};

// What one date looks like: everything the renderer needs, besides the shared terrain keys.
struct DateLook {
  int index = 0;  // 0: date A, 1: date B
  double shift_x = 0, shift_y = 0;
  Rgb vegetation;
  double texture_change = 0;  // share of the fine texture drawn from this date's own noise
  uint64_t texture_key = 0;
  double sun_x = 0, sun_y = 0;  // shadow direction (unit vector)
  Rgb gain{1, 1, 1};
  double gamma = 1, offset = 0;
  std::vector<Building> buildings;
  std::vector<Rect> bare;      // demolition / construction sites (bare ground)
  std::vector<Rect> vehicles;
  std::vector<Rgb> vehicle_colours;
};

struct Scene {
  uint64_t cover_key = 0, texture_key = 0;
  Rgb soil, bare_ground;
  std::vector<Road> roads;
  std::vector<Field> fields;
};

Rgb roof_colour(Rng& rng) {
  static const Rgb palette[] = {{178, 64, 52}, {150, 150, 155}, {205, 200, 190}, {70, 90, 130},
                                {120, 80, 60}, {90, 95, 100},   {220, 120, 80},  {60, 130, 140}};
  const Rgb base = palette[uniform_int(rng, 0, std::size(palette) - 1)];
  const double s = uniform(rng, 0.85, 1.15);
  return scale(base, s);
}

double colour_distance(const Rgb& a, const Rgb& b) {
  return std::abs(a[0] - b[0]) + std::abs(a[1] - b[1]) + std::abs(a[2] - b[2]);
}

// Vegetation from lush green (0) to dry yellow-brown (1).
Rgb vegetation_colour(double season) { return mix({62, 104, 48}, {150, 132, 70}, season); }

void render(const Scene& scene, const DateLook& look, int64_t H, int64_t W, double noise, Rng& rng,
            std::vector<float>& rgb) {
  rgb.assign(static_cast<size_t>(H * W * 3), 0.0f);
  auto at = [&](int64_t i, int64_t j) { return &rgb[static_cast<size_t>((i * W + j) * 3)]; };
  // Terrain, evaluated at the world point each pixel of this date sees.
  for (int64_t i = 0; i < H; ++i)
    for (int64_t j = 0; j < W; ++j) {
      const double x = j + 0.5 + look.shift_x, y = i + 0.5 + look.shift_y;
      const double cover = 0.65 * value_noise(scene.cover_key, x, y, 56) + 0.35 * value_noise(scene.cover_key + 1, x, y, 20);
      Rgb c = mix(scene.soil, look.vegetation, smoothstep(0.4, 0.6, cover));
      for (const Field& f : scene.fields)
        if (f.area.inside(x, y)) {
          double u, v;
          f.area.local(x, y, u, v);
          // Crop rows across the field.
          c = scale(f.colour[look.index], 0.85 + 0.25 * (0.5 + 0.5 * std::sin(2 * kPi * v / f.period)));
        }
      double tex = 0.6 * value_noise(scene.texture_key, x, y, 6) + 0.4 * value_noise(scene.texture_key + 1, x, y, 2.5);
      if (look.texture_change > 0) {
        const double own = 0.6 * value_noise(look.texture_key, x, y, 6) + 0.4 * value_noise(look.texture_key + 1, x, y, 2.5);
        tex += (own - tex) * look.texture_change;
      }
      c = scale(c, 0.8 + 0.4 * tex);
      for (const Road& r : scene.roads)
        if (r.distance(x, y) <= r.half_width) c = {118 + 12 * tex, 118 + 12 * tex, 122 + 12 * tex};
      float* p = at(i, j);
      for (int k = 0; k < 3; ++k) p[k] = static_cast<float>(c[k]);
    }
  // Objects, with 2x2 supersampled coverage so shifted edges stay sub-pixel accurate.
  // shade(x, y, colour) -> whether the sample is covered, and its colour.
  auto draw = [&](const Rect& r, const auto& shade) {
    const PixelRange px = pixels_under(r, look.shift_x, look.shift_y, H, W);
    for (int64_t i = px.i0; i <= px.i1; ++i)
      for (int64_t j = px.j0; j <= px.j1; ++j) {
        float* p = at(i, j);
        const Rgb under{p[0], p[1], p[2]};
        Rgb sum{0, 0, 0};
        int covered = 0;
        for (double oy : {0.25, 0.75})
          for (double ox : {0.25, 0.75}) {
            const double x = j + ox + look.shift_x, y = i + oy + look.shift_y;
            Rgb c = under;
            if (r.inside(x, y) && shade(x, y, under, c)) ++covered;
            for (int k = 0; k < 3; ++k) sum[k] += c[k];
          }
        if (covered == 0) continue;
        for (int k = 0; k < 3; ++k) p[k] = static_cast<float>(sum[k] / 4);
      }
  };
  for (const Rect& r : look.bare)
    draw(r, [&](double, double, const Rgb& under, Rgb& c) {
      c = mix(under, scene.bare_ground, 0.85);
      return true;
    });
  for (const Building& b : look.buildings) {
    if (b.height <= 0) continue;
    const Rect shadow = b.footprint.shifted(look.sun_x * b.height, look.sun_y * b.height);
    draw(shadow, [&](double x, double y, const Rgb& under, Rgb& c) {
      if (b.footprint.inside(x, y)) return false;
      c = scale(under, 0.55);
      return true;
    });
  }
  for (const Building& b : look.buildings)
    draw(b.footprint, [&](double x, double y, const Rgb&, Rgb& c) {
      double u, v;
      b.footprint.local(x, y, u, v);
      // A gabled roof: the two halves either side of the ridge catch the light differently,
      // with a darker rim at the eaves.
      const double rim = std::min(b.footprint.hw - std::abs(u), b.footprint.hh - std::abs(v)) < 1.0 ? 0.8 : 1.0;
      c = scale(b.roof, (v < 0 ? 1.0 : 0.82) * rim);
      return true;
    });
  for (size_t k = 0; k < look.vehicles.size(); ++k)
    draw(look.vehicles[k], [&](double, double, const Rgb&, Rgb& c) {
      c = look.vehicle_colours[k];
      return true;
    });
  // Sensor: gain, gamma and offset of this date, noise, 8 bits.
  std::normal_distribution<double> sensor(0.0, noise > 0 ? noise : 1.0);
  for (int64_t n = 0; n < H * W; ++n)
    for (int k = 0; k < 3; ++k) {
      float& v = rgb[static_cast<size_t>(n * 3 + k)];
      double out = 255.0 * std::pow(std::clamp(look.gain[k] * v / 255.0, 0.0, 1.0), look.gamma) + look.offset;
      if (noise > 0) out += sensor(rng);
      v = static_cast<float>(std::clamp(std::round(out), 0.0, 255.0));
    }
}

at::Tensor to_chw(const std::vector<float>& rgb, int64_t H, int64_t W) {
  return at::from_blob(const_cast<float*>(rgb.data()), {H, W, 3}, at::kFloat).permute({2, 0, 1}).to(at::kByte).contiguous();
}

void check(const SyntheticChangeOptions& o) {
  auto fail = [](const std::string& what) { throw Error("synthetic change: " + what); };
  if (o.height < 1 || o.width < 1)
    fail("image size must be >= 1, got " + std::to_string(o.height) + "x" + std::to_string(o.width));
  if (o.buildings < 0) fail("buildings must be >= 0");
  if (o.change < 0) fail("change must be >= 0");
  if (o.illumination < 0 || o.misregistration < 0 || o.noise < 0 || o.seasonal < 0)
    fail("illumination, misregistration, noise and seasonal must be >= 0");
  if (o.seasonal > 1) fail("seasonal must be in [0, 1]");
}

}  // namespace

ChangePair make_synthetic_change(const SyntheticChangeOptions& o, int64_t index, SyntheticChangeInfo* info) {
  check(o);
  if (index < 0) throw Error("synthetic change: index must be >= 0, got " + std::to_string(index));
  Rng rng(mix_seed(o.seed, static_cast<uint64_t>(index)));
  const int64_t H = o.height, W = o.width;
  const double area = static_cast<double>(H * W);

  Scene scene;
  scene.cover_key = rng();
  scene.texture_key = rng();
  scene.soil = {uniform(rng, 135, 175), uniform(rng, 110, 140), uniform(rng, 80, 105)};
  scene.bare_ground = {uniform(rng, 170, 200), uniform(rng, 150, 175), uniform(rng, 120, 145)};
  const int64_t roads = uniform_int(rng, 0, 2);
  for (int64_t r = 0; r < roads; ++r) {
    const double angle = uniform(rng, 0, kPi);
    scene.roads.push_back({uniform(rng, 0, W), uniform(rng, 0, H), std::cos(angle), std::sin(angle), uniform(rng, 2, 3.5)});
  }
  const int64_t fields = uniform_int(rng, 0, 2) * (area >= 64 * 64 ? 1 : 0);
  for (int64_t f = 0; f < fields; ++f) {
    Field field;
    field.area = make_rect(uniform(rng, 0, W), uniform(rng, 0, H), uniform(rng, 30, 110), uniform(rng, 20, 70),
                           uniform(rng, 0, kPi));
    field.period = uniform(rng, 4, 8);
    field.colour[0] = vegetation_colour(uniform(rng, 0, 1));
    field.colour[1] = o.seasonal > 0 ? mix(field.colour[0], vegetation_colour(uniform(rng, 0, 1)), o.seasonal) : field.colour[0];
    scene.fields.push_back(field);
  }

  // Buildings of both dates, placed without overlaps, off the roads; a neighbourhood shares
  // one orientation, a few buildings do not.
  const double street_angle = uniform(rng, 0, kPi);
  const double share = o.change * (uniform(rng, 0, 1) < 0.1 ? 0.0 : uniform(rng, 0.1, 0.6));
  const auto wanted = static_cast<int64_t>(std::round(area / 10000.0 * 6.0 * o.buildings * uniform(rng, 0.5, 1.5)));
  std::vector<Rect> taken;
  auto free_spot = [&](const Rect& r) {
    for (const Rect& t : taken)
      if (std::hypot(t.cx - r.cx, t.cy - r.cy) < t.radius() + r.radius() + 2) return false;
    for (const Road& road : scene.roads)
      if (road.distance(r.cx, r.cy) < road.half_width + r.radius() + 1) return false;
    return true;
  };
  auto random_footprint = [&](double cx, double cy) {
    const double angle = uniform(rng, 0, 1) < 0.8 ? street_angle : uniform(rng, 0, kPi);
    return make_rect(cx, cy, uniform(rng, 8, 24), uniform(rng, 6, 16), angle);
  };
  DateLook date[2];
  std::vector<Rect> changed;  // footprints that make up the label
  SyntheticChangeInfo counts;
  for (int64_t attempt = 0, placed = 0; placed < wanted && attempt < wanted * 20; ++attempt) {
    const Rect fp = random_footprint(uniform(rng, -4, W + 4), uniform(rng, -4, H + 4));
    if (!free_spot(fp)) continue;
    const Building b{fp, roof_colour(rng), o.shadows ? uniform(rng, 2, 5) : 0.0};
    const double u = uniform(rng, 0, 1);
    if (u >= share) {
      ++counts.unchanged;
      date[0].buildings.push_back(b);
      date[1].buildings.push_back(b);
    } else if (u < share * 0.5) {  // built: a construction site on date A now and then
      ++counts.built;
      date[1].buildings.push_back(b);
      if (uniform(rng, 0, 1) < 0.3) date[0].bare.push_back(fp);
      changed.push_back(fp);
    } else if (u < share * 0.8) {  // demolished: bare ground left
      ++counts.demolished;
      date[0].buildings.push_back(b);
      date[1].bare.push_back(fp);
      changed.push_back(fp);
    } else {  // rebuilt: a larger footprint about the same centre (maybe turned), another roof
      Rect bigger = fp;
      bigger.hw *= uniform(rng, 1.2, 1.7);
      bigger.hh *= uniform(rng, 1.1, 1.5);
      if (uniform(rng, 0, 1) < 0.3) bigger = make_rect(fp.cx, fp.cy, 2 * bigger.hh, 2 * bigger.hw, std::atan2(fp.s, fp.c));
      if (!free_spot(bigger)) continue;
      Building after{bigger, roof_colour(rng), b.height};
      while (colour_distance(after.roof, b.roof) < 90) after.roof = roof_colour(rng);
      ++counts.rebuilt;
      date[0].buildings.push_back(b);
      date[1].buildings.push_back(after);
      changed.push_back(fp);
      changed.push_back(bigger);
      taken.push_back(bigger);
    }
    taken.push_back(fp);
    ++placed;
  }

  // Per-date looks: everything that differs between the dates without being change.
  const double base_season = uniform(rng, 0, 1);
  for (int d = 0; d < 2; ++d) {
    DateLook& look = date[d];
    look.index = d;
    const double season = d == 0 ? base_season : std::clamp(base_season + o.seasonal * uniform(rng, -1, 1), 0.0, 1.0);
    look.vegetation = vegetation_colour(season);
    look.texture_key = rng();
    look.texture_change = d == 1 ? o.seasonal * uniform(rng, 0, 0.6) : 0.0;
    const double sun = d == 0 ? uniform(rng, 0, 2 * kPi) : std::atan2(date[0].sun_y, date[0].sun_x) + o.illumination * uniform(rng, -0.8, 0.8);
    look.sun_x = std::cos(sun);
    look.sun_y = std::sin(sun);
    const double brightness = std::exp(0.15 * o.illumination * gauss(rng));
    for (int k = 0; k < 3; ++k) look.gain[k] = brightness * std::exp(0.06 * o.illumination * gauss(rng));
    look.gamma = std::exp(0.12 * o.illumination * gauss(rng));
    look.offset = 8.0 * o.illumination * gauss(rng);
    if (o.vehicles)
      for (const Road& r : scene.roads) {
        const int64_t cars = uniform_int(rng, 0, 4);
        for (int64_t k = 0; k < cars; ++k) {
          const double t = uniform(rng, -std::hypot(H, W), std::hypot(H, W)), side = uniform(rng, -0.5, 0.5) * r.half_width;
          look.vehicles.push_back(make_rect(r.px + t * r.dx - side * r.dy, r.py + t * r.dy + side * r.dx, 4.0, 2.0,
                                            std::atan2(r.dy, r.dx)));
          look.vehicle_colours.push_back(uniform(rng, 0, 1) < 0.5 ? Rgb{40, 40, 45} : roof_colour(rng));
        }
      }
  }
  if (o.misregistration > 0) {
    date[1].shift_x = uniform(rng, -o.misregistration, o.misregistration);
    date[1].shift_y = uniform(rng, -o.misregistration, o.misregistration);
  }
  counts.shift_x = date[1].shift_x;
  counts.shift_y = date[1].shift_y;

  ChangePair pair;
  std::vector<float> rgb;
  render(scene, date[0], H, W, o.noise, rng, rgb);
  pair.a = to_chw(rgb, H, W);
  render(scene, date[1], H, W, o.noise, rng, rgb);
  pair.b = to_chw(rgb, H, W);
  pair.label = at::zeros({H, W}, at::kByte);
  auto label = pair.label.accessor<uint8_t, 2>();
  for (const Rect& r : changed) {
    const PixelRange px = pixels_under(r, 0, 0, H, W);
    for (int64_t i = px.i0; i <= px.i1; ++i)
      for (int64_t j = px.j0; j <= px.j1; ++j)
        if (r.inside(j + 0.5, i + 0.5)) label[i][j] = 1;
  }
  if (info) *info = counts;
  return pair;
}

}  // namespace vss::change
