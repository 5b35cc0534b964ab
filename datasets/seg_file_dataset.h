#pragma once
// A segmentation data set of (image file, label file) pairs, whatever layout found them
// (datasets/ade20k_folders.h, datasets/image_mask_folders.h): sample i reads both files
// (datasets/seg_files.h conversions and checks) and checks that their sizes agree.
#include "datasets/seg_dataset.h"
#include "datasets/seg_files.h"

#include <string>
#include <vector>

namespace vss {

struct SegFilePair {
  std::string name;   // the image's path below its folder, without the suffix
  std::string image;  // path of the image
  std::string label;  // path of its label map
};

class SegFileDataset : public SegDataset {
 public:
  SegFileDataset(std::vector<SegFilePair> pairs, LabelOptions labels);
  int64_t size() const override { return static_cast<int64_t>(pairs_.size()); }
  int64_t num_classes() const override { return labels_.num_classes; }
  SegSample sample(int64_t index) const override;
  const std::vector<SegFilePair>& pairs() const { return pairs_; }
  const LabelOptions& label_options() const { return labels_; }

 private:
  std::vector<SegFilePair> pairs_;
  LabelOptions labels_;
};

}  // namespace vss
