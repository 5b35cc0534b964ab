#pragma once
// Class colours for segmentation masks and the colour overlay drawn on the input image
// (mmseg's SegLocalVisualizer: colours in RGB order, blended with weight alpha).
#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace vss::seg {

struct Palette {
  std::vector<std::array<uint8_t, 3>> colours;  // RGB, one per class
  std::vector<std::string> classes;             // optional class names
};

// Reads a palette with at least `num_classes` colours (error naming the file otherwise):
//   YAML: {palette: [[R, G, B], ...], classes: [names]} (mmseg's METAINFO; classes optional);
//   .txt: one colour per line, "R G B" or "R, G, B" (brackets allowed), '#' comments.
Palette load_palette(const std::string& path, int64_t num_classes);

// The PASCAL VOC colour map (bit-interleaved class index): 0 black, 1 (128,0,0), 2 (0,128,0), ...
Palette default_palette(int64_t num_classes);

// [H, W] class map -> [H, W, 3] uint8 colours; classes without a colour (ignore_index) are black.
at::Tensor colourize(const at::Tensor& mask, const Palette& palette);

// image * (1 - alpha) + colourize(mask) * alpha, truncated to uint8 as mmseg's visualizer does.
// `image` is [H, W, 3] uint8 RGB of the mask's size.
at::Tensor overlay(const at::Tensor& image, const at::Tensor& mask, const Palette& palette, double alpha = 0.5);

}  // namespace vss::seg
