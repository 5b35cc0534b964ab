#include "heads/track/byte_tracker.h"

#include "core/config.h"
#include "core/error.h"
#include "heads/track/linear_assignment.h"

#include <cmath>
#include <string>
#include <unordered_map>

namespace vss::track {

enum class TrackState { Tracked, Lost, Removed };

struct ByteTracker::Track {
  int64_t id = 0;
  TrackState state = TrackState::Tracked;
  bool activated = false;
  double score = 0;
  int64_t frame_id = 0, start_frame = 0;  // last matched frame, first frame
  std::unique_ptr<MotionState> motion;
};

namespace {

using TrackPtr = ByteTracker::TrackPtr;

// Union by id, a's order first (ByteTrack's joint_stracks).
std::vector<TrackPtr> joint(const std::vector<TrackPtr>& a, const std::vector<TrackPtr>& b) {
  std::unordered_set<int64_t> seen;
  std::vector<TrackPtr> out;
  for (const auto* list : {&a, &b})
    for (const auto& t : *list)
      if (seen.insert(t->id).second) out.push_back(t);
  return out;
}

// a without the ids in `ids` (ByteTrack's sub_stracks).
std::vector<TrackPtr> subtract(const std::vector<TrackPtr>& a, const std::unordered_set<int64_t>& ids) {
  std::vector<TrackPtr> out;
  std::unordered_set<int64_t> seen;
  for (const auto& t : a)
    if (!ids.count(t->id) && seen.insert(t->id).second) out.push_back(t);
  return out;
}

std::unordered_set<int64_t> ids_of(const std::vector<TrackPtr>& tracks) {
  std::unordered_set<int64_t> ids;
  for (const auto& t : tracks) ids.insert(t->id);
  return ids;
}

// 1 − IoU, optionally ByteTrack's fuse_score: 1 − IoU·score.
std::vector<double> iou_cost(const std::vector<TrackPtr>& tracks, const std::vector<Detection>& dets, bool fuse) {
  std::vector<double> cost(tracks.size() * dets.size());
  for (size_t i = 0; i < tracks.size(); ++i) {
    const Tlwh box = tracks[i]->motion->box();
    for (size_t j = 0; j < dets.size(); ++j) {
      const double iou = byte_iou(box, dets[j].box);
      cost[i * dets.size() + j] = 1 - (fuse ? iou * dets[j].score : iou);
    }
  }
  return cost;
}

Assignment match(const std::vector<TrackPtr>& tracks, const std::vector<Detection>& dets, bool fuse, double thresh) {
  return solve_assignment(iou_cost(tracks, dets, fuse), static_cast<int64_t>(tracks.size()),
                          static_cast<int64_t>(dets.size()), thresh);
}

void check_detection(const Detection& d, int64_t frame) {
  const Tlwh& b = d.box;
  if (!std::isfinite(b.x) || !std::isfinite(b.y) || !std::isfinite(b.w) || !std::isfinite(b.h) ||
      !std::isfinite(d.score) || !(b.w > 0) || !(b.h > 0))
    throw Error("ByteTracker: frame " + std::to_string(frame) + ": invalid detection (x " + std::to_string(b.x) +
                ", y " + std::to_string(b.y) + ", w " + std::to_string(b.w) + ", h " + std::to_string(b.h) +
                ", score " + std::to_string(d.score) + "): boxes need finite values and w, h > 0");
}

}  // namespace

ByteTrackOptions byte_track_options(const Config& node) {
  node.check_keys({"track_thresh", "low_thresh", "new_track_thresh", "match_thresh", "second_match_thresh",
                   "unconfirmed_match_thresh", "fuse_score", "track_buffer", "duplicate_thresh", "min_box_area",
                   "aspect_ratio_thresh"});
  ByteTrackOptions o;
  auto fraction = [&](const char* key, double fallback) {
    const double v = node.get_or<double>(key, fallback);
    if (!(v >= 0 && v <= 1)) node[key].fail("must be in [0, 1]");
    return v;
  };
  o.track_thresh = fraction("track_thresh", o.track_thresh);
  o.low_thresh = fraction("low_thresh", o.low_thresh);
  o.new_track_thresh = node.get_or<double>("new_track_thresh", o.track_thresh + 0.1);
  if (!std::isfinite(o.new_track_thresh)) node["new_track_thresh"].fail("must be finite");
  o.match_thresh = fraction("match_thresh", o.match_thresh);
  o.second_match_thresh = fraction("second_match_thresh", o.second_match_thresh);
  o.unconfirmed_match_thresh = fraction("unconfirmed_match_thresh", o.unconfirmed_match_thresh);
  o.duplicate_thresh = fraction("duplicate_thresh", o.duplicate_thresh);
  o.fuse_score = node.get_or<bool>("fuse_score", o.fuse_score);
  o.track_buffer = node.get_or<int64_t>("track_buffer", o.track_buffer);
  if (o.track_buffer < 0) node["track_buffer"].fail("must be >= 0");
  o.min_box_area = node.get_or<double>("min_box_area", o.min_box_area);
  o.aspect_ratio_thresh = node.get_or<double>("aspect_ratio_thresh", o.aspect_ratio_thresh);
  if (!(o.aspect_ratio_thresh > 0)) node["aspect_ratio_thresh"].fail("must be > 0");
  if (o.low_thresh > o.track_thresh) node["low_thresh"].fail("must be <= track_thresh");
  return o;
}

bool keep_output_box(const Tlwh& box, const ByteTrackOptions& options) {
  return box.w * box.h > options.min_box_area && !(box.w / box.h > options.aspect_ratio_thresh);
}

ByteTracker::ByteTracker(ByteTrackOptions options, std::unique_ptr<MotionModel> motion, double frame_rate)
    : options_(options), motion_(std::move(motion)) {
  if (!(frame_rate > 0)) throw Error("ByteTracker: frame rate must be > 0, got " + std::to_string(frame_rate));
  max_time_lost_ = static_cast<int64_t>(frame_rate / 30.0 * static_cast<double>(options_.track_buffer));
}

ByteTracker::~ByteTracker() = default;

std::vector<TrackOutput> ByteTracker::update(const std::vector<Detection>& detections) {
  ++frame_id_;
  const ByteTrackOptions& o = options_;
  std::vector<Detection> high, low;
  for (const Detection& d : detections) {
    check_detection(d, frame_id_);
    if (d.score > o.track_thresh) high.push_back(d);
    else if (d.score > o.low_thresh && d.score < o.track_thresh) low.push_back(d);
  }
  std::vector<TrackPtr> activated, refound, lost_now, removed_now;
  auto take_detection = [&](const TrackPtr& t, const Detection& d) {
    motion_->update(*t->motion, d.box);
    (t->state == TrackState::Tracked ? activated : refound).push_back(t);
    t->state = TrackState::Tracked;
    t->activated = true;
    t->frame_id = frame_id_;
    t->score = d.score;
  };

  std::vector<TrackPtr> unconfirmed, confirmed;
  for (const auto& t : tracked_) (t->activated ? confirmed : unconfirmed).push_back(t);

  // Step 2: tracked + lost tracks, predicted, vs high detections.
  const std::vector<TrackPtr> pool = joint(confirmed, lost_);
  std::vector<MotionState*> states;
  std::vector<char> lost_flags;
  for (const auto& t : pool) {
    states.push_back(t->motion.get());
    lost_flags.push_back(t->state != TrackState::Tracked);
  }
  if (!pool.empty()) motion_->predict(states, lost_flags);
  const Assignment first = match(pool, high, o.fuse_score, o.match_thresh);
  for (const auto& [i, j] : first.matches) take_detection(pool[i], high[j]);

  // Step 3: the rest of the tracked ones vs low detections.
  std::vector<TrackPtr> remaining;
  for (int64_t i : first.unmatched_rows)
    if (pool[i]->state == TrackState::Tracked) remaining.push_back(pool[i]);
  const Assignment second = match(remaining, low, false, o.second_match_thresh);
  for (const auto& [i, j] : second.matches) take_detection(remaining[i], low[j]);
  for (int64_t i : second.unmatched_rows) {
    const auto& t = remaining[i];
    if (t->state != TrackState::Lost) {
      t->state = TrackState::Lost;
      lost_now.push_back(t);
    }
  }

  // Unconfirmed tracks vs the high detections left.
  std::vector<Detection> left;
  for (int64_t j : first.unmatched_cols) left.push_back(high[j]);
  const Assignment third = match(unconfirmed, left, o.fuse_score, o.unconfirmed_match_thresh);
  for (const auto& [i, j] : third.matches) take_detection(unconfirmed[i], left[j]);
  for (int64_t i : third.unmatched_rows) {
    unconfirmed[i]->state = TrackState::Removed;
    removed_now.push_back(unconfirmed[i]);
  }

  // Step 4: new tracks.
  for (int64_t j : third.unmatched_cols) {
    const Detection& d = left[j];
    if (d.score < o.new_track_thresh) continue;
    auto t = std::make_shared<Track>();
    t->id = next_id_++;
    t->motion = motion_->initiate(d.box);
    t->activated = frame_id_ == 1;
    t->score = d.score;
    t->frame_id = t->start_frame = frame_id_;
    activated.push_back(t);
  }

  // Step 5: expire lost tracks, rebuild the lists.
  for (const auto& t : lost_)
    if (frame_id_ - t->frame_id > max_time_lost_) {
      t->state = TrackState::Removed;
      removed_now.push_back(t);
    }
  std::vector<TrackPtr> still_tracked;
  for (const auto& t : tracked_)
    if (t->state == TrackState::Tracked) still_tracked.push_back(t);
  tracked_ = joint(joint(still_tracked, activated), refound);
  lost_ = subtract(lost_, ids_of(tracked_));
  lost_.insert(lost_.end(), lost_now.begin(), lost_now.end());
  lost_ = subtract(lost_, removed_ids_);  // the removals of earlier frames only (see header)
  for (const auto& t : removed_now) removed_ids_.insert(t->id);
  remove_duplicates();

  std::vector<TrackOutput> out;
  for (const auto& t : tracked_)
    if (t->activated) out.push_back({t->id, t->motion->box(), t->score});
  return out;
}

void ByteTracker::remove_duplicates() {
  std::vector<char> drop_tracked(tracked_.size(), 0), drop_lost(lost_.size(), 0);
  bool any = false;
  for (size_t p = 0; p < tracked_.size(); ++p) {
    const Tlwh a = tracked_[p]->motion->box();
    for (size_t q = 0; q < lost_.size(); ++q) {
      if (1 - byte_iou(a, lost_[q]->motion->box()) >= options_.duplicate_thresh) continue;
      const int64_t age_p = tracked_[p]->frame_id - tracked_[p]->start_frame;
      const int64_t age_q = lost_[q]->frame_id - lost_[q]->start_frame;
      (age_p > age_q ? drop_lost[q] : drop_tracked[p]) = 1;
      any = true;
    }
  }
  if (!any) return;
  auto keep = [](const std::vector<TrackPtr>& list, const std::vector<char>& drop) {
    std::vector<TrackPtr> out;
    for (size_t i = 0; i < list.size(); ++i)
      if (!drop[i]) out.push_back(list[i]);
    return out;
  };
  tracked_ = keep(tracked_, drop_tracked);
  lost_ = keep(lost_, drop_lost);
}

}  // namespace vss::track
