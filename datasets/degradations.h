#pragma once
// The degradations restoration inputs are made with, as BasicSR / KAIR / SwinIR make their
// test sets and training pairs (specs/conventions.md §2):
//   bicubic xS  LR = MATLAB imresize(GTmod, 1/S, 'bicubic') (antialiased), rounded
//   noise σ     x + N(0, σ/255) on the [0, 1] float image, not clipped (KAIR / SwinIR)
//   JPEG q      encode at quality q and decode (BasicSR's add_jpg_compression, cv2 codec)
// Images are [H, W, C] uint8 / uint16 as core/image_io returns them.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

namespace vss {

class Config;

// BasicSR's mod_crop (the GTmod test sets): the top-left part whose sides are multiples of
// `scale`. An image smaller than `scale` on a side is a vss::Error naming its size.
at::Tensor mod_crop(const at::Tensor& image, int64_t scale);

// The LR image of an SR pair: mod_crop, then MATLAB bicubic by 1/scale, rounded back to the
// image's integer type (as MATLAB's imresize of a uint8 image).
at::Tensor bicubic_downsample(const at::Tensor& image, int64_t scale);
// MATLAB bicubic enlargement by `scale` of an integer image, rounded (baselines, alpha).
at::Tensor bicubic_upsample(const at::Tensor& image, int64_t scale);

// x (float, any shape, [0, 1]) + Gaussian noise of standard deviation sigma / 255, drawn from
// torch's CPU generator seeded with `seed` (same seed, same noise, on every machine).
at::Tensor add_gaussian_noise(const at::Tensor& x, double sigma, uint64_t seed);

// JPEG round trip at quality 1..100 of a uint8 [H, W, 1|3] image (core/image_io's codec).
at::Tensor jpeg_compress(const at::Tensor& image, int quality);

// A degradation as YAML names it: {type: bicubic, scale: S} | {type: noise, sigma: σ} |
// {type: jpeg, quality: q}. The scale of the pair it makes is `scale` (1 unless bicubic).
struct Degradation {
  enum class Kind { kBicubic, kNoise, kJpeg };
  Kind kind = Kind::kBicubic;
  int64_t scale = 1;
  double sigma = 0;
  int quality = 0;
  std::string describe() const;  // "bicubic x2", "noise sigma 25", "jpeg q 40"
};
// Unknown types / keys and out-of-range values are errors naming the key.
Degradation degradation_from_config(const Config& node);

}  // namespace vss
