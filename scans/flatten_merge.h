#pragma once
// Reference (unfused) flatten and merge through a scan plan: the oracle the fused kernel is
// checked against, and what a layer uses when it merges the directions itself (MaIR,
// LocalMamba, specs/scans.md §8). Built from gather / scatter_add, so autograd works on any
// device; the plan's index is moved to the input's device when needed.
#include "scans/scan_plan.h"

namespace vss {

class ScanStrategy;

// x [B, C, H, W] -> [B, K, C, L]: direction k's sequence; padding steps are 0.
at::Tensor flatten(const at::Tensor& x, const ScanPlan& plan);
// Same, with the plan taken from cached_plan(strategy, H, W, x's device).
at::Tensor flatten(const at::Tensor& x, const ScanStrategy& strategy);

// Per-direction image-layout inputs t [B, K, C, H, W] -> [B, K, C, L], direction k
// gathering t[:, k] (e.g. Δ, B, C computed per direction in image layout); a size-1
// direction dimension is shared by all K.
at::Tensor flatten_directions(const at::Tensor& t, const ScanPlan& plan);

// y [B, K, C, L] -> [B, K, C, H, W]: each direction's outputs put back at their tokens
// (padding steps dropped), not yet combined.
at::Tensor unflatten(const at::Tensor& y, const ScanPlan& plan);

// y [B, K, C, L] -> [B, C, H, W]: the sum over directions of unflatten(y), times
// merge_weight when the plan has one.
at::Tensor merge(const at::Tensor& y, const ScanPlan& plan);
at::Tensor merge(const at::Tensor& y, const ScanStrategy& strategy, int64_t H, int64_t W);

}  // namespace vss
