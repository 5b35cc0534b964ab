#pragma once
// Classification accuracy over a data set, as timm's validate() reports it: top-1 and top-5
// (k capped at the number of classes, timm's `maxk = min(max(topk), C)`) as fractions of all
// images, plus each class's top-1 accuracy (its recall; none for a class without images).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace vss {

class TopkAccuracy {
 public:
  explicit TopkAccuracy(int64_t num_classes);
  // logits [B, C] (any device / dtype), labels [B] in [0, C); a mismatch is a vss::Error
  // naming both shapes, a label out of range one naming it.
  void add(const at::Tensor& logits, const at::Tensor& labels);

  int64_t count() const { return count_; }
  double top1() const;
  double top5() const;
  int64_t num_classes() const { return static_cast<int64_t>(class_count_.size()); }
  int64_t class_count(int64_t c) const { return class_count_[static_cast<size_t>(c)]; }
  std::optional<double> class_top1(int64_t c) const;

 private:
  int64_t count_ = 0, top1_ = 0, top5_ = 0;
  std::vector<int64_t> class_count_, class_correct_;
};

}  // namespace vss
