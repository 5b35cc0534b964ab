#pragma once
// Binary change detection metrics as the change detection papers report them
// (conventions.md §3.4): one 2x2 confusion matrix accumulated over the whole test set (never
// averaged per image), then precision / recall / F1 / IoU of the changed class (1), overall
// accuracy and Cohen's kappa. The formulas are eps-free: a ratio whose denominator is 0
// (e.g. precision when nothing is predicted as changed) is 0. BIT_CD's per-class values and
// their means (`iou_0`, `F1_1`, `miou`, `mf1`, ...) are given too, also eps-free (BIT adds
// float32 eps to each denominator, a difference below 1e-6 for non-empty classes).
#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <string>

namespace vss::change {

constexpr int64_t kIgnoreIndex = 255;

struct ConfusionMatrix {
  int64_t tn = 0, fp = 0, fn = 0, tp = 0;  // rows: label 0/1, columns: prediction 0/1
  int64_t total() const { return tn + fp + fn + tp; }
  ConfusionMatrix& operator+=(const ConfusionMatrix& other);
};

// Counts pixels of `prediction` (values 0/1) against `label` (values 0/1, pixels equal to
// `ignore_index` skipped); any integer dtype, same shape. Other values are a vss::Error
// naming the value and `what` (e.g. the label file).
ConfusionMatrix confusion_matrix(const at::Tensor& prediction, const at::Tensor& label,
                                 const std::string& what = "label", int64_t ignore_index = kIgnoreIndex);

struct ChangeMetrics {
  // Changed class (1): what papers quote.
  double precision = 0, recall = 0, f1 = 0, iou = 0;
  double oa = 0;     // (TP + TN) / N
  double kappa = 0;  // (OA - PE) / (1 - PE); 0 when PE = 1
  // Per class k = 0 (unchanged), 1 (changed), and their means, as BIT_CD's cm2score.
  std::array<double, 2> precision_k{}, recall_k{}, f1_k{}, iou_k{};
  double miou = 0, mf1 = 0;
  ConfusionMatrix counts;
};

ChangeMetrics change_metrics(const ConfusionMatrix& cm);

}  // namespace vss::change
