#pragma once
// A semantic-segmentation data set as the training task and the apps see it: sample i is an
// RGB image and its class map of the same size, whatever the layout on disk (or a generator).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

namespace vss {

struct SegSample {
  at::Tensor image;  // [3, H, W] uint8 RGB
  at::Tensor label;  // [H, W] int64: class ids in [0, num_classes) or the ignore index
  std::string name;  // file stem / scene name, for messages and outputs
};

class SegDataset {
 public:
  virtual ~SegDataset() = default;
  virtual int64_t size() const = 0;
  virtual int64_t num_classes() const = 0;
  // Safe to call from any thread. Errors (unreadable file, bad label) name the file.
  virtual SegSample sample(int64_t index) const = 0;
};

}  // namespace vss
