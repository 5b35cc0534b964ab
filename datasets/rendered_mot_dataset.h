#pragma once
// Generated MOT sequences rendered on the fly (datasets/synthetic_mot.h + mot_render.h) as
// detection samples, so a detector trains without files: frame f of sequence s is sample
// s·frames + f - 1, its boxes the sequence's gt (all fully generated people, class 0).
#include "datasets/detection_dataset.h"
#include "datasets/mot_render.h"
#include "datasets/synthetic_mot.h"

#include <vector>

namespace vss {

struct RenderedMotOptions {
  int64_t sequences = 4, frames = 50, width = 320, height = 192, objects = 8;
  uint64_t seed = 1;
};

class RenderedMotDataset : public DetectionDataset {
 public:
  explicit RenderedMotDataset(const RenderedMotOptions& options);
  int64_t size() const override { return static_cast<int64_t>(sequences_.size()) * frames_; }
  DetSample sample(int64_t index) const override;
  int64_t num_classes() const override { return 1; }

 private:
  std::vector<track::SyntheticMotSequence> sequences_;
  std::vector<track::RenderOptions> render_;
  int64_t frames_;
};

}  // namespace vss
