#pragma once
// ByteTrack's online association (ifzhang/ByteTrack yolox/tracker/byte_tracker.py,
// conventions.md §1.6, heads.md §4), with the motion model pluggable (Kalman | MTP):
//   1. high detections (score > track_thresh) vs tracked + lost tracks (predicted boxes),
//      cost 1 − IoU (× score when fuse_score), matched below match_thresh;
//   2. the still unmatched *tracked* tracks vs low detections (low_thresh < score <
//      track_thresh), plain IoU, below second_match_thresh; unmatched ones become lost;
//   3. unconfirmed tracks (born last frame) vs the remaining high detections, below
//      unconfirmed_match_thresh; unmatched unconfirmed tracks are removed;
//   4. remaining high detections with score ≥ new_track_thresh start tracks, confirmed at
//      their next match (at once on the first frame);
//   5. lost tracks unmatched for more than int(frame_rate / 30 · track_buffer) frames are
//      removed, and of a tracked/lost pair closer than duplicate_thresh (IoU distance) the
//      younger is dropped.
// Kept from the reference on purpose, so results match it: a lost track removed in step 5
// stays matchable for one more frame (ByteTrack subtracts the removed list before adding
// this frame's removals), and a track once removed is never lost-and-found again.
#include "heads/track/motion_model.h"

#include <cstdint>
#include <memory>
#include <unordered_set>
#include <vector>

namespace vss {
class Config;
}

namespace vss::track {

struct ByteTrackOptions {
  double track_thresh = 0.6;       // high / low split (heads.md §4)
  double low_thresh = 0.1;         // below: ignored
  double new_track_thresh = 0.7;   // ByteTrack's det_thresh = track_thresh + 0.1
  double match_thresh = 0.8;
  double second_match_thresh = 0.5;
  double unconfirmed_match_thresh = 0.7;
  bool fuse_score = true;          // ByteTrack without --mot20
  int64_t track_buffer = 30;
  double duplicate_thresh = 0.15;
  double min_box_area = 100;       // output filter (tools/track.py): keep w·h > min_box_area
  double aspect_ratio_thresh = 1.6;  // ... and w/h <= aspect_ratio_thresh
};

// The `tracker:` YAML node; unknown keys and out-of-range values are errors naming the key.
// new_track_thresh defaults to track_thresh + 0.1.
ByteTrackOptions byte_track_options(const Config& node);

// ByteTrack's writer filter (mot_evaluator.py): w·h > min_box_area and not w/h > aspect.
bool keep_output_box(const Tlwh& box, const ByteTrackOptions& options);

struct Detection {
  Tlwh box;
  double score = 0;
};

struct TrackOutput {
  int64_t id = 0;
  Tlwh box;
  double score = 0;  // score of the last matched detection
};

class ByteTracker {
 public:
  ByteTracker(ByteTrackOptions options, std::unique_ptr<MotionModel> motion, double frame_rate);
  ~ByteTracker();
  // One frame (call it for every frame, also those without detections). Boxes need w, h > 0
  // and finite values, scores finite (vss::Error otherwise). Returns the confirmed tracked
  // tracks, in ByteTrack's order; ids start at 1 and are never reused.
  std::vector<TrackOutput> update(const std::vector<Detection>& detections);

  int64_t frame_id() const { return frame_id_; }
  int64_t max_time_lost() const { return max_time_lost_; }
  size_t num_tracked() const { return tracked_.size(); }
  size_t num_lost() const { return lost_.size(); }
  const MotionModel& motion() const { return *motion_; }

  struct Track;
  using TrackPtr = std::shared_ptr<Track>;

 private:
  void remove_duplicates();

  ByteTrackOptions options_;
  std::unique_ptr<MotionModel> motion_;
  int64_t max_time_lost_ = 0, frame_id_ = 0, next_id_ = 1;
  std::vector<TrackPtr> tracked_, lost_;
  std::unordered_set<int64_t> removed_ids_;
};

}  // namespace vss::track
