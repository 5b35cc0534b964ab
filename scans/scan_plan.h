#pragma once
// A scan plan: the K token orders one strategy gives for one H×W map.
#include "kernels/walk_copy.h"  // Walk: a direction that walks rows or columns (the cross scan has all four)

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace vss {


struct ScanPlan {
  int64_t H = 0, W = 0;
  int64_t K = 0;  // number of directions
  int64_t L = 0;  // sequence length (H·W, or more when a strategy pads with -1 steps)
  at::Tensor index;         // [K, L] int32, CPU: token id r·W + c visited at each step, -1 = padding
  at::Tensor merge_weight;  // [H·W] float32, or undefined when every token is visited once per direction
  // Per direction, the length of its own sequence when directions differ in length (shorter
  // ones are padded at the end with -1 steps to stack into [K, L]); empty when all are L.
  std::vector<int64_t> lengths;
  // Per direction, its walk when every direction is one (scans/walk_flatten.h flattens such a
  // plan by copies); empty otherwise.
  std::vector<Walk> walks;
};

}  // namespace vss
