#include "kernels/walk_copy_checks.h"

#include <c10/util/Exception.h>

namespace vss {

std::vector<Walk> checked_walks(const char* op, at::IntArrayRef codes) {
  TORCH_CHECK(!codes.empty(), "vss::", op, ": walks is empty");
  std::vector<Walk> walks;
  for (const int64_t c : codes) {
    TORCH_CHECK(c >= 0 && c <= static_cast<int64_t>(Walk::kColumnsReversed), "vss::", op,
                ": walk code ", c, " is none of 0 rows, 1 columns, 2 rows reversed, 3 columns reversed");
    walks.push_back(static_cast<Walk>(c));
  }
  return walks;
}

std::vector<Walk> check_walk_flatten_args(const at::Tensor& x, at::IntArrayRef walks) {
  TORCH_CHECK(x.defined() && x.dim() == 4, "vss::walk_flatten: expected x [B, C, H, W], got ",
              x.defined() ? x.sizes() : at::IntArrayRef{});
  return checked_walks("walk_flatten", walks);
}

std::vector<Walk> check_walk_merge_args(const at::Tensor& y, at::IntArrayRef walks, int64_t H, int64_t W) {
  std::vector<Walk> decoded = checked_walks("walk_merge", walks);
  TORCH_CHECK(H >= 1 && W >= 1, "vss::walk_merge: H and W must be >= 1, got ", H, "x", W);
  const auto K = static_cast<int64_t>(decoded.size());
  TORCH_CHECK(y.defined() && y.dim() == 4 && y.size(1) == K && y.size(3) == H * W,
              "vss::walk_merge: expected y [B, ", K, ", C, ", H * W, "], got ",
              y.defined() ? y.sizes() : at::IntArrayRef{});
  return decoded;
}

}  // namespace vss
