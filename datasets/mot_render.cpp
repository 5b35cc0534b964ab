// Rendering generated MOT sequences to frames (see mot_render.h).
#include "datasets/mot_render.h"

#include "core/error.h"
#include "core/image_io.h"
#include "datasets/value_noise.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>

namespace vss::track {
namespace {

using Rgb = std::array<double, 3>;

uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t x = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E5ull + (a << 6) + (a >> 2));
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ull;
  return x ^ (x >> 29);
}

Rgb colour_of(uint64_t key) {
  std::mt19937_64 r(key);
  std::uniform_real_distribution<double> u(0, 1);
  // Saturated clothes, away from the floor's grey-greens.
  const double hue = u(r) * 6, s = 0.5 + 0.5 * u(r), v = 90 + 150 * u(r);
  const double c = v * s, x = c * (1 - std::abs(std::fmod(hue, 2) - 1)), m = v - c;
  const int i = static_cast<int>(hue) % 6;
  const Rgb rgb = i == 0 ? Rgb{c, x, 0} : i == 1 ? Rgb{x, c, 0} : i == 2 ? Rgb{0, c, x}
                : i == 3 ? Rgb{0, x, c} : i == 4 ? Rgb{x, 0, c} : Rgb{c, 0, x};
  return {rgb[0] + m, rgb[1] + m, rgb[2] + m};
}

double segment_distance(double px, double py, double ax, double ay, double bx, double by) {
  const double vx = bx - ax, vy = by - ay;
  const double t = std::clamp(((px - ax) * vx + (py - ay) * vy) / std::max(1e-9, vx * vx + vy * vy), 0.0, 1.0);
  return std::hypot(px - (ax + t * vx), py - (ay + t * vy));
}

struct Clutter {
  int kind;  // 0 ellipse, 1 bar, 2 post (person-sized, not a person)
  double cx, cy, rx, ry;
  Rgb colour;
};

struct Scene {
  int64_t W, H, pad;
  std::vector<float> background;  // [(H + 2 pad), (W + 2 pad), 3]
};

Scene make_scene(const SyntheticMotSequence& seq, const RenderOptions& o) {
  Scene s;
  s.W = seq.info.im_width, s.H = seq.info.im_height;
  s.pad = static_cast<int64_t>(std::ceil(4 * o.camera_jitter)) + 1;
  const int64_t BW = s.W + 2 * s.pad, BH = s.H + 2 * s.pad;
  s.background.resize(static_cast<size_t>(BW * BH * 3));
  std::mt19937_64 r(mix(o.seed, 0xC1u));
  std::uniform_real_distribution<double> u(0, 1);
  const Rgb floor_a = {70 + 40 * u(r), 80 + 40 * u(r), 60 + 30 * u(r)}, floor_b = {140 + 50 * u(r), 130 + 40 * u(r), 110 + 40 * u(r)};
  std::vector<Clutter> clutter;
  for (int64_t i = 0; i < o.clutter; ++i) {
    Clutter c;
    c.kind = static_cast<int>(u(r) * 3);
    c.cx = u(r) * static_cast<double>(BW), c.cy = u(r) * static_cast<double>(BH);
    const double size = static_cast<double>(s.H) * (0.03 + 0.12 * u(r));
    c.rx = c.kind == 2 ? size * 0.25 : size * (0.5 + u(r));
    c.ry = c.kind == 2 ? size * 2.2 : c.kind == 1 ? size * 0.2 : size * (0.5 + u(r));
    c.colour = colour_of(mix(o.seed, 1000 + static_cast<uint64_t>(i)));
    clutter.push_back(c);
  }
  const uint64_t key = mix(o.seed, 7);
  const double cell = std::max(8.0, static_cast<double>(s.H) / 12);
  for (int64_t y = 0; y < BH; ++y)
    for (int64_t x = 0; x < BW; ++x) {
      const double xd = static_cast<double>(x), yd = static_cast<double>(y);
      const double t = 0.65 * value_noise(key, xd, yd, cell) + 0.35 * value_noise(key + 1, xd, yd, cell / 4);
      // Horizon: a wall band at the top, the floor below.
      const double wall = yd < 0.3 * static_cast<double>(BH) ? 0.6 : 1.0;
      Rgb p;
      for (int c = 0; c < 3; ++c) p[static_cast<size_t>(c)] = wall * (floor_a[static_cast<size_t>(c)] * (1 - t) + floor_b[static_cast<size_t>(c)] * t);
      for (const auto& c : clutter) {
        const double dx = (xd - c.cx) / c.rx, dy = (yd - c.cy) / c.ry;
        const bool inside = c.kind == 0 ? dx * dx + dy * dy <= 1 : std::abs(dx) <= 1 && std::abs(dy) <= 1;
        if (inside) {
          const double shade = 0.8 + 0.4 * value_noise(key + 2, xd, yd, 5);
          for (int k = 0; k < 3; ++k) p[static_cast<size_t>(k)] = c.colour[static_cast<size_t>(k)] * shade;
        }
      }
      float* out = &s.background[static_cast<size_t>((y * BW + x) * 3)];
      for (int c = 0; c < 3; ++c) out[c] = static_cast<float>(p[static_cast<size_t>(c)]);
    }
  return s;
}

// A person filling box b; `phase` drives the limbs, `id` the clothes.
void draw_person(float* img, int64_t W, int64_t H, const Box& b, int64_t frame, uint64_t seed) {
  const uint64_t id = static_cast<uint64_t>(b.id);
  const Rgb shirt = colour_of(mix(seed, id * 2 + 1)), pants = colour_of(mix(seed, id * 2 + 2));
  std::mt19937_64 r(mix(seed, id + 77));
  std::uniform_real_distribution<double> u(0, 1);
  const Rgb skin = {150 + 90 * u(r), 110 + 70 * u(r), 80 + 60 * u(r)};
  const double stripe = 3 + 6 * u(r), rate = 0.15 + 0.2 * u(r), phase0 = 6.283 * u(r);
  const double phase = phase0 + rate * static_cast<double>(frame);
  const double cx = b.x + b.w / 2, top = b.y, h = b.h, w = b.w;
  const double head_r = std::min(0.11 * h, 0.3 * w), head_y = top + head_r;
  const double sh_y = top + 0.24 * h, hip_y = top + 0.58 * h;
  const double swing = std::sin(phase);
  const double limb = std::max(1.0, 0.09 * w + 0.02 * h);
  // Feet reach the box's bottom and, in mid-stride, its sides: the box stays tight.
  const double foot_l = cx - (0.15 + 0.33 * std::abs(swing)) * w, foot_r = cx + (0.15 + 0.33 * std::abs(swing)) * w;
  const double hand_y = top + (0.5 + 0.06 * swing) * h;
  const double hand_l = cx - (0.42 - 0.06 * swing) * w, hand_r = cx + (0.42 + 0.06 * swing) * w;
  const int64_t x0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(b.x)));
  const int64_t x1 = std::min<int64_t>(W, static_cast<int64_t>(std::ceil(b.x + b.w)));
  const int64_t y0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(b.y)));
  const int64_t y1 = std::min<int64_t>(H, static_cast<int64_t>(std::ceil(b.y + b.h)));
  for (int64_t y = y0; y < y1; ++y)
    for (int64_t x = x0; x < x1; ++x) {
      const double px = static_cast<double>(x) + 0.5, py = static_cast<double>(y) + 0.5;
      if (px < b.x || px > b.x + b.w || py < b.y || py > b.y + b.h) continue;
      const Rgb* c = nullptr;
      double shade = 1;
      if (std::hypot(px - cx, py - head_y) <= head_r) {
        c = &skin;
        shade = 0.9 + 0.2 * (py - top) / (2 * head_r);
      } else if (py >= top + 0.2 * h && py <= hip_y + 0.04 * h && std::abs(px - cx) <= 0.27 * w) {
        c = &shirt;
        // Stripes or checks: a texture per id that moves with the person.
        shade = 0.75 + 0.35 * (std::sin((py - top) / stripe) > 0 ? 1 : 0) * (id % 2 ? 1 : (std::sin((px - b.x) / stripe) > 0));
      } else if (segment_distance(px, py, cx - 0.27 * w, sh_y, hand_l, hand_y) <= limb ||
                 segment_distance(px, py, cx + 0.27 * w, sh_y, hand_r, hand_y) <= limb) {
        c = &shirt;
        shade = 0.85;
      } else if (segment_distance(px, py, cx - 0.1 * w, hip_y, foot_l, top + h - limb) <= 1.3 * limb ||
                 segment_distance(px, py, cx + 0.1 * w, hip_y, foot_r, top + h - limb) <= 1.3 * limb) {
        c = &pants;
        shade = 0.8 + 0.25 * (py - hip_y) / (h * 0.42);
      }
      if (!c) continue;
      float* out = &img[(y * W + x) * 3];
      for (int k = 0; k < 3; ++k) out[k] = static_cast<float>(std::min(255.0, (*c)[static_cast<size_t>(k)] * shade));
    }
}

}  // namespace

at::Tensor render_frame(const SyntheticMotSequence& seq, int64_t frame, const RenderOptions& o) {
  // The background is the same for every frame of a sequence: cache the last one made.
  thread_local std::map<std::pair<std::string, uint64_t>, Scene> cache;
  const auto key = std::make_pair(seq.info.name + "/" + std::to_string(seq.info.im_width) + "x" +
                                      std::to_string(seq.info.im_height) + "/" + std::to_string(o.clutter) + "/" +
                                      std::to_string(o.camera_jitter),
                                  o.seed);
  auto it = cache.find(key);
  if (it == cache.end()) {
    if (cache.size() > 4) cache.clear();
    it = cache.emplace(key, make_scene(seq, o)).first;
  }
  const Scene& s = it->second;
  const int64_t W = s.W, H = s.H, BW = W + 2 * s.pad;
  // Camera shake: a per-frame offset of the background, clipped to the padding.
  std::mt19937_64 r(mix(o.seed, 0x5EEDu + static_cast<uint64_t>(frame)));
  std::normal_distribution<double> n(0, 1);
  const auto shift = [&](double v) {
    return std::clamp<int64_t>(static_cast<int64_t>(std::lround(v * o.camera_jitter)), -s.pad, s.pad);
  };
  const int64_t dx = s.pad + shift(n(r)), dy = s.pad + shift(n(r));
  std::vector<float> img(static_cast<size_t>(W * H * 3));
  for (int64_t y = 0; y < H; ++y)
    std::copy_n(&s.background[static_cast<size_t>(((y + dy) * BW + dx) * 3)], W * 3, &img[static_cast<size_t>(y * W * 3)]);
  std::vector<Box> boxes;
  for (const auto& b : seq.gt)
    if (b.frame == frame) boxes.push_back(b);
  std::stable_sort(boxes.begin(), boxes.end(), [](const Box& a, const Box& b) { return a.y + a.h < b.y + b.h; });
  for (const auto& b : boxes) draw_person(img.data(), W, H, b, frame, o.seed);
  // Sensor noise, so flat regions are not perfectly flat.
  std::mt19937_64 nr(mix(o.seed, 0xA015Eu + static_cast<uint64_t>(frame)));
  std::normal_distribution<float> noise(0, 3);
  at::Tensor out = at::empty({H, W, 3}, at::kByte);
  uint8_t* p = out.data_ptr<uint8_t>();
  for (size_t i = 0; i < img.size(); ++i)
    p[i] = static_cast<uint8_t>(std::lround(std::clamp(img[i] + noise(nr), 0.0f, 255.0f)));
  return out;
}

void write_frames(const std::filesystem::path& dir, const SyntheticMotSequence& seq, const RenderOptions& o) {
  if (!image_format_available(seq.info.im_ext))
    throw Error("write_frames: sequence " + seq.info.name + ": this build cannot write frames with imExt '" +
                seq.info.im_ext + "'" + (all_image_formats_available() ? "" : " (without OpenCV: .ppm)"));
  const auto folder = dir / seq.info.im_dir;
  std::filesystem::create_directories(folder);
  // A frame is a pure function of the sequence and the options: frames are rendered and written
  // on torch's threads (a 1280x720 sequence of 200 takes seconds, not minutes, on a big machine).
  at::parallel_for(1, seq.info.seq_length + 1, 1, [&](int64_t begin, int64_t end) {
    for (int64_t f = begin; f < end; ++f) {
      char name[32];
      std::snprintf(name, sizeof(name), "%06lld", static_cast<long long>(f));
      write_image((folder / (name + seq.info.im_ext)).string(), render_frame(seq, f, o), o.jpeg_quality);
    }
  });
}

}  // namespace vss::track
