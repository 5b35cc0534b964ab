#include "datasets/synthetic_mot.h"

#include "core/atomic_file.h"
#include "core/interrupt.h"
#include "core/error.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <random>

namespace vss::track {
namespace {

constexpr double kPi = 3.14159265358979323846;

struct Dancer {
  int64_t id, start, end;       // present on frames start..end
  double cx, cy, vx, vy;        // centre and velocity (px, px / frame)
  double height, aspect;        // base size
  double target_vx = 0, target_vy = 0, turn_rate = 0;  // the current motion segment
  int64_t segment_left = 0;
  double sway_phase, sway_rate;  // width oscillation (arms)
};

void new_segment(Dancer& d, const SyntheticMotOptions& o, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  const double angle = 2 * kPi * u(rng), speed = o.max_speed * std::pow(u(rng), 0.7);
  d.target_vx = speed * std::cos(angle);
  d.target_vy = 0.5 * speed * std::sin(angle);  // the stage is seen from the front: less depth motion
  d.turn_rate = u(rng) < 0.3 ? (u(rng) - 0.5) * 0.3 : 0;  // circling, radians / frame
  d.segment_left = 8 + static_cast<int64_t>(u(rng) * 50);
  if (u(rng) < 0.25) {  // abrupt turn: the new velocity applies at once
    d.vx = d.target_vx;
    d.vy = d.target_vy;
  }
}

void step(Dancer& d, const SyntheticMotOptions& o, std::mt19937_64& rng) {
  if (--d.segment_left <= 0) new_segment(d, o, rng);
  // Accelerate towards the segment's velocity, rotating it when circling.
  const double c = std::cos(d.turn_rate), s = std::sin(d.turn_rate);
  const double tx = c * d.target_vx - s * d.target_vy, ty = s * d.target_vx + c * d.target_vy;
  d.target_vx = tx;
  d.target_vy = ty;
  d.vx += 0.25 * (d.target_vx - d.vx);
  d.vy += 0.25 * (d.target_vy - d.vy);
  d.cx += d.vx;
  d.cy += d.vy;
  // Bounce off the stage (boxes stay inside the image).
  const double h = d.height, w = h * d.aspect;
  const double min_x = w / 2 + 2, max_x = static_cast<double>(o.width) - w / 2 - 2;
  const double min_y = h / 2 + 0.25 * static_cast<double>(o.height), max_y = static_cast<double>(o.height) - h / 2 - 2;
  if (d.cx < min_x || d.cx > max_x) {
    d.cx = std::clamp(d.cx, min_x, max_x);
    d.vx = -d.vx;
    d.target_vx = -d.target_vx;
  }
  if (d.cy < min_y || d.cy > max_y) {
    d.cy = std::clamp(d.cy, min_y, max_y);
    d.vy = -d.vy;
    d.target_vy = -d.target_vy;
  }
  d.sway_phase += d.sway_rate;
}

Box box_of(const Dancer& d, const SyntheticMotOptions& o, int64_t frame) {
  // Perspective: dancers further back (smaller cy) look smaller.
  const double depth = 0.75 + 0.25 * d.cy / static_cast<double>(o.height);
  const double h = d.height * depth, w = h * d.aspect * (1 + 0.12 * std::sin(d.sway_phase));
  Box b;
  b.frame = frame;
  b.id = d.id;
  b.x = d.cx - w / 2;
  b.y = d.cy - h / 2;
  b.w = w;
  b.h = h;
  b.score = 1;
  b.cls = 1;
  return b;
}

double overlap(const Box& a, const Box& b) {
  const double iw = std::min(a.x + a.w, b.x + b.w) - std::max(a.x, b.x);
  const double ih = std::min(a.y + a.h, b.y + b.h) - std::max(a.y, b.y);
  return iw > 0 && ih > 0 ? iw * ih : 0;
}

void check(const SyntheticMotOptions& o) {
  auto fail = [&](const std::string& what) { throw Error("synthetic MOT sequence '" + o.name + "': " + what); };
  if (o.frames < 1) fail("frames must be >= 1");
  if (o.width < 64 || o.height < 64) fail("the image must be at least 64x64");
  if (o.objects < 0) fail("objects must be >= 0");
  if (!(o.frame_rate > 0)) fail("frame_rate must be > 0");
  if (!(o.max_speed >= 0) || !(o.box_noise >= 0) || !(o.miss_rate >= 0 && o.miss_rate <= 1) ||
      !(o.false_positives >= 0) || !(o.size_scale > 0 && o.size_scale <= 1))
    fail("max_speed, box_noise, false_positives must be >= 0, miss_rate in [0, 1] and size_scale in (0, 1]");
}

}  // namespace

SyntheticMotSequence make_synthetic_mot(const SyntheticMotOptions& o) {
  check(o);
  std::seed_seq seeds{static_cast<uint32_t>(o.seed), static_cast<uint32_t>(o.seed >> 32)};
  std::mt19937_64 rng(seeds);
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> n(0, 1);
  const double W = static_cast<double>(o.width), H = static_cast<double>(o.height);

  std::vector<Dancer> dancers;
  for (int64_t i = 0; i < o.objects; ++i) {
    Dancer d;
    d.id = i + 1;
    // Most dancers stay the whole sequence; some enter late or leave early.
    d.start = u(rng) < 0.7 ? 1 : 1 + static_cast<int64_t>(u(rng) * 0.6 * static_cast<double>(o.frames));
    d.end = u(rng) < 0.7 ? o.frames : std::min(o.frames, d.start + 20 + static_cast<int64_t>(u(rng) * static_cast<double>(o.frames)));
    d.height = H * (0.22 + 0.08 * u(rng)) * o.size_scale;  // similar sizes
    d.aspect = 0.35 + 0.1 * u(rng);
    d.cx = W * (0.1 + 0.8 * u(rng));
    d.cy = H * (0.45 + 0.4 * u(rng));
    d.vx = d.vy = 0;
    d.sway_phase = 2 * kPi * u(rng);
    d.sway_rate = 0.05 + 0.2 * u(rng);
    new_segment(d, o, rng);
    dancers.push_back(d);
  }

  SyntheticMotSequence seq;
  seq.info.name = o.name;
  seq.info.frame_rate = o.frame_rate;
  seq.info.seq_length = o.frames;
  seq.info.im_width = o.width;
  seq.info.im_height = o.height;
  for (int64_t f = 1; f <= o.frames; ++f) {
    std::vector<Box> boxes;
    for (auto& d : dancers) {
      step(d, o, rng);
      if (f >= d.start && f <= d.end) boxes.push_back(box_of(d, o, f));
    }
    // Visibility: the part of a box not covered by boxes in front (lower bottom edge = nearer).
    for (auto& b : boxes) {
      double covered = 0;
      for (const auto& other : boxes)
        if (&other != &b && other.y + other.h > b.y + b.h) covered += overlap(b, other);
      b.visibility = std::max(0.0, 1 - covered / (b.w * b.h));
    }
    for (const auto& b : boxes) {
      seq.gt.push_back(b);
      const double miss = std::min(1.0, o.miss_rate + 0.9 * (1 - b.visibility) * (1 - b.visibility));
      if (u(rng) < miss) continue;
      Box d = b;
      d.id = -1;
      d.cls = -1;
      d.visibility = -1;
      d.w = std::max(4.0, b.w * (1 + o.box_noise * n(rng)));
      d.h = std::max(4.0, b.h * (1 + o.box_noise * n(rng)));
      d.x = b.x + (b.w - d.w) / 2 + o.box_noise * b.w * n(rng);
      d.y = b.y + (b.h - d.h) / 2 + o.box_noise * b.h * n(rng);
      d.score = std::clamp(0.35 + 0.6 * b.visibility + 0.1 * n(rng), 0.02, 0.99);
      seq.det.push_back(d);
    }
    // False positives: Poisson count, pedestrian-like boxes, mostly low scores.
    std::poisson_distribution<int> fp(o.false_positives);
    for (int k = fp(rng); k > 0; --k) {
      Box d;
      d.frame = f;
      d.h = H * (0.1 + 0.25 * u(rng));
      d.w = d.h * (0.3 + 0.3 * u(rng));
      d.x = (W - d.w) * u(rng);
      d.y = (H - d.h) * u(rng);
      d.score = std::clamp(0.15 + 0.5 * u(rng) * u(rng) + 0.2 * u(rng), 0.02, 0.99);
      seq.det.push_back(d);
    }
  }
  return seq;
}

uint64_t synthetic_sequence_seed(uint64_t split_seed, int64_t index) {
  std::seed_seq seeds{static_cast<uint32_t>(split_seed), static_cast<uint32_t>(split_seed >> 32),
                      static_cast<uint32_t>(index), static_cast<uint32_t>(static_cast<uint64_t>(index) >> 32)};
  std::array<uint32_t, 2> out;
  seeds.generate(out.begin(), out.end());
  return (static_cast<uint64_t>(out[0]) << 32) | out[1];
}

void write_sequence(const std::filesystem::path& dir, const SyntheticMotSequence& seq) {
  InterruptDeferral whole_sequence;  // Ctrl-C leaves all three files or none
  std::filesystem::create_directories(dir / "gt");
  std::filesystem::create_directories(dir / "det");
  {
    AtomicFile ini(dir / "seqinfo.ini");
    const SeqInfo& s = seq.info;
    ini.stream() << "[Sequence]\nname=" << s.name << "\nimDir=" << s.im_dir << "\nframeRate=" << s.frame_rate
                 << "\nseqLength=" << s.seq_length << "\nimWidth=" << s.im_width << "\nimHeight=" << s.im_height
                 << "\nimExt=" << s.im_ext << "\n";
    ini.commit();
  }
  char line[256];
  {
    AtomicFile gt(dir / "gt" / "gt.txt");
    for (const Box& b : seq.gt) {
      std::snprintf(line, sizeof(line), "%lld,%lld,%.2f,%.2f,%.2f,%.2f,1,%d,%.4f\n", static_cast<long long>(b.frame),
                    static_cast<long long>(b.id), b.x, b.y, b.w, b.h, b.cls, b.visibility);
      gt.stream() << line;
    }
    gt.commit();
  }
  AtomicFile det(dir / "det" / "det.txt");
  for (const Box& b : seq.det) {
    std::snprintf(line, sizeof(line), "%lld,-1,%.2f,%.2f,%.2f,%.2f,%.4f,-1,-1,-1\n", static_cast<long long>(b.frame), b.x,
                  b.y, b.w, b.h, b.score);
    det.stream() << line;
  }
  det.commit();
}

}  // namespace vss::track
