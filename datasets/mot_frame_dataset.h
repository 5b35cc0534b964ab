#pragma once
// MOTChallenge-layout sequences with frames (img1/ + gt/gt.txt: MOT17, DanceTrack, SportsMOT,
// vss-track make-data --render) as detection samples, one per frame of each sequence, one class
// (pedestrian). Which gt lines are objects follows the MOT17 converters of ByteTrack and FairMOT:
// consider flag (column 6) != 0 and, for 9-column files, class (column 7) == 1; MOT15 files
// (no class column) keep every line. Boxes with visibility (column 8) below `min_visibility`
// are left out too (0: all; FairMOT/ByteTrack keep all).
#include "datasets/detection_dataset.h"
#include "datasets/mot_challenge.h"

#include <array>
#include <filesystem>
#include <vector>

namespace vss {

struct MotFrameOptions {
  double min_visibility = 0;
  int64_t frame_step = 1;  // every n-th frame (consecutive frames are near duplicates)
};

class MotFrameDataset : public DetectionDataset {
 public:
  // Errors name the sequence folder or file (missing gt, missing frames).
  MotFrameDataset(const std::vector<std::filesystem::path>& sequence_dirs, MotFrameOptions options);
  int64_t size() const override { return static_cast<int64_t>(frames_.size()); }
  DetSample sample(int64_t index) const override;
  int64_t num_classes() const override { return 1; }

 private:
  struct Frame {
    std::filesystem::path image;
    std::vector<std::array<float, 4>> boxes;
    std::string name;
  };
  std::vector<Frame> frames_;
};

// The gt lines that are detection targets under those rules.
bool is_detection_target(const track::Box& b, bool has_class, double min_visibility);

}  // namespace vss
