// ByteTrack association: hand-built scenes (crossing, an occlusion gap re-matched under the
// old id and expiry after max_time_lost, the low-score second association, a duplicate
// tracked/lost pair) and random scenes against a plain-Python ByteTrack written for the
// tests (tests/heads/python/byte_tracker_reference.py) on the same detections.
#include "core/config.h"
#include "core/error.h"
#include "core/remove_tree.h"
#include "heads/track/byte_tracker.h"
#include "heads/track/kalman_motion.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

namespace vss::test {
namespace {

using track::ByteTracker;
using track::ByteTrackOptions;
using track::Detection;
using track::TrackOutput;

ByteTracker make_tracker(ByteTrackOptions o = {}, double frame_rate = 30) {
  return ByteTracker(o, track::make_kalman_motion(), frame_rate);
}

// id of the output whose box is closest to (x, y) (top-left), -1 if none within 5 px.
int64_t id_near(const std::vector<TrackOutput>& out, double x, double y) {
  for (const auto& t : out)
    if (std::abs(t.box.x - x) < 5 && std::abs(t.box.y - y) < 5) return t.id;
  return -1;
}

TEST(ByteTracker, FirstFrameActivatesLaterFramesConfirmOnSecondMatch) {
  auto tracker = make_tracker();
  auto out = tracker.update({{{100, 100, 40, 100}, 0.9}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id, 1);
  EXPECT_NEAR(out[0].box.x, 100, 1e-9);
  EXPECT_NEAR(out[0].box.h, 100, 1e-9);
  EXPECT_DOUBLE_EQ(out[0].score, 0.9);
  // A new object on frame 2 is unconfirmed (not output) until matched on frame 3.
  out = tracker.update({{{102, 100, 40, 100}, 0.9}, {{400, 100, 40, 100}, 0.8}});
  EXPECT_EQ(out.size(), 1u);
  out = tracker.update({{{104, 100, 40, 100}, 0.9}, {{401, 100, 40, 100}, 0.8}});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(id_near(out, 104, 100), 1);
  EXPECT_EQ(id_near(out, 401, 100), 2);
  // An unconfirmed track not matched on its second frame is removed; its id is not reused.
  tracker.update({{{106, 100, 40, 100}, 0.9}, {{401, 100, 40, 100}, 0.8}, {{700, 100, 40, 100}, 0.9}});
  out = tracker.update({{{108, 100, 40, 100}, 0.9}, {{401, 100, 40, 100}, 0.8}});
  out = tracker.update({{{110, 100, 40, 100}, 0.9}, {{401, 100, 40, 100}, 0.8}, {{700, 100, 40, 100}, 0.9}});
  out = tracker.update({{{112, 100, 40, 100}, 0.9}, {{401, 100, 40, 100}, 0.8}, {{700, 100, 40, 100}, 0.9}});
  EXPECT_EQ(id_near(out, 700, 100), 4);
}

TEST(ByteTracker, ScoreBandsAndNewTrackThreshold) {
  auto tracker = make_tracker();
  // Frame 1: 0.65 is high but below new_track_thresh 0.7; 0.3 is low; 0.05 ignored.
  auto out = tracker.update({{{0, 0, 40, 100}, 0.65}, {{200, 0, 40, 100}, 0.3}, {{400, 0, 40, 100}, 0.05}});
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(tracker.num_tracked(), 0u);
}

TEST(ByteTracker, CrossingTracksKeepTheirIds) {
  // Two pedestrians walking towards each other on nearly the same row, overlapping for a
  // few frames: constant-velocity prediction keeps each id on its own side.
  auto tracker = make_tracker();
  std::map<int64_t, int64_t> id_at_left;  // frame -> id of the box that started on the left
  for (int f = 0; f < 60; ++f) {
    const double xa = 100 + 8 * f, xb = 572 - 8 * f;
    auto out = tracker.update({{{xa, 200, 40, 100}, 0.9}, {{xb, 205, 40, 100}, 0.85}});
    if (f == 0) {
      ASSERT_EQ(out.size(), 2u);
    }
    const int64_t ida = id_near(out, xa, 200), idb = id_near(out, xb, 205);
    ASSERT_NE(ida, -1) << "frame " << f;
    ASSERT_NE(idb, -1) << "frame " << f;
    EXPECT_EQ(ida, 1) << "frame " << f;
    EXPECT_EQ(idb, 2) << "frame " << f;
  }
}

TEST(ByteTracker, OcclusionGapIsBridgedUnderTheOldIdUntilMaxTimeLost) {
  ByteTrackOptions o;
  o.track_buffer = 30;
  auto tracker = make_tracker(o, 15);  // max_time_lost = int(15/30·30) = 15
  EXPECT_EQ(tracker.max_time_lost(), 15);
  int64_t frame = 0;
  auto step = [&](std::vector<Detection> dets) { ++frame; return tracker.update(dets); };
  for (int i = 0; i < 10; ++i) step({{{100.0 + 5 * i, 100, 40, 100}, 0.9}});
  // 10 frames without the object; it comes back where constant velocity puts it.
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(step({}).empty());
  EXPECT_EQ(tracker.num_lost(), 1u);
  auto out = step({{{100.0 + 5 * 20, 100, 40, 100}, 0.9}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id, 1);
  // Now a longer gap: lost at frame 22 (last match 21), marked removed when frame − 21 > 15,
  // i.e. at frame 37, but (as ByteTrack) kept in the lost list, and matchable, one more frame.
  for (int i = 0; i < 16; ++i) step({});
  EXPECT_EQ(frame, 37);
  EXPECT_EQ(tracker.num_lost(), 1u);
  step({});
  EXPECT_EQ(tracker.num_lost(), 0u);
  out = step({{{100.0 + 5 * 40, 100, 40, 100}, 0.9}});
  EXPECT_TRUE(out.empty());  // a new, unconfirmed track
  out = step({{{100.0 + 5 * 41, 100, 40, 100}, 0.9}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id, 2);
}

TEST(ByteTracker, LowScoreDetectionsContinueTrackedTracksOnly) {
  auto tracker = make_tracker();
  tracker.update({{{100, 100, 40, 100}, 0.9}});
  // A low-score detection (0.3) continues track 1 in the second association...
  auto out = tracker.update({{{101, 100, 40, 100}, 0.3}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id, 1);
  EXPECT_DOUBLE_EQ(out[0].score, 0.3);
  // ...but with IoU below 0.5 it does not (cost 1 − IoU must be below 0.5), and the track is lost.
  out = tracker.update({{{135, 100, 40, 100}, 0.3}});
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(tracker.num_lost(), 1u);
  // A lost track is not in the second association: a good low box does not bring it back...
  out = tracker.update({{{103, 100, 40, 100}, 0.3}});
  EXPECT_TRUE(out.empty());
  // ...a high one does (first association includes lost tracks).
  out = tracker.update({{{104, 100, 40, 100}, 0.9}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id, 1);
}

TEST(ByteTracker, YoungerOfATrackedLostDuplicateIsDropped) {
  auto tracker = make_tracker();
  tracker.update({{{100, 100, 40, 100}, 0.9}});                                   // A (id 1)
  tracker.update({{{100, 100, 40, 100}, 0.9}, {{100, 102, 40, 100}, 0.9}});       // B born (id 2)
  auto out = tracker.update({{{100, 100, 40, 100}, 0.9}, {{100, 102, 40, 100}, 0.9}});
  ASSERT_EQ(out.size(), 2u);
  // A's detection disappears; B's box also fits A: A stays unmatched (lost), and the tracked
  // B (younger) and lost A are duplicates (IoU distance < 0.15): B is dropped.
  out = tracker.update({{{100, 102, 40, 100}, 0.9}});
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(tracker.num_tracked(), 0u);
  EXPECT_EQ(tracker.num_lost(), 1u);
  out = tracker.update({{{100, 102, 40, 100}, 0.9}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id, 1);
}

TEST(ByteTracker, InvalidDetectionsAreErrors) {
  auto tracker = make_tracker();
  EXPECT_THROW(tracker.update({{{0, 0, 0, 10}, 0.9}}), Error);
  EXPECT_THROW(tracker.update({{{0, 0, 10, -1}, 0.9}}), Error);
  EXPECT_THROW(tracker.update({{{0, 0, 10, 10}, std::nan("")}}), Error);
  EXPECT_THROW(ByteTracker(ByteTrackOptions{}, track::make_kalman_motion(), 0), Error);
}

TEST(ByteTracker, OptionsFromYaml) {
  const auto o = track::byte_track_options(Config::parse("{track_thresh: 0.5, match_thresh: 0.9, fuse_score: false}"));
  EXPECT_DOUBLE_EQ(o.track_thresh, 0.5);
  EXPECT_DOUBLE_EQ(o.new_track_thresh, 0.6);
  EXPECT_DOUBLE_EQ(o.match_thresh, 0.9);
  EXPECT_FALSE(o.fuse_score);
  EXPECT_THROW(track::byte_track_options(Config::parse("{trak_thresh: 0.5}")), Error);
  EXPECT_THROW(track::byte_track_options(Config::parse("{match_thresh: 1.5}")), Error);
  EXPECT_THROW(track::byte_track_options(Config::parse("{track_buffer: -1}")), Error);
  ByteTrackOptions f;
  EXPECT_TRUE(track::keep_output_box({0, 0, 20, 40}, f));
  EXPECT_FALSE(track::keep_output_box({0, 0, 5, 10}, f));   // area 50 <= 100
  EXPECT_FALSE(track::keep_output_box({0, 0, 40, 20}, f));  // w/h 2 > 1.6
}

// Random scenes: objects with constant-ish velocity, jitter, missed detections, low-score
// and false detections, entering and leaving; every frame's outputs must equal the Python
// reference's (ids exactly, boxes to 1e-6).
void write_random_scene(const std::filesystem::path& file, uint32_t seed, int frames, int objects) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> n(0, 1);
  struct Obj { double x, y, w, h, vx, vy; int start, end; };
  std::vector<Obj> objs;
  for (int i = 0; i < objects; ++i) {
    const double h = 40 + 120 * u(rng);
    const int start = static_cast<int>(u(rng) * frames * 0.5) + 1;
    objs.push_back({50 + 800 * u(rng), 50 + 400 * u(rng), h * (0.3 + 0.3 * u(rng)), h, 6 * n(rng), 2 * n(rng), start,
                    start + 10 + static_cast<int>(u(rng) * frames)});
  }
  std::ofstream out(file);
  out.precision(17);
  for (int f = 1; f <= frames; ++f) {
    for (auto& o : objs) {
      if (f < o.start || f > o.end) continue;
      o.x += o.vx + 0.5 * n(rng);
      o.y += o.vy + 0.5 * n(rng);
      o.vx += 0.3 * n(rng);
      if (u(rng) < 0.1) continue;  // missed
      const double score = u(rng) < 0.2 ? 0.1 + 0.5 * u(rng) : 0.6 + 0.4 * u(rng);
      out << f << ',' << o.x + n(rng) << ',' << o.y + n(rng) << ',' << o.w * (1 + 0.03 * n(rng)) << ','
          << o.h * (1 + 0.03 * n(rng)) << ',' << score << '\n';
    }
    for (int k = 0; k < 2; ++k)
      if (u(rng) < 0.3)  // false positives
        out << f << ',' << 900 * u(rng) << ',' << 500 * u(rng) << ',' << 20 + 40 * u(rng) << ',' << 50 + 80 * u(rng)
            << ',' << u(rng) << '\n';
  }
}

std::map<int, std::vector<std::vector<double>>> read_rows(const std::filesystem::path& file, int columns) {
  std::map<int, std::vector<std::vector<double>>> rows;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    std::replace(line.begin(), line.end(), ',', ' ');
    std::istringstream ss(line);
    std::vector<double> v(columns);
    for (double& x : v) ss >> x;
    rows[static_cast<int>(v[0])].push_back(v);
  }
  return rows;
}

struct ReferenceCase {
  uint32_t seed;
  int frames, objects;
  double frame_rate;
  bool fuse;
};

TEST(ByteTracker, MatchesPythonReferenceOnRandomScenes) {
  const auto dir = make_temp_dir("vss_bytetrack");
  std::ifstream script_file(source_dir() / "tests/heads/python/byte_tracker_reference.py");
  ASSERT_TRUE(script_file) << "missing the reference script";
  const std::string script((std::istreambuf_iterator<char>(script_file)), std::istreambuf_iterator<char>());
  int64_t compared = 0;
  for (const ReferenceCase c : {ReferenceCase{1, 120, 8, 30, true}, ReferenceCase{2, 150, 15, 10, true},
                                ReferenceCase{3, 100, 25, 30, false}, ReferenceCase{4, 200, 12, 20, true}}) {
    SCOPED_TRACE("seed " + std::to_string(c.seed));
    const auto dets = dir / ("dets" + std::to_string(c.seed) + ".txt");
    const auto expected_file = dir / ("ref" + std::to_string(c.seed) + ".txt");
    write_random_scene(dets, c.seed, c.frames, c.objects);
    std::string log;
    ASSERT_EQ(run_python(script, {dets.string(), expected_file.string(), "frame_rate=" + std::to_string(c.frame_rate),
                                  "fuse=" + std::string(c.fuse ? "1" : "0")},
                         &log),
              0)
        << log;
    auto input = read_rows(dets, 6);
    auto expected = read_rows(expected_file, 7);
    ByteTrackOptions o;
    o.fuse_score = c.fuse;
    auto tracker = make_tracker(o, c.frame_rate);
    const int last = input.empty() ? 0 : input.rbegin()->first;
    for (int f = 1; f <= last; ++f) {
      std::vector<Detection> frame_dets;
      for (const auto& r : input[f]) frame_dets.push_back({{r[1], r[2], r[3], r[4]}, r[5]});
      const auto out = tracker.update(frame_dets);
      const auto& want = expected[f];
      ASSERT_EQ(out.size(), want.size()) << "frame " << f;
      for (size_t i = 0; i < out.size(); ++i) {
        ASSERT_EQ(out[i].id, static_cast<int64_t>(want[i][1])) << "frame " << f << " output " << i;
        EXPECT_NEAR(out[i].box.x, want[i][2], 1e-6);
        EXPECT_NEAR(out[i].box.y, want[i][3], 1e-6);
        EXPECT_NEAR(out[i].box.w, want[i][4], 1e-6);
        EXPECT_NEAR(out[i].box.h, want[i][5], 1e-6);
        EXPECT_DOUBLE_EQ(out[i].score, want[i][6]);
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 1000);
  remove_tree(dir);
}

}  // namespace
}  // namespace vss::test
