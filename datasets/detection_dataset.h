#pragma once
// What a detection task trains on: images with boxes. Readers: MOTChallenge frames
// (mot_frame_dataset.h), COCO instances (coco_image_dataset.h), rendered generated sequences
// (rendered_mot_dataset.h).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

namespace vss {

struct DetSample {
  at::Tensor image;    // [H, W, 3] uint8 RGB (float [3, H, W] in 0..255 after the pipeline)
  at::Tensor boxes;    // [N, 4] float32 x1 y1 x2 y2, pixels
  at::Tensor classes;  // [N] int64, 0-based
  std::string name;    // where it came from (file or sequence:frame), for messages
};

class DetectionDataset {
 public:
  virtual ~DetectionDataset() = default;
  virtual int64_t size() const = 0;
  virtual DetSample sample(int64_t index) const = 0;
  virtual int64_t num_classes() const = 0;
};

}  // namespace vss
