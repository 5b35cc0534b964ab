#pragma once
// mmseg's IoUMetric scores of index masks, shared by the segmentation run (--gt) and `eval`:
// per-image and combined counts, and the class names and colours their tables print.
#include "core/config.h"
#include "heads/seg/palette.h"
#include "heads/seg/seg_metrics.h"

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vss_segment {

// Class names: the palette file's, else the generated scenes' when the config trains on them.
std::vector<std::string> class_names(const vss::seg::Palette& palette, const vss::Config* cfg);

// The --palette file's colours, else the default (VOC) palette for num_classes.
vss::seg::Palette read_palette(const std::string& path, int64_t num_classes);

// A scored prediction: per-image counts and the data set's.
struct Scores {
  explicit Scores(int64_t num_classes, int64_t ignore_index) : combined(num_classes, ignore_index) {}
  void add(const std::string& name, const at::Tensor& pred, const at::Tensor& label);
  std::map<std::string, nlohmann::json> images;
  vss::seg::SegMetric combined;
};

}  // namespace vss_segment
