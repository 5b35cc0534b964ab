#include "heads/seg/seg_metrics.h"

#include "core/error.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace vss::seg {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Pixel counts of each class 0..K-1 among `values` (others are not counted, as torch.histc
// with min 0, max K-1 does for integer values).
std::vector<int64_t> class_histogram(const at::Tensor& values, int64_t K) {
  const at::Tensor in_range = values.masked_select((values >= 0).logical_and(values < K));
  const at::Tensor counts = at::bincount(in_range, {}, K);
  return {counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + K};
}

double ratio(double num, double den) { return den == 0 ? kNaN : num / den; }

double nanmean(const std::vector<double>& v) {
  double sum = 0;
  int64_t n = 0;
  for (double x : v)
    if (!std::isnan(x)) sum += x, ++n;
  return n == 0 ? kNaN : sum / static_cast<double>(n);
}

std::string percent(double x) {
  if (std::isnan(x)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", 100.0 * x);
  return buf;
}

nlohmann::json number(double x) { return std::isnan(x) ? nlohmann::json(nullptr) : nlohmann::json(x); }

}  // namespace

SegMetric::SegMetric(int64_t num_classes, int64_t ignore_index)
    : num_classes_(num_classes), ignore_index_(ignore_index) {
  if (num_classes < 1) throw Error("SegMetric: num_classes must be >= 1, got " + std::to_string(num_classes));
  intersect_.assign(num_classes, 0);
  pred_.assign(num_classes, 0);
  label_.assign(num_classes, 0);
}

void SegMetric::add(const at::Tensor& pred, const at::Tensor& label) {
  if (pred.sizes() != label.sizes() || pred.dim() < 2 || pred.dim() > 3)
    throw Error("SegMetric::add: prediction " + shape_to_string(pred.sizes().vec()) + " and label " +
                shape_to_string(label.sizes().vec()) + " must be equal [H, W] or [B, H, W] maps");
  if (at::isFloatingType(pred.scalar_type()) || at::isFloatingType(label.scalar_type()))
    throw Error("SegMetric::add: prediction and label must be integer class maps");
  const at::Tensor p = pred.to(at::kCPU, at::kLong).reshape(-1);
  const at::Tensor l = label.to(at::kCPU, at::kLong).reshape(-1);
  const at::Tensor keep = l != ignore_index_;
  const at::Tensor pk = p.masked_select(keep), lk = l.masked_select(keep);
  const auto inter = class_histogram(pk.masked_select(pk == lk), num_classes_);
  const auto area_pred = class_histogram(pk, num_classes_);
  const auto area_label = class_histogram(lk, num_classes_);
  for (int64_t c = 0; c < num_classes_; ++c) {
    intersect_[c] += inter[c];
    pred_[c] += area_pred[c];
    label_[c] += area_label[c];
  }
}

void SegMetric::merge(const SegMetric& other) {
  if (other.num_classes_ != num_classes_)
    throw Error("SegMetric::merge: " + std::to_string(other.num_classes_) + " classes vs " +
                std::to_string(num_classes_));
  for (int64_t c = 0; c < num_classes_; ++c) {
    intersect_[c] += other.intersect_[c];
    pred_[c] += other.pred_[c];
    label_[c] += other.label_[c];
  }
}

SegScores SegMetric::compute() const {
  SegScores s;
  s.area_intersect = intersect_;
  s.area_pred = pred_;
  s.area_label = label_;
  int64_t total_intersect = 0, total_label = 0;
  for (int64_t c = 0; c < num_classes_; ++c) {
    const double I = static_cast<double>(intersect_[c]), P = static_cast<double>(pred_[c]),
                 L = static_cast<double>(label_[c]);
    s.area_union.push_back(pred_[c] + label_[c] - intersect_[c]);
    s.iou.push_back(ratio(I, P + L - I));
    s.acc.push_back(ratio(I, L));
    s.dice.push_back(ratio(2 * I, P + L));
    s.precision.push_back(ratio(I, P));
    s.recall.push_back(ratio(I, L));
    // mmseg's f_score(precision, recall) with beta 1: NaN when either is NaN, and also when
    // both are 0 (a class predicted and present but never overlapping), unlike Dice.
    const double pr = s.precision.back(), re = s.recall.back();
    s.fscore.push_back(std::isnan(pr) || std::isnan(re) ? kNaN : ratio(2 * pr * re, pr + re));
    total_intersect += intersect_[c];
    total_label += label_[c];
  }
  s.aacc = ratio(static_cast<double>(total_intersect), static_cast<double>(total_label));
  s.miou = nanmean(s.iou);
  s.macc = nanmean(s.acc);
  s.mdice = nanmean(s.dice);
  s.mfscore = nanmean(s.fscore);
  s.mprecision = nanmean(s.precision);
  s.mrecall = nanmean(s.recall);
  return s;
}

nlohmann::json summary_json(const SegScores& s) {
  return {{"aAcc", number(s.aacc)},       {"mIoU", number(s.miou)},         {"mAcc", number(s.macc)},
          {"mDice", number(s.mdice)},     {"mFscore", number(s.mfscore)},   {"mPrecision", number(s.mprecision)},
          {"mRecall", number(s.mrecall)}};
}

nlohmann::json scores_json(const SegScores& s, const std::vector<std::string>& class_names) {
  nlohmann::json out = summary_json(s);
  nlohmann::json classes = nlohmann::json::array();
  for (size_t c = 0; c < s.iou.size(); ++c)
    classes.push_back({{"class", c},
                       {"name", c < class_names.size() ? class_names[c] : std::to_string(c)},
                       {"IoU", number(s.iou[c])},
                       {"Acc", number(s.acc[c])},
                       {"Dice", number(s.dice[c])},
                       {"Fscore", number(s.fscore[c])},
                       {"Precision", number(s.precision[c])},
                       {"Recall", number(s.recall[c])}});
  out["classes"] = std::move(classes);
  return out;
}

std::string scores_table(const SegScores& s, const std::vector<std::string>& class_names) {
  size_t name_width = 5;
  for (size_t c = 0; c < s.iou.size(); ++c)
    name_width = std::max(name_width, c < class_names.size() ? class_names[c].size() : std::to_string(c).size());
  const int w = static_cast<int>(name_width);
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%-*s %7s %7s %7s %7s %9s %7s\n", w, "Class", "IoU", "Acc", "Dice", "Fscore",
                "Precision", "Recall");
  out += line;
  for (size_t c = 0; c < s.iou.size(); ++c) {
    const std::string name = c < class_names.size() ? class_names[c] : std::to_string(c);
    std::snprintf(line, sizeof line, "%-*s %7s %7s %7s %7s %9s %7s\n", w, name.c_str(), percent(s.iou[c]).c_str(),
                  percent(s.acc[c]).c_str(), percent(s.dice[c]).c_str(), percent(s.fscore[c]).c_str(),
                  percent(s.precision[c]).c_str(), percent(s.recall[c]).c_str());
    out += line;
  }
  std::snprintf(line, sizeof line, "\n%7s %7s %7s %7s %7s %10s %7s\n", "aAcc", "mIoU", "mAcc", "mDice", "mFscore",
                "mPrecision", "mRecall");
  out += line;
  std::snprintf(line, sizeof line, "%7s %7s %7s %7s %7s %10s %7s\n", percent(s.aacc).c_str(), percent(s.miou).c_str(),
                percent(s.macc).c_str(), percent(s.mdice).c_str(), percent(s.mfscore).c_str(),
                percent(s.mprecision).c_str(), percent(s.mrecall).c_str());
  out += line;
  return out;
}

}  // namespace vss::seg
