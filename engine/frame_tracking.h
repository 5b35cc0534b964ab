#pragma once
// The tracker's pipeline from pixels, shared by vss-track --detector and vss-bench
// track-pixels so the benchmark times the code the app runs: frames decoded and detected in
// batches (engine/frame_detection.h) -> the detector's person boxes and scores handed to
// ByteTrack frame by frame -> the tracks written as a MOT results file. Each stage is timed;
// frames/s end to end is frames over the four stages' sum.
#include "datasets/mot_challenge.h"
#include "engine/frame_detection.h"
#include "heads/track/byte_tracker.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace vss {

struct PipelineTiming {
  int64_t frames = 0;
  double decode_seconds = 0;     // reading and decoding the frames
  double detect_seconds = 0;     // the detector's forward pass and box decoding
  double associate_seconds = 0;  // ByteTracker::update (association + motion model)
  double write_seconds = 0;      // the results files

  void add_detection(const FrameDetections& d);
  double fps_end_to_end() const;
  // The fields above and fps_end_to_end, under those names.
  nlohmann::json to_json() const;
  // "0.123 s reading frames, ... = 45.6 frames/s end to end"
  std::string summary() const;
};

// Lowers the detector's score threshold to ByteTrack's low threshold: every box the
// association can use (its second, low-score matching round included) reaches it.
void use_for_tracking(detect::CenterNet& model, const track::ByteTrackOptions& options);

// The detector's class-0 (person) boxes as the tracker's detections (top-left, size, score),
// one list per frame.
std::vector<std::vector<track::Detection>> tracker_detections(const FrameDetections& d);

// Runs `tracker` over the frames' detections (index 0 = frame 1) and returns the boxes
// ByteTrack's writer keeps (track::keep_output_box), with frame numbers from 1. Only update()
// is timed, into timing.associate_seconds. `on_frame` (optional, untimed) gets each frame's
// index and kept (id, box) pairs, e.g. to draw them.
using KeptTracks = std::vector<std::pair<int64_t, track::Tlwh>>;
std::vector<track::Box> associate(track::ByteTracker& tracker, const track::ByteTrackOptions& options,
                                const std::vector<std::vector<track::Detection>>& frames, PipelineTiming& timing,
                                const std::function<void(int64_t, const KeptTracks&)>& on_frame = {});

// track::write_results, timed into timing.write_seconds.
void write_tracks(const std::filesystem::path& file, const std::vector<track::Box>& results, PipelineTiming& timing);

}  // namespace vss
