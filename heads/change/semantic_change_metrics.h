#pragma once
// Semantic change detection metrics as the SECOND papers report them (specs/scd.md §5,
// Bi-SRNet's / MambaCD's `SCDD_eval_all`, the 7-class protocol): ONE K×K confusion matrix
// H[pred][gt] accumulated over the whole data set, both date maps of every pair fed to it
// (class 0 = no change), then
//   binary table  TN = H[0][0], TP = Σ H[1:,1:], FN = rowsum₀ − H[0][0], FP = colsum₀ − H[0][0];
//                 IoU_nc = TN / (TN + FN + FP), IoU_c = TP / (TP + FN + FP), mIoU = their mean;
//   kappa_n0      Cohen's kappa of H with H[0][0] set to 0;
//   SeK           kappa_n0 · exp(IoU_c − 1);
//   P_scd, R_scd  trace(H[1:,1:]) over the pixels predicted / truly changed; F_scd their
//                 harmonic mean;
//   OA            the mean over maps of each map's pixel accuracy (not pooled: the two differ
//                 when maps differ in size).
// Eps-free: a ratio whose denominator is 0 is 0 (kappa too when pe = 1, as the reference).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace vss::change {

struct SemanticConfusion {
  int64_t classes = 0;
  std::vector<int64_t> counts;  // counts[pred * classes + gt]
  double accuracy_sum = 0;      // Σ over maps of each map's pixel accuracy
  int64_t maps = 0;

  explicit SemanticConfusion(int64_t num_classes = 7);
  int64_t at(int64_t pred, int64_t gt) const { return counts[static_cast<size_t>(pred * classes + gt)]; }
  SemanticConfusion& operator+=(const SemanticConfusion& other);
  // One date's map: prediction and label [H, W], any integer dtype, values in 0..classes-1;
  // another value is a vss::Error naming `what` (the file), the value and where it is.
  void add_map(const at::Tensor& prediction, const at::Tensor& label, const std::string& what);
};

struct SemanticChangeMetrics {
  double oa = 0, miou = 0, sek = 0, f_scd = 0;
  double iou_nc = 0, iou_c = 0, kappa_n0 = 0, p_scd = 0, r_scd = 0;
};

SemanticChangeMetrics semantic_change_metrics(const SemanticConfusion& confusion);

}  // namespace vss::change
