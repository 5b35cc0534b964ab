#pragma once
// An images/ + masks/ folder pair, as binary and medical sets ship (ISIC, Kvasir-SEG, BUSI,
// and `vss-segment make-data`):
//   ROOT/images[/<split>]/<name>.<jpg|png|...>
//   ROOT/masks[/<split>]/<name><mask_suffix>.<png|...>   (ISIC: mask_suffix "_segmentation")
// Files pair by name; an image without a mask is an error naming both folders; masks without
// an image are left out. Masks hold class ids, or 0/255 with `labels.binary`
// (datasets/seg_files.h). Neither folder is searched recursively.
#include "datasets/seg_file_dataset.h"

#include <filesystem>
#include <string>

namespace vss {

struct ImageMaskLayout {
  std::filesystem::path root;
  std::string split;                              // "" = ROOT/images and ROOT/masks themselves
  std::string images_dir = "images", masks_dir = "masks";
  std::string mask_suffix;                        // appended to the image name to get the mask's
  LabelOptions labels{2, 255, /*reduce_zero_label=*/false, /*binary=*/false};
};

SegFileDataset open_image_mask_folders(const ImageMaskLayout& layout);

}  // namespace vss
