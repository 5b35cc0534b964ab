#pragma once
// Flatten and merge for plans whose directions all walk rows or columns (ScanPlan::walks, e.g.
// VMamba's cross scan): the K sequences are the map, its transpose and their reversals, so
// flattening and merging are one pass each over the data (the ops of kernels/walk_copy.h), where
// flatten_merge.h (the oracle these are tested against) gathers and scatter-adds through the
// plan's index. Each is the other's adjoint and serves as its backward (autograd functions).
#include "scans/scan_plan.h"

namespace vss {

// x [B, C, H, W] -> [B, K, C, H·W], direction k's sequence; plan.walks must not be empty.
at::Tensor flatten_walks(const at::Tensor& x, const ScanPlan& plan);

// y [B, K, C, H·W] -> [B, C, H, W]: the sum over directions of each sequence put back on the map.
at::Tensor merge_walks(const at::Tensor& y, const ScanPlan& plan);

}  // namespace vss
