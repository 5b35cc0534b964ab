// CPU kernels of vss::walk_flatten / vss::walk_merge (kernels/walk_copy.h), the reference the
// CUDA kernels are held to: each direction's sequence seen as the map it walks, so flattening
// is a copy, transposing copy or flip, and merging the sum of those views.
#include "kernels/walk_copy_checks.h"

#include <torch/library.h>
#include <torch/torch.h>

namespace vss {
namespace {

bool by_columns(Walk w) { return w == Walk::kColumns || w == Walk::kColumnsReversed; }
bool reversed(Walk w) { return w == Walk::kRowsReversed || w == Walk::kColumnsReversed; }

// A walk's sequence [B, C, L] seen as the map it walks: [B, C, H, W] by rows, [B, C, W, H]
// (the transpose) by columns; a reversed walk is that map flipped in both dims.
at::Tensor as_map(const at::Tensor& sequence, Walk w, int64_t H, int64_t W) {
  const int64_t B = sequence.size(0), C = sequence.size(1);
  return by_columns(w) ? sequence.view({B, C, W, H}) : sequence.view({B, C, H, W});
}

at::Tensor walk_flatten_cpu(const at::Tensor& x, at::IntArrayRef codes) {
  const std::vector<Walk> walks = check_walk_flatten_args(x, codes);
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const auto K = static_cast<int64_t>(walks.size());
  at::Tensor out = at::empty({B, K, C, H * W}, x.options());
  const at::Tensor columns = x.transpose(2, 3);
  for (int64_t k = 0; k < K; ++k) {
    const Walk w = walks[static_cast<size_t>(k)];
    at::Tensor dst = as_map(out.select(1, k), w, H, W);
    const at::Tensor& src = by_columns(w) ? columns : x;
    if (reversed(w)) at::flip_out(dst, src, {2, 3});
    else dst.copy_(src);
  }
  return out;
}

// The row walks summed in row layout, the column walks in column layout, then the latter
// added through a transpose.
at::Tensor walk_merge_cpu(const at::Tensor& y, at::IntArrayRef codes, int64_t H, int64_t W) {
  const std::vector<Walk> walks = check_walk_merge_args(y, codes, H, W);
  at::Tensor rows, columns;
  for (int64_t k = 0; k < y.size(1); ++k) {
    const Walk w = walks[static_cast<size_t>(k)];
    const at::Tensor map = as_map(y.select(1, k), w, H, W);
    at::Tensor& sum = by_columns(w) ? columns : rows;
    if (!sum.defined()) sum = reversed(w) ? at::flip(map, {2, 3}) : map.clone(at::MemoryFormat::Contiguous);
    else if (reversed(w)) sum.add_(at::flip(map, {2, 3}));
    else sum.add_(map);
  }
  if (!rows.defined()) return columns.transpose(2, 3).contiguous();
  if (columns.defined()) rows.add_(columns.transpose(2, 3));
  return rows;
}

}  // namespace

TORCH_LIBRARY_IMPL(vss, CPU, m) {
  m.impl("walk_flatten", &walk_flatten_cpu);
  m.impl("walk_merge", &walk_merge_cpu);
}

}  // namespace vss
