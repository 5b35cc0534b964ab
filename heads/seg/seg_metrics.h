#pragma once
// Semantic-segmentation scores exactly as mmseg's IoUMetric computes them (conventions.md §3.2):
// per image, pixels whose label is `ignore_index` are dropped and three histograms over the
// classes 0..K-1 are counted (intersection, prediction, label; values outside that range are
// silently not counted); the histograms are summed over all images first, and only then turned
// into per-class ratios. 0/0 gives NaN (a class absent from both prediction and label), and the
// means are nanmeans, so such classes are excluded.
#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace vss::seg {

// Fractions in [0, 1] (mmseg prints them x100); NaN where the ratio is 0/0.
struct SegScores {
  std::vector<int64_t> area_intersect, area_union, area_pred, area_label;  // pixel counts per class
  std::vector<double> iou, acc, dice, fscore, precision, recall;            // per class
  double aacc = 0, miou = 0, macc = 0, mdice = 0, mfscore = 0, mprecision = 0, mrecall = 0;
};

class SegMetric {
 public:
  explicit SegMetric(int64_t num_classes, int64_t ignore_index = 255);

  // Integer class maps [H, W] or [B, H, W] of equal shape, any device.
  void add(const at::Tensor& pred, const at::Tensor& label);
  // Adds another metric's counts (same num_classes): per-image metrics -> data-set metric.
  void merge(const SegMetric& other);
  SegScores compute() const;

  int64_t num_classes() const { return num_classes_; }
  int64_t ignore_index() const { return ignore_index_; }

 private:
  int64_t num_classes_, ignore_index_;
  std::vector<int64_t> intersect_, pred_, label_;
};

// {"aAcc", "mIoU", "mAcc", "mDice", "mFscore", "mPrecision", "mRecall"} as fractions (NaN -> null).
nlohmann::json summary_json(const SegScores& s);
// Summary plus "classes": [{"class", "name", "IoU", "Acc", "Dice", "Fscore", "Precision", "Recall"}].
nlohmann::json scores_json(const SegScores& s, const std::vector<std::string>& class_names);
// mmseg's two tables (per class, then the summary), in percent with 2 decimals, NaN as "nan".
// Class names default to the indices where `class_names` is shorter.
std::string scores_table(const SegScores& s, const std::vector<std::string>& class_names);

}  // namespace vss::seg
