// The tracker's pipeline from pixels (see frame_tracking.h).
#include "engine/frame_tracking.h"

#include "core/stopwatch.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace vss {

void PipelineTiming::add_detection(const FrameDetections& d) {
  frames += static_cast<int64_t>(d.frames.size());
  decode_seconds += d.decode_seconds;
  detect_seconds += d.detect_seconds;
}

double PipelineTiming::fps_end_to_end() const {
  const double all = decode_seconds + detect_seconds + associate_seconds + write_seconds;
  return all > 0 ? static_cast<double>(frames) / all : 0.0;
}

nlohmann::json PipelineTiming::to_json() const {
  return {{"frames", frames},
          {"decode_seconds", decode_seconds},
          {"detect_seconds", detect_seconds},
          {"associate_seconds", associate_seconds},
          {"write_seconds", write_seconds},
          {"fps_end_to_end", fps_end_to_end()}};
}

std::string PipelineTiming::summary() const {
  char line[256];
  std::snprintf(line, sizeof(line),
                "%.3f s reading frames, %.3f s detecting, %.3f s associating, %.3f s writing = %.1f frames/s end to end",
                decode_seconds, detect_seconds, associate_seconds, write_seconds, fps_end_to_end());
  return line;
}

void use_for_tracking(detect::CenterNet& model, const track::ByteTrackOptions& options) {
  auto test = model->options().test;
  test.score_threshold = std::min(test.score_threshold, options.low_thresh);
  model->set_test_options(test);
}

std::vector<std::vector<track::Detection>> tracker_detections(const FrameDetections& d) {
  std::vector<std::vector<track::Detection>> out;
  out.reserve(d.frames.size());
  for (const auto& frame : d.frames) {
    out.emplace_back();
    for (const auto& b : frame)
      if (b.cls == 0) out.back().push_back({{b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1}, b.score});
  }
  return out;
}

std::vector<track::Box> associate(track::ByteTracker& tracker, const track::ByteTrackOptions& options,
                                const std::vector<std::vector<track::Detection>>& frames, PipelineTiming& timing,
                                const std::function<void(int64_t, const KeptTracks&)>& on_frame) {
  std::vector<track::Box> results;
  KeptTracks kept;
  for (size_t f = 0; f < frames.size(); ++f) {
    const auto start = std::chrono::steady_clock::now();
    const auto tracks = tracker.update(frames[f]);
    timing.associate_seconds += seconds_since(start);
    kept.clear();
    for (const auto& t : tracks) {
      if (!track::keep_output_box(t.box, options)) continue;
      results.push_back({static_cast<int64_t>(f) + 1, t.id, t.box.x, t.box.y, t.box.w, t.box.h, t.score});
      kept.emplace_back(t.id, t.box);
    }
    if (on_frame) on_frame(static_cast<int64_t>(f), kept);
  }
  return results;
}

void write_tracks(const std::filesystem::path& file, const std::vector<track::Box>& results, PipelineTiming& timing) {
  const auto start = std::chrono::steady_clock::now();
  track::write_results(file, results);
  timing.write_seconds += seconds_since(start);
}

}  // namespace vss
