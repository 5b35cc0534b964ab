#include "heads/change/lovasz_softmax.h"

#include "core/error.h"

#include <torch/torch.h>

namespace vss::change {
namespace {

// Gradient of the Lovász extension of the Jaccard loss at the sorted foreground indicator:
// J_i = 1 − |fg ∩ top-i| / |fg ∪ top-i| over the first i sorted pixels, then differences.
at::Tensor lovasz_grad(const at::Tensor& fg_sorted) {
  const auto total = fg_sorted.sum();
  const auto intersection = total - fg_sorted.cumsum(0);
  const auto union_ = total + (1 - fg_sorted).cumsum(0);
  const auto jaccard = 1 - intersection / union_;
  if (jaccard.size(0) < 2) return jaccard;
  return torch::cat({jaccard.slice(0, 0, 1), jaccard.slice(0, 1) - jaccard.slice(0, 0, -1)});
}

}  // namespace

at::Tensor lovasz_softmax(const at::Tensor& probabilities, const at::Tensor& labels, int64_t ignore_index) {
  if (probabilities.dim() != 4 || labels.dim() != 3 || labels.size(0) != probabilities.size(0) ||
      labels.size(1) != probabilities.size(2) || labels.size(2) != probabilities.size(3))
    throw Error("lovasz_softmax: probabilities " + shape_to_string(probabilities.sizes().vec()) +
                " and labels " + shape_to_string(labels.sizes().vec()) + " are not [B, C, H, W] and [B, H, W]");
  const int64_t C = probabilities.size(1);
  at::Tensor probs = probabilities.movedim(1, -1).reshape({-1, C});
  if (probs.scalar_type() != torch::kDouble) probs = probs.to(torch::kFloat);
  const auto flat_labels = labels.reshape({-1});
  const auto keep = flat_labels.ne(ignore_index);
  probs = probs.index({keep});
  const auto kept_labels = flat_labels.index({keep});
  std::vector<at::Tensor> losses;
  for (int64_t c = 0; c < C; ++c) {
    const auto fg = kept_labels.eq(c).to(probs.scalar_type());
    if (fg.sum().item<double>() == 0) continue;  // 'present' classes only
    const auto errors = (fg - probs.select(1, c)).abs();
    const auto [sorted, order] = errors.sort(0, /*descending=*/true);
    losses.push_back(torch::dot(sorted, lovasz_grad(fg.index_select(0, order))));
  }
  if (losses.empty()) return probabilities.sum() * 0;  // keeps the graph (and the dtype)
  return torch::stack(losses).mean();
}

}  // namespace vss::change
