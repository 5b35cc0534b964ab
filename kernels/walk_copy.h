#pragma once
// Flatten and merge for scan directions that walk the whole map by rows or by columns, forward
// or reversed (VMamba's cross scan): vss::walk_flatten writes every direction's sequence from
// the map, vss::walk_merge sums the sequences back onto it. Each is the other's adjoint (the
// autograd in scans/walk_flatten.cpp uses one as the other's backward). CPU: copies, flips and
// adds (the reference); CUDA: one pass each, through shared-memory tiles so that the column
// walks (transposes) still read and write whole lines.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace vss {

// A direction that walks the map row by row (h·W + w order) or column by column (w·H + h),
// forward or backward. The values are the ops' `walks` codes.
enum class Walk : int8_t { kRows, kColumns, kRowsReversed, kColumnsReversed };

// x [B, C, H, W] -> [B, K, C, H·W]: direction k's sequence, K = walks.size() >= 1.
at::Tensor walk_flatten(const at::Tensor& x, const std::vector<Walk>& walks);

// y [B, K, C, H·W] -> [B, C, H, W]: the sum over k of sequence k put back on the map.
at::Tensor walk_merge(const at::Tensor& y, const std::vector<Walk>& walks, int64_t H, int64_t W);

}  // namespace vss
