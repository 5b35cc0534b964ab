#include "heads/change/change_metrics.h"

#include "core/error.h"

#include <torch/torch.h>

namespace vss::change {
namespace {

double ratio(double num, double den) { return den == 0 ? 0.0 : num / den; }

double f1_of(double precision, double recall) { return ratio(2 * precision * recall, precision + recall); }

// The first value of `t` where `ok` is false (callers know there is one).
int64_t first_bad_value(const at::Tensor& t, const at::Tensor& ok) {
  return t.masked_select(ok.logical_not()).flatten()[0].item<int64_t>();
}

}  // namespace

ConfusionMatrix& ConfusionMatrix::operator+=(const ConfusionMatrix& o) {
  tn += o.tn, fp += o.fp, fn += o.fn, tp += o.tp;
  return *this;
}

ConfusionMatrix confusion_matrix(const at::Tensor& prediction, const at::Tensor& label, const std::string& what,
                                 int64_t ignore_index) {
  if (prediction.sizes() != label.sizes())
    throw Error(what + ": prediction shape " + shape_to_string(prediction.sizes().vec()) +
                " differs from label shape " + shape_to_string(label.sizes().vec()));
  const auto pred = prediction.to(torch::kCPU, torch::kInt64).flatten();
  const auto lab = label.to(torch::kCPU, torch::kInt64).flatten();
  const auto pred_ok = pred.eq(0).logical_or(pred.eq(1));
  if (!pred_ok.all().item<bool>())
    throw Error(what + ": prediction holds value " + std::to_string(first_bad_value(pred, pred_ok)) +
                " (expected 0 or 1)");
  const auto valid = lab.eq(0).logical_or(lab.eq(1));
  const auto lab_ok = valid.logical_or(lab.eq(ignore_index));
  if (!lab_ok.all().item<bool>())
    throw Error(what + ": label holds value " + std::to_string(first_bad_value(lab, lab_ok)) + " (expected 0, 1 or " +
                std::to_string(ignore_index) + ")");
  // bincount of 2·label + prediction over the valid pixels: [tn, fp, fn, tp].
  const auto bins = torch::bincount(lab.masked_select(valid) * 2 + pred.masked_select(valid), {}, 4);
  const auto* c = bins.data_ptr<int64_t>();
  return {c[0], c[1], c[2], c[3]};
}

ChangeMetrics change_metrics(const ConfusionMatrix& cm) {
  ChangeMetrics m;
  m.counts = cm;
  const double tp = static_cast<double>(cm.tp), tn = static_cast<double>(cm.tn);
  const double fp = static_cast<double>(cm.fp), fn = static_cast<double>(cm.fn);
  const double n = tp + tn + fp + fn;
  // Class 1's true positives are TP; class 0's are TN (its "false positives" are FN).
  const std::array<double, 2> hit{tn, tp}, predicted{tn + fn, tp + fp}, actual{tn + fp, tp + fn};
  for (int k = 0; k < 2; ++k) {
    m.precision_k[k] = ratio(hit[k], predicted[k]);
    m.recall_k[k] = ratio(hit[k], actual[k]);
    m.f1_k[k] = f1_of(m.precision_k[k], m.recall_k[k]);
    m.iou_k[k] = ratio(hit[k], predicted[k] + actual[k] - hit[k]);
  }
  m.precision = m.precision_k[1], m.recall = m.recall_k[1], m.f1 = m.f1_k[1], m.iou = m.iou_k[1];
  m.miou = (m.iou_k[0] + m.iou_k[1]) / 2;
  m.mf1 = (m.f1_k[0] + m.f1_k[1]) / 2;
  m.oa = ratio(tp + tn, n);
  const double pe = ratio(predicted[1] * actual[1] + predicted[0] * actual[0], n * n);
  m.kappa = ratio(m.oa - pe, 1 - pe);
  return m;
}

}  // namespace vss::change
