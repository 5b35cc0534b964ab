#pragma once
// Training augmentations shared by the task readers. Geometric ones are drawn once and then
// applied identically to every aligned tensor of a sample (image + mask, both dates + change
// label, LR + HR with the scale), which is what "joint" / "paired" means in mmseg, BasicSR
// and BIT. Tensors are [..., H, W] (any leading dims, any dtype); randomness comes from a
// caller-seeded engine, so a sample's augmentation is reproducible.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <random>

namespace vss {

using AugmentRng = std::mt19937_64;

struct CropBox {
  int64_t top = 0, left = 0, height = 0, width = 0;
};

// A uniformly placed crop of at most (height, width) inside an H x W image (the whole axis
// when it is shorter: pad afterwards if a fixed size is needed).
CropBox random_crop_box(int64_t H, int64_t W, int64_t height, int64_t width, AugmentRng& rng);
// Crops the last two dims; `scale` multiplies the box (the HR side of an LR crop).
at::Tensor crop(const at::Tensor& t, const CropBox& box, int64_t scale = 1);

// mmseg RandomCrop(cat_max_ratio): retries (up to 10) while one class covers more than
// `cat_max_ratio` of the crop, ignoring `ignore_index`; returns the last box tried.
CropBox random_crop_box_for_mask(const at::Tensor& mask, int64_t height, int64_t width, double cat_max_ratio,
                                 int64_t ignore_index, AugmentRng& rng);

// Dihedral transform: horizontal flip, vertical flip, then a transpose (BasicSR's
// `augment(hflip, rotation)`: 8 outcomes; transpose swaps H and W).
struct FlipRotate {
  bool hflip = false, vflip = false, transpose = false;
};
FlipRotate random_flip_rotate(bool hflip, bool vflip, bool rotate, AugmentRng& rng);
at::Tensor apply(const at::Tensor& t, const FlipRotate& f);

// Pads the last two dims at the bottom / right up to (height, width) with `value`
// (mmseg pads images with 0 and masks with 255).
at::Tensor pad_to(const at::Tensor& t, int64_t height, int64_t width, double value);

// Resizes [C, H, W] images bilinearly (align_corners false) or [H, W] / [1, H, W] masks by
// nearest neighbour, as mmseg's RandomResize does for images and segmentation maps.
at::Tensor resize_image(const at::Tensor& chw, int64_t height, int64_t width);
at::Tensor resize_mask(const at::Tensor& hw, int64_t height, int64_t width);

// mmseg PhotoMetricDistortion on a float [3, H, W] image in [0, 255]: each with probability
// 1/2 — brightness delta in [-32, 32], contrast x[0.5, 1.5] (before or after the HSV steps),
// saturation x[0.5, 1.5], hue shift in [-18, 18] degrees/2 (OpenCV's 0..180 hue); clipped
// to [0, 255].
at::Tensor photometric_distortion(const at::Tensor& image, AugmentRng& rng);

}  // namespace vss
