#pragma once
// The mmseg / ADE20K layout (mmseg's BaseSegDataset as ADE20KDataset configures it):
//   ROOT/images/<split>/**/<name><img_suffix>        e.g. images/training/ADE_train_00000001.jpg
//   ROOT/annotations/<split>/**/<name><seg_map_suffix>   annotations/training/ADE_train_00000001.png
// Images are found recursively by suffix and sorted; each needs the label of the same relative
// name (an image without one is an error naming both paths; labels without an image are not
// read, as in mmseg). ADE20K stores 0 = "other" and 1..150: reduce_zero_label (the default
// here) makes 0 the ignore index and shifts the rest to 0..149.
#include "datasets/seg_file_dataset.h"

#include <filesystem>
#include <string>

namespace vss {

struct Ade20kLayout {
  std::filesystem::path root;
  std::string split = "training";  // training | validation (ADEChallengeData2016)
  std::string img_dir, ann_dir;     // below root; default images/<split>, annotations/<split>
  std::string img_suffix = ".jpg", seg_map_suffix = ".png";
  LabelOptions labels{150, 255, /*reduce_zero_label=*/true, /*binary=*/false};
};

SegFileDataset open_ade20k(const Ade20kLayout& layout);

}  // namespace vss
