#pragma once
// Segmentation files on disk: input images and label maps (one class id per pixel), read with
// the conventions of mmseg's LoadImageFromFile / LoadAnnotations and checked, so a bad file is
// a one-line error naming it instead of a silently wrong score.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

namespace vss {

// What read_seg_image converted (callers may warn once).
struct SegImageInfo {
  bool had_alpha = false;  // RGBA / grey+alpha: the alpha channel was dropped (not composited)
  bool was_grey = false;   // one channel: repeated to RGB
  bool was_16bit = false;  // scaled to 8 bits: round(v / 257)
};

// Any image (grey, grey+alpha, RGB, RGBA; 8 or 16 bit) -> [3, H, W] uint8 RGB.
at::Tensor read_seg_image(const std::string& path, SegImageInfo* info = nullptr);

// A label / prediction PNG as stored -> [H, W] int64. One channel (8 or 16 bit), or several
// equal channels (a grey map saved as RGB; alpha ignored). A colour image (e.g. a palette
// PNG, which the codec expands to RGB) is an error: index maps are needed. *is_16bit tells
// the stored depth.
at::Tensor read_index_map(const std::string& path, bool* is_16bit = nullptr);

// How stored label values become class ids (mmseg's LoadAnnotations):
// - reduce_zero_label (ADE20K): 0 ("other") -> ignore_index, v -> v - 1, 255 stays 255;
// - binary (0/255 masks of lesion / medical sets): v >= 128 (8-bit; >= 32768 for 16-bit) -> 1,
//   else 0, so JPEG-compressed masks work; a mask whose values are all 0 or 1 is taken as is.
// Then every value must be a class in [0, num_classes) or ignore_index: anything else is an
// error naming the file, the stored value and a pixel holding it.
struct LabelOptions {
  int64_t num_classes = 0;
  int64_t ignore_index = 255;
  bool reduce_zero_label = false;
  bool binary = false;
};

// stored [H, W] int64 -> class ids [H, W] int64; `what` names the source in errors.
at::Tensor map_labels(const at::Tensor& stored, const LabelOptions& options, const std::string& what,
                      bool is_16bit = false);
at::Tensor read_label_map(const std::string& path, const LabelOptions& options);

// Error naming both files unless image [C, H, W] and label [H, W] have the same H, W.
void check_same_size(const std::string& image_path, const at::Tensor& image, const std::string& label_path,
                     const at::Tensor& label);

}  // namespace vss
