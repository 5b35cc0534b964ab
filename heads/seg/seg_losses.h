#pragma once
// Segmentation losses on logits [B, K, H, W] and labels [B, H, W] (int64, class ids or
// ignore_index), and their weighted sum as the YAML lists it:
//   loss: [{type: cross_entropy, weight: 1.0}, {type: dice, weight: 1.0}]
// (default: cross-entropy alone, weight 1).
//
// cross_entropy: softmax cross-entropy, pixels labelled ignore_index excluded. The mean is
//   over the non-ignored pixels (torch's F.cross_entropy(ignore_index=...), mmseg's
//   avg_non_ignore=True); `avg_non_ignore: false` divides by all pixels instead (mmseg's
//   default). A batch with no labelled pixel gives 0 (torch gives NaN).
// dice: mmseg's DiceLoss (use_sigmoid false, naive_dice false, eps 1e-3) with ignored pixels
//   removed from every sum. Per image n, with p = softmax(logits), t = one-hot(labels) and
//   the sums over classes and non-ignored pixels:
//     loss_n = 1 - 2·Σ p·t / ((Σ p² + eps) + (Σ t² + eps)),   loss = mean_n loss_n.
//   (mmseg drops ignored pixels from t only, so their p² still counts.)
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace vss {
class Config;
}

namespace vss::seg {

at::Tensor seg_cross_entropy(const at::Tensor& logits, const at::Tensor& labels, int64_t ignore_index,
                             bool avg_non_ignore = true);
at::Tensor seg_dice_loss(const at::Tensor& logits, const at::Tensor& labels, int64_t ignore_index,
                         double eps = 1e-3);

// Error naming the first label that is neither a class in [0, num_classes) nor ignore_index.
void check_labels(const at::Tensor& labels, int64_t num_classes, int64_t ignore_index);

class SegLoss {
 public:
  struct Term {
    std::string type;  // cross_entropy | dice
    double weight = 1.0;
    bool avg_non_ignore = true;  // cross_entropy
    double eps = 1e-3;           // dice
  };

  SegLoss(std::vector<Term> terms, int64_t ignore_index);
  // `loss:` list node (see above).
  static SegLoss from_config(const Config& node, int64_t ignore_index);

  at::Tensor operator()(const at::Tensor& logits, const at::Tensor& labels) const;  // Σ weight·term
  const std::vector<Term>& terms() const { return terms_; }

 private:
  std::vector<Term> terms_;
  int64_t ignore_index_;
};

}  // namespace vss::seg
