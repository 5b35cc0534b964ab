#include "datasets/seg_file_dataset.h"

#include "core/error.h"

namespace vss {

SegFileDataset::SegFileDataset(std::vector<SegFilePair> pairs, LabelOptions labels)
    : pairs_(std::move(pairs)), labels_(labels) {
  if (labels_.num_classes < 1) throw Error("segmentation data: num_classes must be >= 1");
}

SegSample SegFileDataset::sample(int64_t index) const {
  if (index < 0 || index >= size())
    throw Error("segmentation data: index " + std::to_string(index) + " out of range [0, " + std::to_string(size()) + ")");
  const SegFilePair& p = pairs_[static_cast<size_t>(index)];
  SegSample s{read_seg_image(p.image), read_label_map(p.label, labels_), p.name};
  check_same_size(p.image, s.image, p.label, s.label);
  return s;
}

}  // namespace vss
