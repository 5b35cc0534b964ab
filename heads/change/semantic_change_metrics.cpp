#include "heads/change/semantic_change_metrics.h"

#include "core/error.h"

#include <torch/torch.h>

#include <cmath>

namespace vss::change {
namespace {

double fraction(double num, double den) { return den == 0 ? 0.0 : num / den; }

void check_class_values(const at::Tensor& t, int64_t classes, const std::string& role, const std::string& what) {
  const auto bad = t.lt(0).logical_or(t.ge(classes));
  if (!bad.any().item<bool>()) return;
  const auto where = at::nonzero(bad)[0];
  const int64_t row = where[0].item<int64_t>(), col = where[1].item<int64_t>();
  throw Error(what + ": " + role + " value " + std::to_string(t[row][col].item<int64_t>()) + " at row " +
              std::to_string(row) + ", column " + std::to_string(col) + " (expected 0.." + std::to_string(classes - 1) +
              ")");
}

// Cohen's kappa of a square matrix (rows and columns in the same class order).
double cohen_kappa(const std::vector<double>& h, int64_t k) {
  double n = 0, diagonal = 0, chance = 0;
  for (int64_t i = 0; i < k; ++i) {
    double row = 0, col = 0;
    for (int64_t j = 0; j < k; ++j) row += h[i * k + j], col += h[j * k + i];
    chance += row * col;
    diagonal += h[i * k + i];
    n += row;
  }
  if (n == 0) return 0;
  const double po = diagonal / n, pe = chance / (n * n);
  return pe == 1 ? 0 : (po - pe) / (1 - pe);
}

}  // namespace

SemanticConfusion::SemanticConfusion(int64_t num_classes)
    : classes(num_classes), counts(static_cast<size_t>(num_classes * num_classes), 0) {
  if (num_classes < 2) throw Error("semantic change metrics: need at least 2 classes, got " + std::to_string(num_classes));
}

SemanticConfusion& SemanticConfusion::operator+=(const SemanticConfusion& o) {
  if (o.classes != classes)
    throw Error("semantic change metrics: cannot add a " + std::to_string(o.classes) + "-class matrix to a " +
                std::to_string(classes) + "-class one");
  for (size_t i = 0; i < counts.size(); ++i) counts[i] += o.counts[i];
  accuracy_sum += o.accuracy_sum;
  maps += o.maps;
  return *this;
}

void SemanticConfusion::add_map(const at::Tensor& prediction, const at::Tensor& label, const std::string& what) {
  if (prediction.dim() != 2 || prediction.sizes() != label.sizes())
    throw Error(what + ": prediction " + shape_to_string(prediction.sizes().vec()) + " and label " +
                shape_to_string(label.sizes().vec()) + " are not two [H, W] maps of one size");
  const auto pred = prediction.to(torch::kCPU, torch::kInt64);
  const auto gt = label.to(torch::kCPU, torch::kInt64);
  check_class_values(pred, classes, "prediction", what);
  check_class_values(gt, classes, "label", what);
  const auto bins = torch::bincount((pred * classes + gt).flatten(), {}, classes * classes);
  const auto* c = bins.data_ptr<int64_t>();
  for (size_t i = 0; i < counts.size(); ++i) counts[i] += c[i];
  accuracy_sum += fraction(static_cast<double>(pred.eq(gt).sum().item<int64_t>()), static_cast<double>(pred.numel()));
  ++maps;
}

SemanticChangeMetrics semantic_change_metrics(const SemanticConfusion& h) {
  const int64_t k = h.classes;
  std::vector<double> n0(h.counts.begin(), h.counts.end());  // H with H[0][0] = 0
  n0[0] = 0;
  double total = 0, pred_unchanged = 0, gt_unchanged = 0, changed_hits = 0, changed_both = 0;
  for (int64_t p = 0; p < k; ++p)
    for (int64_t g = 0; g < k; ++g) {
      const auto v = static_cast<double>(h.at(p, g));
      total += v;
      if (p == 0) pred_unchanged += v;
      if (g == 0) gt_unchanged += v;
      if (p > 0 && g > 0) changed_both += v;
      if (p > 0 && p == g) changed_hits += v;
    }
  const double tn = static_cast<double>(h.at(0, 0));
  const double missed = pred_unchanged - tn, false_alarm = gt_unchanged - tn;
  SemanticChangeMetrics m;
  m.iou_nc = fraction(tn, tn + missed + false_alarm);
  m.iou_c = fraction(changed_both, changed_both + missed + false_alarm);
  m.miou = (m.iou_nc + m.iou_c) / 2;
  m.kappa_n0 = cohen_kappa(n0, k);
  m.sek = m.kappa_n0 * std::exp(m.iou_c - 1);
  m.p_scd = fraction(changed_hits, total - pred_unchanged);
  m.r_scd = fraction(changed_hits, total - gt_unchanged);
  m.f_scd = fraction(2 * m.p_scd * m.r_scd, m.p_scd + m.r_scd);
  m.oa = fraction(h.accuracy_sum, static_cast<double>(h.maps));
  return m;
}

}  // namespace vss::change
