#pragma once
// Generated multi-object tracking sequences in the MOTChallenge / DanceTrack layout, for
// tests, demos and training the motion predictor: similar-sized "dancers" on a stage with
// non-linear motion (segments of steady motion, abrupt turns, accelerations, circling,
// bounces off the stage edges), crossings and occlusions (visibility from the boxes in
// front), entering and leaving, and a noisy detector: jittered boxes, scores that drop with
// occlusion, missed detections and false positives. A sequence depends only on its options.
#include "datasets/mot_challenge.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace vss::track {

struct SyntheticMotOptions {
  std::string name = "synth-0001";
  uint64_t seed = 1;
  int64_t frames = 300;
  int64_t width = 1280, height = 720;
  double frame_rate = 25;
  int64_t objects = 10;            // dancers over the whole sequence
  double max_speed = 10;           // px / frame
  double box_noise = 0.03;         // detector jitter, fraction of the box size
  double miss_rate = 0.05;         // of fully visible objects; grows with occlusion
  double false_positives = 0.3;    // mean per frame
  double size_scale = 1.0;         // dancer heights x this (22-30% of the image at 1): crowds
};

struct SyntheticMotSequence {
  SeqInfo info;
  std::vector<Box> gt;   // frame, id (1-based), box, consider 1, class 1, visibility
  std::vector<Box> det;  // frame, id -1, box, detector score
};

SyntheticMotSequence make_synthetic_mot(const SyntheticMotOptions& options);

// The seed of sequence `index` of a split with seed `split_seed` (unrelated streams).
uint64_t synthetic_sequence_seed(uint64_t split_seed, int64_t index);

// <dir>/{seqinfo.ini, gt/gt.txt (9 columns), det/det.txt (10 columns)}, each file written
// atomically. No images: association works from the detection file.
void write_sequence(const std::filesystem::path& dir, const SyntheticMotSequence& seq);

}  // namespace vss::track
