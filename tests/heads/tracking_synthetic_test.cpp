// End to end on a generated sequence: ByteTrack + Kalman tracks the dancers well enough
// (TrackEval-exact metrics against the generator's gt), and the results file written in
// ByteTrack's format passes the results reader (no duplicate ids in a frame).
#include "core/remove_tree.h"
#include "datasets/synthetic_mot.h"
#include "heads/track/byte_tracker.h"
#include "heads/track/kalman_motion.h"
#include "heads/track/mot_metrics.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

namespace vss::test {
namespace {

TEST(TrackingSynthetic, KalmanByteTrackFollowsGeneratedDancers) {
  track::SyntheticMotOptions o;
  o.frames = 150;
  o.objects = 6;
  const auto seq = track::make_synthetic_mot(o);
  std::vector<std::vector<track::Detection>> frames(o.frames);
  for (const auto& d : seq.det) frames[d.frame - 1].push_back({{d.x, d.y, d.w, d.h}, d.score});
  const track::ByteTrackOptions options;
  track::ByteTracker tracker(options, track::make_kalman_motion(), o.frame_rate);
  std::vector<track::Box> results;
  for (int64_t f = 0; f < o.frames; ++f)
    for (const auto& t : tracker.update(frames[f]))
      if (track::keep_output_box(t.box, options))
        results.push_back({f + 1, t.id, t.box.x, t.box.y, t.box.w, t.box.h, t.score});
  const auto dir = make_temp_dir("vss_track_synth");
  track::write_results(dir / "res.txt", results);
  const auto reread = track::read_boxes(dir / "res.txt", track::FileKind::Results, o.frames);
  const auto m = track::summarize(
      track::evaluate_sequence(track::prepare_sequence(seq.gt, reread.boxes, o.frames, /*preprocess=*/true)));
  EXPECT_GT(m.mota, 0.5);
  EXPECT_GT(m.idf1, 0.5);
  EXPECT_GT(m.hota, 0.4);
  remove_tree(dir);
}

}  // namespace
}  // namespace vss::test
