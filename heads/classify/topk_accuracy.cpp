#include "heads/classify/topk_accuracy.h"

#include "core/error.h"

#include <ATen/ATen.h>

#include <algorithm>

namespace vss {

TopkAccuracy::TopkAccuracy(int64_t num_classes)
    : class_count_(static_cast<size_t>(num_classes), 0), class_correct_(static_cast<size_t>(num_classes), 0) {
  if (num_classes < 1) throw Error("top-k accuracy: num_classes must be >= 1, got " + std::to_string(num_classes));
}

void TopkAccuracy::add(const at::Tensor& logits, const at::Tensor& labels) {
  const int64_t C = num_classes();
  if (logits.dim() != 2 || logits.size(1) != C || labels.dim() != 1 || labels.size(0) != logits.size(0))
    throw Error("top-k accuracy: expected logits [B, " + std::to_string(C) + "] and labels [B], got " +
                shape_to_string(logits.sizes().vec()) + " and " + shape_to_string(labels.sizes().vec()));
  if (labels.numel() == 0) return;
  const at::Tensor y = labels.to(at::kCPU, at::kLong);
  const int64_t lo = y.min().item<int64_t>(), hi = y.max().item<int64_t>();
  if (lo < 0 || hi >= C)
    throw Error("top-k accuracy: label " + std::to_string(lo < 0 ? lo : hi) + " is outside 0.." + std::to_string(C - 1));
  const at::Tensor top = std::get<1>(logits.detach().to(at::kCPU, at::kFloat).topk(std::min<int64_t>(5, C), 1));
  const at::Tensor hit = top.eq(y.unsqueeze(1));
  const at::Tensor hit1 = hit.select(1, 0);
  count_ += y.size(0);
  top1_ += hit1.sum().item<int64_t>();
  top5_ += hit.any(1).sum().item<int64_t>();
  const at::Tensor per_class = at::bincount(y, {}, C).contiguous();
  const at::Tensor per_class_hit = at::bincount(y.masked_select(hit1), {}, C).contiguous();
  const int64_t* n = per_class.data_ptr<int64_t>();
  const int64_t* k = per_class_hit.data_ptr<int64_t>();
  for (size_t c = 0; c < class_count_.size(); ++c) {
    class_count_[c] += n[c];
    class_correct_[c] += k[c];
  }
}

double TopkAccuracy::top1() const { return count_ ? static_cast<double>(top1_) / static_cast<double>(count_) : 0.0; }
double TopkAccuracy::top5() const { return count_ ? static_cast<double>(top5_) / static_cast<double>(count_) : 0.0; }

std::optional<double> TopkAccuracy::class_top1(int64_t c) const {
  const auto i = static_cast<size_t>(c);
  if (class_count_[i] == 0) return std::nullopt;
  return static_cast<double>(class_correct_[i]) / static_cast<double>(class_count_[i]);
}

}  // namespace vss
