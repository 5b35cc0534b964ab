#pragma once
// A COCO instances file and its image folder as detection samples (how CrowdHuman, MOT17 and
// COCO itself are given to detectors). Category ids map to classes 0..C-1 in ascending id
// order; crowd regions (iscrowd) are not trained on; images without boxes are kept (negatives).
#include "datasets/coco_detection.h"
#include "datasets/detection_dataset.h"

#include <filesystem>
#include <map>
#include <vector>

namespace vss {

class CocoImageDataset : public DetectionDataset {
 public:
  // Images are <image_root>/<file_name>; a missing image is an error naming it (checked up front).
  CocoImageDataset(const std::filesystem::path& instances, const std::filesystem::path& image_root);
  int64_t size() const override { return static_cast<int64_t>(instances_.images.size()); }
  DetSample sample(int64_t index) const override;
  int64_t num_classes() const override { return static_cast<int64_t>(instances_.categories.size()); }
  const coco::Instances& instances() const { return instances_; }

 private:
  coco::Instances instances_;
  std::filesystem::path root_;
  std::vector<std::vector<size_t>> per_image_;  // annotation indices of each image
  std::map<int64_t, int64_t> class_of_;         // category id -> class
};

}  // namespace vss
