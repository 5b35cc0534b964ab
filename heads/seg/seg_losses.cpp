#include "heads/seg/seg_losses.h"

#include "core/config.h"
#include "core/error.h"

#include <torch/torch.h>

namespace vss::seg {

void check_labels(const at::Tensor& labels, int64_t num_classes, int64_t ignore_index) {
  const at::Tensor bad = labels.ne(ignore_index).logical_and(labels.lt(0).logical_or(labels.ge(num_classes)));
  if (!bad.any().item<bool>()) return;
  const int64_t value = labels.masked_select(bad)[0].item<int64_t>();
  throw Error("segmentation labels: value " + std::to_string(value) + " is neither a class in [0, " +
              std::to_string(num_classes) + ") nor ignore_index " + std::to_string(ignore_index));
}

at::Tensor seg_cross_entropy(const at::Tensor& logits, const at::Tensor& labels, int64_t ignore_index,
                             bool avg_non_ignore) {
  namespace F = torch::nn::functional;
  const at::Tensor per_pixel =
      F::cross_entropy(logits, labels, F::CrossEntropyFuncOptions().ignore_index(ignore_index).reduction(torch::kNone));
  const int64_t count = avg_non_ignore ? labels.ne(ignore_index).sum().item<int64_t>() : labels.numel();
  return per_pixel.sum() / static_cast<double>(std::max<int64_t>(count, 1));
}

at::Tensor seg_dice_loss(const at::Tensor& logits, const at::Tensor& labels, int64_t ignore_index, double eps) {
  const int64_t K = logits.size(1);
  const at::Tensor valid = labels.ne(ignore_index).unsqueeze(1).to(logits.scalar_type());  // [B, 1, H, W]
  const at::Tensor p = torch::softmax(logits, 1) * valid;
  const at::Tensor t = torch::one_hot(labels.masked_fill(labels.eq(ignore_index), 0), K)
                           .permute({0, 3, 1, 2})
                           .to(logits.scalar_type()) * valid;
  const at::Tensor a = (p * t).flatten(1).sum(1);
  const at::Tensor b = (p * p).flatten(1).sum(1) + eps;
  const at::Tensor c = (t * t).flatten(1).sum(1) + eps;
  return (1.0 - 2.0 * a / (b + c)).mean();
}

SegLoss::SegLoss(std::vector<Term> terms, int64_t ignore_index) : terms_(std::move(terms)), ignore_index_(ignore_index) {}

SegLoss SegLoss::from_config(const Config& node, int64_t ignore_index) {
  if (!node.is_list() || node.size() == 0)
    node.fail("must be a non-empty list such as [{type: cross_entropy, weight: 1.0}, {type: dice, weight: 1.0}]");
  std::vector<Term> terms;
  for (size_t i = 0; i < node.size(); ++i) {
    const Config item = node.at(i);
    Term t;
    t.type = item.get<std::string>("type");
    if (t.type == "cross_entropy") {
      item.check_keys({"type", "weight", "avg_non_ignore"});
      t.avg_non_ignore = item.get_or<bool>("avg_non_ignore", true);
    } else if (t.type == "dice") {
      item.check_keys({"type", "weight", "eps"});
      t.eps = item.get_or<double>("eps", t.eps);
      if (!(t.eps > 0)) item["eps"].fail("must be positive");
    } else {
      item["type"].fail("unknown loss '" + t.type + "' (known: cross_entropy, dice)");
    }
    t.weight = item.get_or<double>("weight", 1.0);
    if (!(t.weight >= 0)) item["weight"].fail("must be >= 0");
    terms.push_back(t);
  }
  return SegLoss(std::move(terms), ignore_index);
}

at::Tensor SegLoss::operator()(const at::Tensor& logits, const at::Tensor& labels) const {
  if (logits.dim() != 4 || labels.dim() != 3 || labels.size(0) != logits.size(0) || labels.size(1) != logits.size(2) ||
      labels.size(2) != logits.size(3))
    throw Error("segmentation loss: logits " + shape_to_string(logits.sizes().vec()) + " and labels " +
                shape_to_string(labels.sizes().vec()) + " do not match ([B, K, H, W] and [B, H, W])");
  check_labels(labels, logits.size(1), ignore_index_);
  at::Tensor total;
  for (const auto& t : terms_) {
    const at::Tensor value = t.type == "dice" ? seg_dice_loss(logits, labels, ignore_index_, t.eps)
                                              : seg_cross_entropy(logits, labels, ignore_index_, t.avg_non_ignore);
    total = total.defined() ? total + t.weight * value : t.weight * value;
  }
  return total;
}

}  // namespace vss::seg
